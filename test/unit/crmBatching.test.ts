import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { keyText, mergeDuplicateKeys } from '../../nodes/shared/core/mergeDuplicates';
import { isRowLevelRefusal, writeIsolatingRefusals } from '../../nodes/shared/core/upsertBisection';
import type { RowOutcome } from '../../nodes/shared/core/upsertPlan';
import { SqlServerRequestError } from '../../nodes/shared/transport/sqlServerError';

describe('merging duplicate keys inside a batch', () => {
	it('keeps the last entry of each key and records which later entry superseded each earlier one', () => {
		const entries = [
			{ key: 1, name: 'a' },
			{ key: 2, name: 'b' },
			{ key: 1, name: 'c' },
			{ key: 3, name: 'd' },
			{ key: 1, name: 'e' },
		];
		const { winners, supersededBy } = mergeDuplicateKeys(entries, (entry) => keyText([entry.key]));
		assert.deepEqual(winners.map((entry) => entry.name), ['b', 'd', 'e']);
		assert.deepEqual([...supersededBy], [[0, 4], [2, 4]]);
	});

	it('compares keys exactly and typed: 1 and "1", or "abc" and "ABC", are different keys', () => {
		const { winners } = mergeDuplicateKeys([[1], ['1'], ['abc'], ['ABC'], [1, null], [1, null]], keyText);
		assert.equal(winners.length, 5);
	});

	it('leaves a batch without duplicates as it is', () => {
		const entries = Array.from({ length: 50 }, (_, index) => index);
		const { winners, supersededBy } = mergeDuplicateKeys(entries, (entry) => String(entry));
		assert.deepEqual(winners, entries);
		assert.equal(supersededBy.size, 0);
	});
});

const refusal = (number: number) => new SqlServerRequestError({ number, message: `Refused with ${number}` }, 'crm:1433, database CRM', 1);

/** A batch write as SQL Server does it: all or nothing; refused (as a foreign key violation) when it holds a poisoned row. */
function atomicWriter(poisoned: Set<number>) {
	const written: number[] = [];
	let calls = 0;
	const write = async (rows: Array<{ ordinal: number }>): Promise<RowOutcome[]> => {
		calls++;
		if (rows.some((row) => poisoned.has(row.ordinal))) throw refusal(547);
		written.push(...rows.map((row) => row.ordinal));
		return rows.map((row) => ({ ordinal: row.ordinal, status: 'inserted' }));
	};
	return { write, written, calls: () => calls };
}

const rowsOf = (count: number) => Array.from({ length: count }, (_, ordinal) => ({ ordinal }));

describe('isolating the rows SQL Server refuses', () => {
	it('writes 999 of 1,000 rows around one poisoned row, in at most 1 + 2·log2(n) round trips', async () => {
		for (const poison of [0, 1, 499, 500, 998, 999]) {
			const writer = atomicWriter(new Set([poison]));
			const outcomes = await writeIsolatingRefusals(rowsOf(1000), writer.write);
			assert.equal(outcomes.length, 1000);
			const failed = outcomes.filter((outcome) => outcome.status === 'failed');
			assert.deepEqual(failed.map((outcome) => outcome.ordinal), [poison]);
			assert.equal(failed[0].error?.number, 547);
			assert.equal(failed[0].error?.message, 'Refused with 547 (SQL Server error 547)', 'the server and database are not repeated per row');
			assert.equal(writer.written.length, 999);
			assert.ok(writer.calls() <= 1 + 2 * Math.ceil(Math.log2(1000)), `${writer.calls()} round trips`);
		}
	});

	it('finds every poisoned row and writes all the others once', async () => {
		const poisoned = new Set([3, 4, 250, 777]);
		const writer = atomicWriter(poisoned);
		const outcomes = await writeIsolatingRefusals(rowsOf(1000), writer.write);
		assert.deepEqual(outcomes.filter((outcome) => outcome.status === 'failed').map((outcome) => outcome.ordinal), [...poisoned]);
		assert.deepEqual(new Set(writer.written).size, 996);
		assert.equal(writer.written.length, 996);
		assert.deepEqual(outcomes.map((outcome) => outcome.ordinal), rowsOf(1000).map((row) => row.ordinal));
	});

	it('costs one round trip when nothing is refused', async () => {
		const writer = atomicWriter(new Set());
		await writeIsolatingRefusals(rowsOf(1000), writer.write);
		assert.equal(writer.calls(), 1);
	});

	it('does not split for an error no row causes (missing table, permission, lost connection): it is thrown as it is', async () => {
		for (const number of [208, 229, 18456]) {
			let calls = 0;
			await assert.rejects(
				writeIsolatingRefusals(rowsOf(100), async () => {
					calls++;
					throw refusal(number);
				}),
				(error: Error & { number?: number }) => error.number === number,
			);
			assert.equal(calls, 1);
		}
	});

	it('treats data errors and trigger refusals as row-level, nothing else', () => {
		for (const number of [515, 547, 2601, 2627, 2628, 8152, 245, 8114, 8115, 8672, 50000, 50123]) assert.equal(isRowLevelRefusal(refusal(number)), true, String(number));
		for (const number of [208, 207, 229, 1205, 4060]) assert.equal(isRowLevelRefusal(refusal(number)), false, String(number));
		assert.equal(isRowLevelRefusal(new Error('no number')), false);
	});

	it('judges a request by ALL its errors: a trigger\'s RAISERROR then 3609 (ROLLBACK in the trigger) is a row refusal; a permission error beside one is not', () => {
		const request = (...errors: Array<{ number?: number; message: string }>) =>
			new SqlServerRequestError({ ...errors[errors.length - 1], errors }, 'CRM', 1);
		const rolledBack = { number: 3609, message: 'The transaction ended in the trigger. The batch has been aborted.' };
		assert.equal(isRowLevelRefusal(request({ number: 50000, message: 'Blocked customer' }, rolledBack)), true);
		assert.equal(isRowLevelRefusal(request(rolledBack)), true, 'a trigger that rolls back without a word refuses too');
		assert.equal(isRowLevelRefusal(request({ number: 229, message: 'The INSERT permission was denied' }, { number: 50000, message: 'x' })), false);
	});
});
