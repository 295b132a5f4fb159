/**
 * Why one batch size misses a CPU target that another meets: a run's CPU read as work per row plus work per batch.
 * Two runs over the same rows at two batch sizes give both parts (two equations, two unknowns); n8n's own per-node-run
 * work, which no change inside a node's execute() can remove, is measured apart (our CPU less execute()).
 */

export interface CpuAtBatchSize {
	batchSize: number;
	/** Our CPU per row, in µs. */
	microsPerRow: number;
}

export interface BatchCostSplit {
	/** What the run costs for each row whatever the batch size, in µs. */
	perRowMicros: number;
	/** What each batch costs whatever its rows, in µs. */
	perBatchMicros: number;
}

/** Solves microsPerRow = perRow + perBatch / batchSize from two batch sizes; undefined when they are the same. */
export function splitPerRowAndPerBatch(smaller: CpuAtBatchSize, larger: CpuAtBatchSize): BatchCostSplit | undefined {
	const inverseGap = 1 / smaller.batchSize - 1 / larger.batchSize;
	if (inverseGap === 0) return undefined;
	const perBatchMicros = (smaller.microsPerRow - larger.microsPerRow) / inverseGap;
	return { perRowMicros: larger.microsPerRow - perBatchMicros / larger.batchSize, perBatchMicros };
}

/**
 * The most a batch may cost for `batchSize` to meet `targetMicrosPerRow`, given the per-row part: negative when the
 * per-row part alone is over the target.
 */
export function perBatchBudgetMicros(split: BatchCostSplit, batchSize: number, targetMicrosPerRow: number): number {
	return (targetMicrosPerRow - split.perRowMicros) * batchSize;
}
