/**
 * MERGE refuses a source in which two rows match the same target row (error 8672), and a batch that upserts
 * a key and then deletes it must end deleted. So rows with the same key are merged before the write: the last
 * one wins, and each earlier one is recorded as superseded by it, to be reported with the winner's outcome
 * (it was not lost: a later version of the same row was written in its place).
 */
export interface MergedBatch<T> {
	/** One entry per distinct key, each the last of its key, in the order of the input. */
	winners: T[];
	/** Position in the input of a superseded entry -> position of the entry that replaced it. */
	supersededBy: Map<number, number>;
}

/**
 * Merges entries with equal `keyOf`, compared as Map keys are (keyText for a key of several values); compare keys
 * exactly, so that a case-sensitive collation never loses a row.
 */
export function mergeDuplicateKeys<T>(entries: T[], keyOf: (entry: T) => unknown): MergedBatch<T> {
	const keys = entries.map(keyOf);
	const lastPosition = new Map<unknown, number>();
	keys.forEach((key, position) => lastPosition.set(key, position));
	const winners: T[] = [];
	const supersededBy = new Map<number, number>();
	entries.forEach((entry, position) => {
		const winner = lastPosition.get(keys[position]) as number;
		if (winner === position) winners.push(entry);
		else supersededBy.set(position, winner);
	});
	return { winners, supersededBy };
}

/** A key's comparison text: the values in order, typed (1 and "1" differ, as an int and a varchar column would). */
export function keyText(values: unknown[]): string {
	return JSON.stringify(values);
}
