/**
 * The benchmark's reading of a CPU miss: per row plus per batch, solved from two batch sizes over the same rows.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { perBatchBudgetMicros, splitPerRowAndPerBatch } from '../bench/batchCost';

describe('benchmark: CPU per row and per batch from two batch sizes', () => {
	it('recovers the two parts a run was made of', () => {
		const perRow = 7.5;
		const perBatch = 2_500;
		const at = (batchSize: number) => ({ batchSize, microsPerRow: perRow + perBatch / batchSize });
		const split = splitPerRowAndPerBatch(at(1_000), at(4_000));
		assert.ok(split);
		assert.ok(Math.abs(split.perRowMicros - perRow) < 1e-9, `per row ${split.perRowMicros}`);
		assert.ok(Math.abs(split.perBatchMicros - perBatch) < 1e-6, `per batch ${split.perBatchMicros}`);
	});

	it('reads 12.2 µs a row at batch 1,000 and 9.9 at 4,000 as about 9.1 µs a row and 3.1 ms a batch', () => {
		const split = splitPerRowAndPerBatch({ batchSize: 1_000, microsPerRow: 12.2 }, { batchSize: 4_000, microsPerRow: 9.9 });
		assert.ok(split);
		assert.equal(split.perRowMicros.toFixed(2), '9.13');
		assert.equal(Math.round(split.perBatchMicros), 3_067);
	});

	it('gives no split for one batch size twice', () => {
		assert.equal(splitPerRowAndPerBatch({ batchSize: 1_000, microsPerRow: 12 }, { batchSize: 1_000, microsPerRow: 11 }), undefined);
	});

	it('says what a batch may cost to meet a target, and a negative budget when the rows alone miss it', () => {
		assert.equal(perBatchBudgetMicros({ perRowMicros: 9, perBatchMicros: 3_000 }, 1_000, 10), 1_000);
		assert.ok(perBatchBudgetMicros({ perRowMicros: 10.5, perBatchMicros: 3_000 }, 1_000, 10) < 0);
	});
});
