/**
 * The Contracting read's bounds and terms as tables of (stored rows, watermark) → rows read: the legacy integer
 * time terms, rows of one transaction sharing a Change Tracking version, the rowversion bound of an open
 * transaction, and Change Tracking's minimum valid version. Run against the in-memory change source in `npm test`
 * (test/unit/readOutcomes.test.ts) and against the SQL Server adapter when MSSQL_URL is set
 * (test/integration/outcomes.test.ts), so the T-SQL's terms are tested by the rows they select.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { ChangeSource } from '../../nodes/Contracting/stores/changeSource';
import type { Cursor } from '../../nodes/shared/core/cursor';
import { beginningCursor } from '../../nodes/shared/core/cursor';
import type { MarkerSpec } from '../../nodes/shared/core/markers';
import { ChangeSourceError } from '../../nodes/shared/core/markers';
import { parseQualifiedName, quoteQualifiedName } from '../../nodes/shared/core/identifiers';
import type { SqlTransport } from '../../nodes/shared/transport/types';
import type { MemoryChangeSource, Row, TableDefinition } from '../support/memory/memoryChangeSource';
import { sourceSpecFor } from '../support/sourceSpec';
import { readEverything, sqlServerChangeSourceHarness } from './changeSource.contract';

/** What the rows of this table need of a database besides the change source. */
export interface ReadOutcomeHarness {
	source: ChangeSource;
	createTable(definition: TableDefinition): Promise<void>;
	insert(table: string, rows: Row[]): Promise<void>;
	/** Appends "!" to the Name of every row, in one statement (one transaction). */
	touchAllInOneTransaction(table: string): Promise<void>;
	/** Appends "!" to one customer's Name in a transaction that stays open while `during` runs. */
	whileTouchUncommitted(table: string, customerNo: number, during: () => Promise<void>): Promise<void>;
	/** Makes Change Tracking forget every version so far; absent where cleanup cannot be forced. */
	expireChangeTracking?(table: string): Promise<void>;
}

export function memoryReadOutcomeHarness(source: MemoryChangeSource): ReadOutcomeHarness {
	const touch = (table: string, customerNo: number) => {
		const row = source.table(table).rows.find((candidate) => candidate.CustomerNo === customerNo) as Row;
		source.table(table).update({ CustomerNo: customerNo }, { Name: `${String(row.Name)}!` });
		return source.table(table).rows.find((candidate) => candidate.CustomerNo === customerNo) as Row;
	};
	return {
		source,
		createTable: async (definition) => void source.define(definition),
		insert: async (table, rows) => source.table(table).insert(...rows),
		touchAllInOneTransaction: async (table) =>
			source.inOneTransaction(() => source.table(table).rows.map((row) => row.CustomerNo as number).forEach((no) => touch(table, no))),
		whileTouchUncommitted: async (table, customerNo, during) => {
			source.oldestActiveRowversion = BigInt(touch(table, customerNo).RowVer as string);
			try {
				await during();
			} finally {
				source.oldestActiveRowversion = undefined;
			}
		},
		expireChangeTracking: async () => {
			source.minValidVersion = source.currentChangeVersion;
		},
	};
}

/** How long the open transaction of whileTouchUncommitted waits for `during` to start on the real server. */
const OPEN_TRANSACTION_START_MS = 500;

export function sqlServerReadOutcomeHarness(transport: SqlTransport): ReadOutcomeHarness {
	const base = sqlServerChangeSourceHarness(transport);
	const name = (table: string) => quoteQualifiedName(parseQualifiedName(table));
	return {
		source: base.source,
		createTable: async (definition) => await base.createTable(definition),
		insert: async (table, rows) => await base.insert(table, rows),
		touchAllInOneTransaction: async (table) => void (await transport.execute({ text: `UPDATE ${name(table)} SET [Name] = [Name] + N'!';`, parameters: [] })),
		whileTouchUncommitted: async (table, customerNo, during) => {
			const open = transport.execute({
				text: `BEGIN TRANSACTION;\nUPDATE ${name(table)} SET [Name] = [Name] + N'!' WHERE [CustomerNo] = @no;\nWAITFOR DELAY '00:00:03';\nCOMMIT TRANSACTION;`,
				parameters: [{ name: 'no', type: { name: 'int' }, value: customerNo }],
			});
			await new Promise((resolve) => setTimeout(resolve, OPEN_TRANSACTION_START_MS));
			try {
				await during();
			} finally {
				await open;
			}
		},
	};
}

const legacyTable = (table: string): TableDefinition => ({
	name: table,
	columns: [{ name: 'CustomerNo', type: 'int', nullable: false }, { name: 'Name', type: 'nvarchar(100)' }, { name: 'ChangeDate', type: 'int' }, { name: 'ChangeTime', type: 'int' }],
	primaryKey: ['CustomerNo'],
});
const trackedTable = (table: string): TableDefinition => ({
	name: table,
	columns: [{ name: 'CustomerNo', type: 'int', nullable: false }, { name: 'Name', type: 'nvarchar(100)' }],
	primaryKey: ['CustomerNo'],
	changeTracking: true,
});
const rowversionTable = (table: string): TableDefinition => ({
	name: table,
	columns: [{ name: 'CustomerNo', type: 'int', nullable: false }, { name: 'Name', type: 'nvarchar(100)' }, { name: 'RowVer', type: 'rowversion' }],
	primaryKey: ['CustomerNo'],
});

const legacyMarker = (timeEncoding: 'hhmmss' | 'hhmm'): MarkerSpec => ({ kind: 'dateAndTime', dateColumn: 'ChangeDate', timeColumn: 'ChangeTime', timeEncoding });
const keysOf = (rows: Array<{ values: Row }>) => rows.map((row) => row.values.CustomerNo);

/** The read's branches these rows reach, each by at least one row (the unit test checks the list is covered). */
export const READ_BRANCHES = [
	'legacy hhmmss: the seconds group, in the keyset value and the marker text',
	'legacy hhmm: the minutes group, seconds 0',
	'Change Tracking: many rows of one version, split across batches',
	'rowversion: the bound below the oldest open transaction',
	'Change Tracking: a watermark older than the minimum valid version is refused',
	'Change Tracking: a watermark at the minimum valid version is read',
] as const;

export function readOutcomeTables(name: string, createHarness: () => Promise<ReadOutcomeHarness>): void {
	let tables = 0;
	const fresh = async (definition: (table: string) => TableDefinition) => {
		const harness = await createHarness();
		const table = `dbo.ReadOutcome${process.pid}x${++tables}`;
		await harness.createTable(definition(table));
		return { harness, table };
	};

	describe(`Contracting read outcome table: ${name}`, () => {
		it(READ_BRANCHES[0], async () => {
			const { harness, table } = await fresh(legacyTable);
			await harness.insert(table, [
				{ CustomerNo: 1, Name: 'a', ChangeDate: 20100604, ChangeTime: 93045 },
				{ CustomerNo: 2, Name: 'b', ChangeDate: 20100604, ChangeTime: 93015 },
				{ CustomerNo: 3, Name: 'c', ChangeDate: 20100604, ChangeTime: 93015 },
			]);
			const spec = sourceSpecFor(table, legacyMarker('hhmmss'));
			const read = await readEverything(harness.source, spec, beginningCursor('dateAndTime'), 1);
			assert.deepEqual(keysOf(read.rows), [2, 3, 1], 'each row once, in the order of its seconds, with a batch of one');
			assert.deepEqual(read.rows.map((row) => row.marker?.slice(0, 19)), ['2010-06-04T09:30:15', '2010-06-04T09:30:15', '2010-06-04T09:30:45']);
			const fromMiddle: Cursor = { kind: 'datetime', marker: '2010-06-04T09:30:15', key: null };
			assert.deepEqual(keysOf((await readEverything(harness.source, spec, fromMiddle, 10)).rows), [2, 3, 1], 'a watermark at :15 reads from :15');
			const afterMiddle: Cursor = { kind: 'datetime', marker: '2010-06-04T09:30:16', key: null };
			assert.deepEqual(keysOf((await readEverything(harness.source, spec, afterMiddle, 10)).rows), [1], 'a watermark at :16 skips :15');
		});

		it(READ_BRANCHES[1], async () => {
			const { harness, table } = await fresh(legacyTable);
			await harness.insert(table, [
				{ CustomerNo: 1, Name: 'a', ChangeDate: 20100604, ChangeTime: 931 },
				{ CustomerNo: 2, Name: 'b', ChangeDate: 20100604, ChangeTime: 930 },
			]);
			const spec = sourceSpecFor(table, legacyMarker('hhmm'));
			const read = await readEverything(harness.source, spec, beginningCursor('dateAndTime'), 1);
			assert.deepEqual(keysOf(read.rows), [2, 1]);
			assert.deepEqual(read.rows.map((row) => row.marker?.slice(0, 19)), ['2010-06-04T09:30:00', '2010-06-04T09:31:00']);
			const withinTheMinute: Cursor = { kind: 'datetime', marker: '2010-06-04T09:30:30', key: null };
			assert.deepEqual(keysOf((await readEverything(harness.source, spec, withinTheMinute, 10)).rows), [2, 1], 'a watermark within a minute reads that whole minute');
			const nextMinute: Cursor = { kind: 'datetime', marker: '2010-06-04T09:31:00', key: null };
			assert.deepEqual(keysOf((await readEverything(harness.source, spec, nextMinute, 10)).rows), [1]);
		});

		it(READ_BRANCHES[2], async () => {
			const { harness, table } = await fresh(trackedTable);
			await harness.insert(table, [1, 2, 3, 4, 5].map((no) => ({ CustomerNo: no, Name: `n${no}` })));
			const spec = sourceSpecFor(table, { kind: 'changeTracking' });
			const first = await readEverything(harness.source, spec, beginningCursor('changeTracking'), 10);
			await harness.touchAllInOneTransaction(table);
			const read = await readEverything(harness.source, spec, first.last, 2);
			assert.deepEqual(keysOf(read.rows), [1, 2, 3, 4, 5], 'every row of the transaction once, in key order');
			assert.deepEqual(read.batches, [2, 2, 1]);
			assert.equal(new Set(read.rows.map((row) => row.marker)).size, 1, 'one version for the whole transaction');
			assert.ok(read.rows.every((row) => row.values.Name === `n${String(row.values.CustomerNo)}!`));
			assert.deepEqual(keysOf((await readEverything(harness.source, spec, read.last, 2)).rows), [], 'and nothing after the last');
		});

		it(READ_BRANCHES[3], async () => {
			const { harness, table } = await fresh(rowversionTable);
			await harness.insert(table, [1, 2, 3].map((no) => ({ CustomerNo: no, Name: `n${no}` })));
			const spec = sourceSpecFor(table, { kind: 'rowversion', column: 'RowVer' });
			const first = await readEverything(harness.source, spec, beginningCursor('rowversion'), 10);
			assert.deepEqual(keysOf(first.rows), [1, 2, 3]);
			let duringTheTransaction: unknown[] = [];
			await harness.whileTouchUncommitted(table, 1, async () => {
				duringTheTransaction = keysOf((await readEverything(harness.source, spec, first.last, 10)).rows);
			});
			assert.deepEqual(duringTheTransaction, [], 'nothing at or after the open transaction is read while it is open');
			assert.deepEqual(keysOf((await readEverything(harness.source, spec, first.last, 10)).rows), [1], 'and it is read once committed');
		});

		it(`${READ_BRANCHES[4]}; ${READ_BRANCHES[5]}`, async (context) => {
			const { harness, table } = await fresh(trackedTable);
			if (!harness.expireChangeTracking) return context.skip('Change Tracking cleanup cannot be forced on this server');
			await harness.insert(table, [{ CustomerNo: 1, Name: 'a' }]);
			const spec = sourceSpecFor(table, { kind: 'changeTracking' });
			const first = await readEverything(harness.source, spec, beginningCursor('changeTracking'), 10);
			await harness.insert(table, [{ CustomerNo: 2, Name: 'b' }]);
			const expired = (await readEverything(harness.source, spec, first.last, 10)).last;
			await harness.expireChangeTracking(table);
			await harness.insert(table, [{ CustomerNo: 3, Name: 'c' }]);
			const plan = await harness.source.describe(spec);
			await assert.rejects(harness.source.openWindow(plan, expired), (error: unknown) => error instanceof ChangeSourceError && /no longer holds the changes/.test(error.message));
			const atTheOldest: Cursor = { ...expired, marker: String(BigInt(expired.marker as string) + 1n), key: null };
			assert.deepEqual(keysOf((await readEverything(harness.source, spec, atTheOldest, 10)).rows), [3]);
		});
	});
}
