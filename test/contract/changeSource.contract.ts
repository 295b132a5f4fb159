/**
 * The meaning of a ChangeSource, as tests: run against the in-memory adapter in `npm test`
 * (test/unit/contractingChangeSource.test.ts) and against the SQL Server adapter in the integration suite.
 * Every scenario makes its own table through the harness, so the suites can share one database.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { ChangeSource } from '../../nodes/Contracting/stores/changeSource';
import { SqlServerChangeSource } from '../../nodes/Contracting/stores/sqlServerChangeSource';
import { UnknownColumnError, UnknownTableError } from '../../nodes/shared/catalog';
import type { SourceRow } from '../../nodes/shared/core/changeQuery';
import type { Cursor } from '../../nodes/shared/core/cursor';
import { beginningCursor } from '../../nodes/shared/core/cursor';
import { parseQualifiedName, quoteIdentifier, quoteQualifiedName } from '../../nodes/shared/core/identifiers';
import type { MarkerSpec, SourceSpec } from '../../nodes/shared/core/markers';
import { ChangeSourceError, isRowversion, isTemporal, typeOf } from '../../nodes/shared/core/markers';
import { sqlTypeText } from '../../nodes/shared/core/sqlTypes';
import type { SqlParameter, SqlTransport } from '../../nodes/shared/transport/types';
import type { ColumnDefinition, Row, TableDefinition } from '../support/memory/memoryChangeSource';
import { catalogColumnOf } from '../support/memory/memoryChangeSource';
import { sourceSpecFor } from '../support/sourceSpec';

export interface ChangeSourceHarness {
	source: ChangeSource;
	/** Creates the table afresh (dropping one of the same name), Change Tracking on when the definition says so. */
	createTable(definition: TableDefinition): Promise<void>;
	/** Values as SQL Server outputs them: date-times as ISO text, numbers as numbers. Rowversion columns are left to the server. */
	insert(table: string, rows: Row[]): Promise<void>;
	update(table: string, key: Row, changes: Row): Promise<void>;
	remove(table: string, key: Row): Promise<void>;
	/** Makes Change Tracking forget every version so far (the retention cleanup); absent where that cannot be forced. */
	expireChangeTracking?(table: string): Promise<void>;
}

/**
 * The harness over a real SQL Server (for the integration suite): tables made with CREATE TABLE from the same
 * definitions, rows written with typed parameters (date-times as text CONVERTed in T-SQL). The database must
 * have Change Tracking enabled (ALTER DATABASE … SET CHANGE_TRACKING = ON) for the Change Tracking scenarios.
 */
export function sqlServerChangeSourceHarness(transport: SqlTransport): ChangeSourceHarness {
	const definitions = new Map<string, TableDefinition>();
	const columnsOf = (table: string) => {
		const definition = definitions.get(table);
		if (!definition) throw new Error(`The harness did not create ${table}`);
		return definition.columns.map((column) => catalogColumnOf(column, definition.primaryKey));
	};
	/** `[column] = value-expression` pieces with their parameters, for the columns a row gives. */
	const assignments = (table: string, row: Row, prefix: string) => {
		const parameters: SqlParameter[] = [];
		const pieces = columnsOf(table)
			.filter((column) => column.name in row && !isRowversion(column))
			.map((column, index) => {
				const name = `${prefix}${index}`;
				const value = row[column.name] as SqlParameter['value'];
				const type = column.sqlType!;
				if (!isTemporal(column)) {
					parameters.push({ name, type, value });
					return { column: quoteIdentifier(column.name), value: `@${name}` };
				}
				parameters.push({ name, type: { name: 'varchar', length: 34 }, value });
				const style = typeOf(column) === 'time' ? '' : ', 126';
				return { column: quoteIdentifier(column.name), value: `CONVERT(${sqlTypeText(type)}, @${name}${style})` };
			});
		return { pieces, parameters };
	};
	const where = (table: string, key: Row) => {
		const { pieces, parameters } = assignments(table, key, 'w');
		return { text: pieces.map((piece) => `${piece.column} = ${piece.value}`).join(' AND '), parameters };
	};
	return {
		source: new SqlServerChangeSource(transport),
		async createTable(definition) {
			const name = quoteQualifiedName(parseQualifiedName(definition.name));
			definitions.set(definition.name, definition);
			const columns = definition.columns.map((column) => `${quoteIdentifier(column.name)} ${column.type} ${column.nullable === false || /rowversion/i.test(column.type) ? 'NOT NULL' : 'NULL'}`);
			if (definition.view) {
				// A view over a heap: no key SQL Server enforces. Rows are inserted through the view.
				const base = quoteQualifiedName(parseQualifiedName(`${definition.name}Base`));
				await transport.execute({
					text: `IF OBJECT_ID(N'${name.replace(/'/g, "''")}', N'V') IS NOT NULL DROP VIEW ${name};\nIF OBJECT_ID(N'${base.replace(/'/g, "''")}', N'U') IS NOT NULL DROP TABLE ${base};\nCREATE TABLE ${base} (${columns.join(', ')});`,
					parameters: [],
				});
				await transport.execute({ text: `CREATE VIEW ${name} AS SELECT ${definition.columns.map((column) => quoteIdentifier(column.name)).join(', ')} FROM ${base};`, parameters: [] });
				return;
			}
			const key = `CONSTRAINT ${quoteIdentifier(`PK_${parseQualifiedName(definition.name).name}`)} PRIMARY KEY (${definition.primaryKey.map(quoteIdentifier).join(', ')})`;
			const tracking = definition.changeTracking ? `\nALTER TABLE ${name} ENABLE CHANGE_TRACKING;` : '';
			await transport.execute({
				text: `IF OBJECT_ID(N'${name.replace(/'/g, "''")}', N'U') IS NOT NULL DROP TABLE ${name};\nCREATE TABLE ${name} (${[...columns, key].join(', ')});${tracking}`,
				parameters: [],
			});
		},
		async insert(table, rows) {
			for (const row of rows) {
				const { pieces, parameters } = assignments(table, row, 'v');
				await transport.execute({
					text: `INSERT INTO ${quoteQualifiedName(parseQualifiedName(table))} (${pieces.map((piece) => piece.column).join(', ')}) VALUES (${pieces.map((piece) => piece.value).join(', ')});`,
					parameters,
				});
			}
		},
		async update(table, key, changes) {
			const set = assignments(table, changes, 's');
			const condition = where(table, key);
			await transport.execute({
				text: `UPDATE ${quoteQualifiedName(parseQualifiedName(table))} SET ${set.pieces.map((piece) => `${piece.column} = ${piece.value}`).join(', ')} WHERE ${condition.text};`,
				parameters: [...set.parameters, ...condition.parameters],
			});
		},
		async remove(table, key) {
			const condition = where(table, key);
			await transport.execute({ text: `DELETE FROM ${quoteQualifiedName(parseQualifiedName(table))} WHERE ${condition.text};`, parameters: condition.parameters });
		},
		// Turning Change Tracking off and on for the table forgets its versions as a cleanup does:
		// CHANGE_TRACKING_MIN_VALID_VERSION becomes the version at which it was enabled again.
		async expireChangeTracking(table) {
			const name = quoteQualifiedName(parseQualifiedName(table));
			await transport.execute({ text: `ALTER TABLE ${name} DISABLE CHANGE_TRACKING;\nALTER TABLE ${name} ENABLE CHANGE_TRACKING;`, parameters: [] });
		},
	};
}

export interface ReadResult {
	rows: SourceRow[];
	/** Rows per batch, in order. */
	batches: number[];
	last: Cursor;
}

const spec = (table: string, marker: MarkerSpec, overrides: Partial<SourceSpec> = {}): SourceSpec => sourceSpecFor(table, marker, { stream: 'contract', ...overrides });

/** Reads as one execution does: describe, one window, batches until the source says there is no more. */
export async function readEverything(source: ChangeSource, sourceSpec: SourceSpec, from: Cursor, batchSize: number): Promise<ReadResult> {
	const plan = await source.describe(sourceSpec);
	const window = await source.openWindow(plan, from);
	const result: ReadResult = { rows: [], batches: [], last: from };
	for (;;) {
		const batch = await source.readBatch(plan, window, result.last, batchSize);
		result.rows.push(...batch.rows);
		result.batches.push(batch.rows.length);
		if (batch.rows.length > 0) result.last = batch.rows[batch.rows.length - 1].cursor;
		if (!batch.hasMore) return result;
		assert.equal(batch.rows.length, batchSize, 'a batch that says more follow is full');
	}
}

/** Counts as the Count Changes operation does: describe, one window, one count. */
export async function countEverything(source: ChangeSource, sourceSpec: SourceSpec, from: Cursor): Promise<number> {
	const plan = await source.describe(sourceSpec);
	const window = await source.openWindow(plan, from);
	return await source.countChanges(plan, window, from);
}

/** The count from `from`, checked against what reading every batch from there gives. */
async function countAndRead(source: ChangeSource, sourceSpec: SourceSpec, from: Cursor): Promise<{ counted: number; read: number }> {
	const counted = await countEverything(source, sourceSpec, from);
	const read = await readEverything(source, sourceSpec, from, 2);
	return { counted, read: read.rows.length };
}

const PAST = '2020-05-01T10:00:00.1234567';
const FUTURE = '2099-01-01T00:00:00.0000001';

const customersLike = (name: string, marker = 'datetime2(7)'): TableDefinition => ({
	name,
	columns: [
		{ name: 'CustomerNo', type: 'int', nullable: false },
		{ name: 'Name', type: 'nvarchar(100)', nullable: false },
		{ name: 'City', type: 'nvarchar(100)' },
		{ name: 'ChangedAt', type: marker },
	],
	primaryKey: ['CustomerNo'],
});

/** A table keyed by (first, LineNo), marked by a datetime2(7) ChangedAt. */
const lineTable = (name: string, first: ColumnDefinition): TableDefinition => ({
	name,
	columns: [first, { name: 'LineNo', type: 'int', nullable: false }, { name: 'ChangedAt', type: 'datetime2(7)' }],
	primaryKey: [first.name, 'LineNo'],
});

/** For the filter tests: two rows in Oslo (1, 4), one in Bergen, one with no city. */
const ROWS_IN_CITIES: Row[] = [
	{ CustomerNo: 1, Name: 'a', City: 'Oslo', ChangedAt: PAST },
	{ CustomerNo: 2, Name: 'b', City: 'Bergen', ChangedAt: PAST },
	{ CustomerNo: 3, Name: 'c', City: null, ChangedAt: PAST },
	{ CustomerNo: 4, Name: 'd', City: 'Oslo', ChangedAt: PAST },
];

/** The original CRM link's marker: a yyyymmdd integer and an hhmmss integer column. */
const legacyMarkerTable = (name: string, extraColumns: ColumnDefinition[] = []): TableDefinition => ({
	name,
	columns: [{ name: 'CustomerNo', type: 'int', nullable: false }, { name: 'LastChangeDate', type: 'int' }, { name: 'LastChangeTime', type: 'int' }, ...extraColumns],
	primaryKey: ['CustomerNo'],
});
const LEGACY_MARKER: MarkerSpec = { kind: 'dateAndTime', dateColumn: 'LastChangeDate', timeColumn: 'LastChangeTime', timeEncoding: 'hhmmss' };
/** In date-time order: 2, 1, 3 (the date decides before the time). */
const LEGACY_MARKER_ROWS: Row[] = [
	{ CustomerNo: 1, LastChangeDate: 20100604, LastChangeTime: 93000 },
	{ CustomerNo: 2, LastChangeDate: 20100603, LastChangeTime: 235959 },
	{ CustomerNo: 3, LastChangeDate: 20100604, LastChangeTime: 101500 },
];

const keysOf = (rows: SourceRow[], column = 'CustomerNo') => rows.map((row) => row.values[column]);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

export function changeSourceContract(name: string, createHarness: () => Promise<ChangeSourceHarness>): void {
	let tableCounter = 0;
	const freshTable = async (definition: (table: string) => TableDefinition) => {
		const harness = await createHarness();
		const table = `dbo.ChangeSourceContract${++tableCounter}`;
		await harness.createTable(definition(table));
		return { harness, table };
	};

	describe(`change source contract: ${name}`, () => {
		it('reads many rows sharing one marker across several batches, each exactly once, in key order', async () => {
			const { harness, table } = await freshTable((t) => customersLike(t));
			await harness.insert(table, range(1, 23).map((n) => ({ CustomerNo: 24 - n, Name: `C${n}`, ChangedAt: PAST })));
			const read = await readEverything(harness.source, spec(table, { kind: 'datetime', column: 'ChangedAt' }), beginningCursor('datetime'), 5);
			assert.deepEqual(keysOf(read.rows), range(1, 23));
			assert.deepEqual(read.batches, [5, 5, 5, 5, 3]);
			assert.deepEqual(read.last, { kind: 'datetime', marker: PAST, key: ['23'] });
		});

		it('continues from a stored cursor in the middle of a marker value without repeating or skipping', async () => {
			const { harness, table } = await freshTable((t) => customersLike(t));
			await harness.insert(table, [
				...range(1, 6).map((n) => ({ CustomerNo: n, Name: `A${n}`, ChangedAt: PAST })),
				...range(7, 9).map((n) => ({ CustomerNo: n, Name: `B${n}`, ChangedAt: '2020-05-01T10:00:00.1234568' })),
			]);
			const sourceSpec = spec(table, { kind: 'datetime', column: 'ChangedAt' });
			const first = await readEverything(harness.source, sourceSpec, beginningCursor('datetime'), 4);
			const afterFour = first.rows[3].cursor;
			assert.deepEqual(afterFour, { kind: 'datetime', marker: PAST, key: ['4'] });
			const resumed = await readEverything(harness.source, sourceSpec, afterFour, 100);
			assert.deepEqual(keysOf(resumed.rows), [5, 6, 7, 8, 9]);
			assert.equal(resumed.rows[2].marker, '2020-05-01T10:00:00.1234568', 'the 100 ns step is kept, not rounded away');
		});

		it('orders a composite key column by column and splits it across batches exactly', async () => {
			const { harness, table } = await freshTable((t) => lineTable(t, { name: 'OrderNo', type: 'int', nullable: false }));
			const lines = [
				[2, 1],
				[1, 3],
				[1, 10],
				[2, 2],
				[1, 2],
				[10, 1],
			];
			await harness.insert(table, lines.map(([OrderNo, LineNo]) => ({ OrderNo, LineNo, ChangedAt: PAST })));
			const read = await readEverything(harness.source, spec(table, { kind: 'datetime', column: 'ChangedAt' }), beginningCursor('datetime'), 2);
			assert.deepEqual(
				read.rows.map((row) => [row.values.OrderNo, row.values.LineNo]),
				[
					[1, 2],
					[1, 3],
					[1, 10],
					[2, 1],
					[2, 2],
					[10, 1],
				],
			);
			assert.deepEqual(read.rows[2].cursor.key, ['1', '10']);
		});

		it('takes a cursor without a key as "every row at this marker is still to come"', async () => {
			const { harness, table } = await freshTable((t) => customersLike(t));
			await harness.insert(table, [
				{ CustomerNo: 1, Name: 'before', ChangedAt: '2020-05-01T09:59:59.9999999' },
				{ CustomerNo: 2, Name: 'at', ChangedAt: PAST },
				{ CustomerNo: 3, Name: 'after', ChangedAt: '2020-05-02T00:00:00.0000001' },
			]);
			const read = await readEverything(harness.source, spec(table, { kind: 'datetime', column: 'ChangedAt' }), { kind: 'datetime', marker: PAST, key: null }, 10);
			assert.deepEqual(keysOf(read.rows), [2, 3]);
		});

		it('leaves rows at or after the upper bound (server time minus the lag) for a later run', async () => {
			const { harness, table } = await freshTable((t) => customersLike(t));
			await harness.insert(table, [
				{ CustomerNo: 1, Name: 'old', ChangedAt: PAST },
				{ CustomerNo: 2, Name: 'future', ChangedAt: FUTURE },
			]);
			const read = await readEverything(harness.source, spec(table, { kind: 'datetime', column: 'ChangedAt' }), beginningCursor('datetime'), 10);
			assert.deepEqual(keysOf(read.rows), [1]);
		});

		it('reads rows with a NULL marker first, on the first run only, in key order across batches', async () => {
			const { harness, table } = await freshTable((t) => customersLike(t));
			await harness.insert(table, [
				...range(1, 5).map((n) => ({ CustomerNo: n * 10, Name: `N${n}`, ChangedAt: null })),
				{ CustomerNo: 1, Name: 'marked', ChangedAt: PAST },
			]);
			const sourceSpec = spec(table, { kind: 'datetime', column: 'ChangedAt' });
			const first = await readEverything(harness.source, sourceSpec, beginningCursor('datetime'), 2);
			assert.deepEqual(keysOf(first.rows), [10, 20, 30, 40, 50, 1]);
			assert.deepEqual(first.rows[1].cursor, { kind: 'datetime', marker: null, key: ['20'] });
			const resumedInNulls = await readEverything(harness.source, sourceSpec, first.rows[1].cursor, 10);
			assert.deepEqual(keysOf(resumedInNulls.rows), [30, 40, 50, 1]);
			await harness.insert(table, [{ CustomerNo: 5, Name: 'late null', ChangedAt: null }]);
			const next = await readEverything(harness.source, sourceSpec, first.last, 10);
			assert.deepEqual(keysOf(next.rows), [], 'after the first run a NULL marker is invisible');
			const never = await readEverything(harness.source, { ...sourceSpec, nullMarkers: 'never' }, beginningCursor('datetime'), 10);
			assert.deepEqual(keysOf(never.rows), [1]);
		});

		it('keeps a legacy datetime column\'s own text in the cursor and compares it in the column\'s type', async () => {
			const { harness, table } = await freshTable((t) => customersLike(t, 'datetime'));
			await harness.insert(table, [
				{ CustomerNo: 1, Name: 'a', ChangedAt: '2020-05-01T10:00:00.003' },
				{ CustomerNo: 2, Name: 'b', ChangedAt: '2020-05-01T10:00:00.007' },
				{ CustomerNo: 3, Name: 'c', ChangedAt: '2020-05-01T10:00:00.007' },
			]);
			const sourceSpec = spec(table, { kind: 'datetime', column: 'ChangedAt' });
			const first = await readEverything(harness.source, sourceSpec, beginningCursor('datetime'), 2);
			assert.deepEqual(first.rows[1].cursor, { kind: 'datetime', marker: '2020-05-01T10:00:00.007', key: ['2'] });
			const resumed = await readEverything(harness.source, sourceSpec, first.rows[1].cursor, 10);
			assert.deepEqual(keysOf(resumed.rows), [3]);
		});

		it('reads a date + time marker held as integers (yyyymmdd, hhmmss) in date-time order', async () => {
			const { harness, table } = await freshTable((t) => legacyMarkerTable(t));
			await harness.insert(table, [...LEGACY_MARKER_ROWS, { CustomerNo: 4, LastChangeDate: 20100604, LastChangeTime: 93000 }]);
			const sourceSpec = spec(table, LEGACY_MARKER);
			const read = await readEverything(harness.source, sourceSpec, beginningCursor('dateAndTime'), 3);
			assert.deepEqual(keysOf(read.rows), [2, 1, 4, 3]);
			assert.match(read.rows[1].marker ?? '', /^2010-06-04T09:30:00(\.0+)?$/);
			const fromDate = await readEverything(harness.source, sourceSpec, { kind: 'datetime', marker: '2010-06-04T09:30:00', key: null }, 10);
			assert.deepEqual(keysOf(fromDate.rows), [1, 4, 3], 'a date-time watermark (a rewind) works for a date + time marker');
		});

		it('reads rows whose date is NULL in (time, key) order across batches of one, none skipped (issue 11, item 1)', async () => {
			const { harness, table } = await freshTable((t) => legacyMarkerTable(t));
			await harness.insert(table, [
				{ CustomerNo: 2, LastChangeDate: null, LastChangeTime: 0 },
				{ CustomerNo: 1, LastChangeDate: null, LastChangeTime: 120000 },
				{ CustomerNo: 3, LastChangeDate: 20100604, LastChangeTime: 93000 },
			]);
			const read = await readEverything(harness.source, spec(table, LEGACY_MARKER), beginningCursor('dateAndTime'), 1);
			assert.deepEqual([...keysOf(read.rows)].sort(), [1, 2, 3], 'every row once');
			assert.equal(read.rows[2].values.CustomerNo, 3, 'rows without a date first');
			assert.deepEqual(read.rows.slice(0, 2).map((row) => row.marker), [null, null]);
		});

		it('reads a zero or impossible legacy date or time as a NULL marker: on the first run, with the NULL-marker rows, never stopping (issue 11, item 2)', async () => {
			const { harness, table } = await freshTable((t) => legacyMarkerTable(t));
			await harness.insert(table, [
				{ CustomerNo: 1, LastChangeDate: 0, LastChangeTime: 0 },
				{ CustomerNo: 2, LastChangeDate: 20100230, LastChangeTime: 93000 },
				{ CustomerNo: 3, LastChangeDate: 20100604, LastChangeTime: 246000 },
				{ CustomerNo: 4, LastChangeDate: 20100604, LastChangeTime: 93000 },
				{ CustomerNo: 5, LastChangeDate: null, LastChangeTime: null },
			]);
			const sourceSpec = spec(table, LEGACY_MARKER);
			const first = await readEverything(harness.source, sourceSpec, beginningCursor('dateAndTime'), 2);
			assert.deepEqual(keysOf(first.rows), [1, 2, 3, 5, 4]);
			assert.deepEqual(first.rows.map((row) => row.marker === null), [true, true, true, true, false]);
			assert.deepEqual(await countAndRead(harness.source, sourceSpec, beginningCursor('dateAndTime')), { counted: 5, read: 5 });
			const never = await readEverything(harness.source, { ...sourceSpec, nullMarkers: 'never' }, beginningCursor('dateAndTime'), 10);
			assert.deepEqual(keysOf(never.rows), [4]);
			const later = await readEverything(harness.source, sourceSpec, first.last, 10);
			assert.deepEqual(keysOf(later.rows), [], 'after the first run they wait until their marker is set');
		});

		it('orders text keys by the collation: case and trailing spaces do not count, across batches of one', async () => {
			const { harness, table } = await freshTable((t) => lineTable(t, { name: 'Code', type: 'nvarchar(10)', nullable: false }));
			await harness.insert(table, [
				{ Code: 'b', LineNo: 1, ChangedAt: PAST },
				{ Code: 'A', LineNo: 2, ChangedAt: PAST },
				{ Code: 'a ', LineNo: 1, ChangedAt: PAST },
				{ Code: 'B  ', LineNo: 2, ChangedAt: PAST },
				{ Code: 'a', LineNo: 3, ChangedAt: PAST },
			]);
			const sourceSpec = spec(table, { kind: 'datetime', column: 'ChangedAt' });
			const read = await readEverything(harness.source, sourceSpec, beginningCursor('datetime'), 1);
			assert.deepEqual(
				read.rows.map((row) => [row.values.Code, row.values.LineNo]),
				[
					['a ', 1],
					['A', 2],
					['a', 3],
					['b', 1],
					['B  ', 2],
				],
			);
			assert.deepEqual(read.rows[0].cursor.key, ['a ', '1'], 'the key text keeps its trailing spaces');
			await assert.rejects(harness.insert(table, [{ Code: 'A', LineNo: 1, ChangedAt: PAST }]), 'a key equal under the collation is a duplicate');
			const plan = await harness.source.describe(sourceSpec);
			const retried = await harness.source.readKeys(plan, [{ Code: 'A', LineNo: 1 }, { Code: 'b ', LineNo: 1 }]);
			assert.deepEqual(retried.map((row) => [row.operation, row.values.Code]), [['upsert', 'a '], ['upsert', 'b']], 'a retry key finds its row as = does');
		});

		it('reads by rowversion and sees an updated row again, after the rows already read', async () => {
			const { harness, table } = await freshTable((t) => ({
				name: t,
				columns: [
					{ name: 'CustomerNo', type: 'int', nullable: false },
					{ name: 'Name', type: 'nvarchar(100)' },
					{ name: 'RowVer', type: 'rowversion' },
				],
				primaryKey: ['CustomerNo'],
			}));
			await harness.insert(table, range(1, 4).map((n) => ({ CustomerNo: n, Name: `R${n}` })));
			const sourceSpec = spec(table, { kind: 'rowversion', column: 'RowVer' });
			const first = await readEverything(harness.source, sourceSpec, beginningCursor('rowversion'), 3);
			assert.deepEqual(keysOf(first.rows), [1, 2, 3, 4]);
			assert.match(first.last.marker ?? '', /^0x[0-9A-F]{16}$/);
			await harness.update(table, { CustomerNo: 2 }, { Name: 'R2 changed' });
			const second = await readEverything(harness.source, sourceSpec, first.last, 3);
			assert.deepEqual(second.rows.map((row) => row.values.Name), ['R2 changed']);
		});

		it('reads Change Tracking: a full read first, then changes including a delete with its key only', async () => {
			const { harness, table } = await freshTable((t) => ({ ...customersLike(t), changeTracking: true }));
			await harness.insert(table, range(1, 3).map((n) => ({ CustomerNo: n, Name: `T${n}`, ChangedAt: PAST })));
			const sourceSpec = spec(table, { kind: 'changeTracking' });
			const initial = await readEverything(harness.source, sourceSpec, beginningCursor('changeTracking'), 2);
			assert.deepEqual(keysOf(initial.rows), [1, 2, 3]);
			assert.ok(initial.rows.every((row) => row.operation === 'upsert'));
			assert.equal(initial.last.marker, null);
			assert.match(initial.last.snapshotVersion ?? '', /^\d+$/);

			await harness.update(table, { CustomerNo: 3 }, { Name: 'T3 changed' });
			await harness.remove(table, { CustomerNo: 1 });
			await harness.insert(table, [{ CustomerNo: 0, Name: 'T0', ChangedAt: PAST }]);
			const changes = await readEverything(harness.source, sourceSpec, initial.last, 2);
			assert.deepEqual(
				changes.rows.map((row) => [row.operation, row.values]),
				[
					['upsert', { CustomerNo: 3, Name: 'T3 changed', City: null, ChangedAt: PAST }],
					['delete', { CustomerNo: 1 }],
					['upsert', { CustomerNo: 0, Name: 'T0', City: null, ChangedAt: PAST }],
				],
				'in the order of their Change Tracking versions',
			);
			assert.match(changes.last.marker ?? '', /^\d+$/);
			const nothingNew = await readEverything(harness.source, sourceSpec, changes.last, 2);
			assert.deepEqual(nothingNew.rows, []);
		});

		it('refuses a Change Tracking cursor whose changes were cleaned up, saying a full re-send is needed', async (context) => {
			const probe = await createHarness();
			if (!probe.expireChangeTracking) return context.skip('this server cannot be made to forget Change Tracking versions on demand');
			const { harness, table } = await freshTable((t) => ({ ...customersLike(t), changeTracking: true }));
			await harness.insert(table, [{ CustomerNo: 1, Name: 'x', ChangedAt: PAST }]);
			const sourceSpec = spec(table, { kind: 'changeTracking' });
			const initial = await readEverything(harness.source, sourceSpec, beginningCursor('changeTracking'), 10);
			await harness.update(table, { CustomerNo: 1 }, { Name: 'y' });
			const changed = await readEverything(harness.source, sourceSpec, initial.last, 10);
			await harness.update(table, { CustomerNo: 1 }, { Name: 'z' });
			await harness.expireChangeTracking?.(table);
			const plan = await harness.source.describe(sourceSpec);
			await assert.rejects(harness.source.openWindow(plan, changed.last), (error: unknown) => {
				assert.ok(error instanceof ChangeSourceError);
				assert.match(error.message, /no longer holds the changes/);
				assert.match(error.advice, /full re-send is needed/);
				assert.match(error.advice, /Rewind "to the beginning"/);
				return true;
			});
			return undefined;
		});

		it('stops a Change Tracking read whose changes were cleaned up after the window opened, before any row (issue 11, item 6)', async (context) => {
			const probe = await createHarness();
			if (!probe.expireChangeTracking) return context.skip('this server cannot be made to forget Change Tracking versions on demand');
			const { harness, table } = await freshTable((t) => ({ ...customersLike(t), changeTracking: true }));
			await harness.insert(table, [{ CustomerNo: 1, Name: 'x', ChangedAt: PAST }]);
			const sourceSpec = spec(table, { kind: 'changeTracking' });
			const initial = await readEverything(harness.source, sourceSpec, beginningCursor('changeTracking'), 10);
			await harness.update(table, { CustomerNo: 1 }, { Name: 'y' });
			const plan = await harness.source.describe(sourceSpec);
			for (const from of [initial.last, beginningCursor('changeTracking')]) {
				const window = await harness.source.openWindow(plan, from);
				await harness.update(table, { CustomerNo: 1 }, { Name: `z${String(from.snapshotVersion)}` });
				await harness.expireChangeTracking?.(table);
				const refusal = (error: unknown) => error instanceof ChangeSourceError && /no longer holds the changes/.test(error.message) && /full re-send is needed/.test(error.advice);
				await assert.rejects(harness.source.readBatch(plan, window, from, 10), refusal);
				await assert.rejects(harness.source.countChanges(plan, window, from), refusal);
			}
			return undefined;
		});

		it('refuses key columns of a table that allow NULL or that no unique key covers, naming them (issue 11, item 7)', async () => {
			const { harness, table } = await freshTable((t) => customersLike(t));
			const sourceSpec = spec(table, { kind: 'datetime', column: 'ChangedAt' });
			const refused = (pattern: RegExp) => (error: unknown) => error instanceof ChangeSourceError && pattern.test(error.message) && /NOT NULL and together unique/.test(error.advice);
			await assert.rejects(harness.source.describe({ ...sourceSpec, keyColumns: ['City'] }), refused(/Key column "City" of .* allows NULL/));
			await assert.rejects(harness.source.describe({ ...sourceSpec, keyColumns: ['Name'] }), refused(/key columns Name of .* are not unique/));
			const covered = await harness.source.describe({ ...sourceSpec, keyColumns: ['Name', 'CustomerNo'] });
			assert.deepEqual(covered.keys.map((key) => key.name).sort(), ['CustomerNo', 'Name'], 'columns that include the primary key are unique');
		});

		it('reads a view on the partner\'s promise that its key is unique, and stops at the first batch that shows a duplicate or NULL key (issue 11, item 7)', async () => {
			const viewOf = (t: string): TableDefinition => ({ ...customersLike(t), view: true });
			const { harness, table } = await freshTable(viewOf);
			const sourceSpec = spec(table, { kind: 'datetime', column: 'ChangedAt' }, { keyColumns: ['CustomerNo'] });
			await harness.insert(table, [1, 2, 3].map((n) => ({ CustomerNo: n, Name: `V${n}`, ChangedAt: PAST })));
			assert.deepEqual(keysOf((await readEverything(harness.source, sourceSpec, beginningCursor('datetime'), 1)).rows), [1, 2, 3], 'a view whose key holds reads as a table');
			await harness.insert(table, [{ CustomerNo: 2, Name: 'V2 again', ChangedAt: PAST }]);
			const stopped = (pattern: RegExp) => (error: unknown) => error instanceof ChangeSourceError && pattern.test(error.message) && /watermark did not move/.test(error.advice);
			await assert.rejects(readEverything(harness.source, sourceSpec, beginningCursor('datetime'), 1), stopped(/Two rows of .* have the same key \(CustomerNo "2"\)/));
			const withNull = await freshTable((t) => ({ ...viewOf(t), columns: viewOf(t).columns.map((column) => (column.name === 'CustomerNo' ? { ...column, nullable: true } : column)) }));
			await withNull.harness.insert(withNull.table, [{ CustomerNo: null, Name: 'no key', ChangedAt: PAST }]);
			await assert.rejects(readEverything(withNull.harness.source, { ...sourceSpec, table: parseQualifiedName(withNull.table) }, beginningCursor('datetime'), 10), stopped(/no value \(NULL\) in key column "CustomerNo"/));
		});

		it('applies filter conditions with typed values', async () => {
			const { harness, table } = await freshTable((t) => customersLike(t));
			await harness.insert(table, ROWS_IN_CITIES);
			const base = spec(table, { kind: 'datetime', column: 'ChangedAt' });
			const oslo = await readEverything(harness.source, { ...base, filters: [{ column: 'City', operator: 'equal', value: "Oslo' OR 1=1 --" }] }, beginningCursor('datetime'), 10);
			assert.deepEqual(keysOf(oslo.rows), [], 'a value is a value, never SQL');
			const filtered = await readEverything(
				harness.source,
				{ ...base, filters: [{ column: 'City', operator: 'equal', value: 'Oslo' }, { column: 'CustomerNo', operator: 'greater', value: '1' }] },
				beginningCursor('datetime'),
				10,
			);
			assert.deepEqual(keysOf(filtered.rows), [4]);
			const empty = await readEverything(harness.source, { ...base, filters: [{ column: 'City', operator: 'isNull' }] }, beginningCursor('datetime'), 10);
			assert.deepEqual(keysOf(empty.rows), [3]);
		});

		it('outputs the chosen columns plus the key', async () => {
			const { harness, table } = await freshTable((t) => customersLike(t));
			await harness.insert(table, [{ CustomerNo: 1, Name: 'a', City: 'Oslo', ChangedAt: PAST }]);
			const read = await readEverything(harness.source, spec(table, { kind: 'datetime', column: 'ChangedAt' }, { outputColumns: ['City'] }), beginningCursor('datetime'), 10);
			assert.deepEqual(read.rows[0].values, { CustomerNo: 1, City: 'Oslo' });
		});

		it('refuses an unknown table, an unknown column and a marker column of the wrong type by name', async () => {
			const { harness, table } = await freshTable((t) => customersLike(t));
			await assert.rejects(harness.source.describe(spec('dbo.NoSuchTable', { kind: 'datetime', column: 'ChangedAt' })), UnknownTableError);
			await assert.rejects(harness.source.describe(spec(table, { kind: 'datetime', column: 'ChangedOn' })), (error: unknown) => error instanceof UnknownColumnError && /ChangedOn/.test(error.message));
			await assert.rejects(harness.source.describe(spec(table, { kind: 'datetime', column: 'Name' })), (error: unknown) => error instanceof ChangeSourceError && /"Name".*nvarchar/.test(error.message));
			await assert.rejects(harness.source.describe(spec(table, { kind: 'changeTracking' })), (error: unknown) => error instanceof ChangeSourceError && /Change Tracking is not enabled/.test(error.message));
			const injected = { schema: 'dbo', name: `${table.slice(4)}]; DROP TABLE dbo.Customers; --` };
			await assert.rejects(harness.source.describe({ ...spec(table, { kind: 'datetime', column: 'ChangedAt' }), table: injected }), UnknownTableError);
			await assert.rejects(
				harness.source.describe(spec(table, { kind: 'datetime', column: 'ChangedAt]) FROM sys.objects; --' })),
				(error: unknown) => error instanceof UnknownColumnError,
			);
		});

		describe('counting what a read would send', () => {
			it('counts a date-time read from the beginning, from a marker and from the middle of a marker, as the read gives', async () => {
				const { harness, table } = await freshTable((t) => customersLike(t));
				await harness.insert(table, [
					...range(1, 3).map((n) => ({ CustomerNo: n * 10, Name: `N${n}`, ChangedAt: null })),
					...range(1, 5).map((n) => ({ CustomerNo: n, Name: `A${n}`, ChangedAt: PAST })),
					{ CustomerNo: 6, Name: 'later', ChangedAt: '2020-05-02T00:00:00' },
					{ CustomerNo: 7, Name: 'future', ChangedAt: FUTURE },
				]);
				const sourceSpec = spec(table, { kind: 'datetime', column: 'ChangedAt' });
				const cases: Array<[string, Cursor, number]> = [
					['from the beginning: NULL markers first, the future left out', beginningCursor('datetime'), 9],
					['part-way through the NULL markers', { kind: 'datetime', marker: null, key: ['10'] }, 8],
					['from a marker without a key: every row at it', { kind: 'datetime', marker: PAST, key: null }, 6],
					['from the middle of a marker', { kind: 'datetime', marker: PAST, key: ['3'] }, 3],
					['from past the last row', { kind: 'datetime', marker: '2020-05-03T00:00:00', key: null }, 0],
				];
				for (const [what, from, expected] of cases) {
					assert.deepEqual(await countAndRead(harness.source, sourceSpec, from), { counted: expected, read: expected }, what);
				}
				assert.deepEqual(await countAndRead(harness.source, { ...sourceSpec, nullMarkers: 'never' }, beginningCursor('datetime')), { counted: 6, read: 6 }, 'NULL markers never read');
			});

			it('counts with the filter applied, values still parameters', async () => {
				const { harness, table } = await freshTable((t) => customersLike(t));
				await harness.insert(table, ROWS_IN_CITIES);
				const base = spec(table, { kind: 'datetime', column: 'ChangedAt' });
				const oslo = { ...base, filters: [{ column: 'City', operator: 'equal' as const, value: 'Oslo' }] };
				assert.deepEqual(await countAndRead(harness.source, oslo, beginningCursor('datetime')), { counted: 2, read: 2 });
				const injected = { ...base, filters: [{ column: 'City', operator: 'equal' as const, value: "Oslo' OR 1=1 --" }] };
				assert.deepEqual(await countAndRead(harness.source, injected, beginningCursor('datetime')), { counted: 0, read: 0 });
			});

			it('counts a date + time marker and a rowversion marker as the read gives', async () => {
				const { harness, table } = await freshTable((t) => legacyMarkerTable(t, [{ name: 'RowVer', type: 'rowversion' }]));
				await harness.insert(table, LEGACY_MARKER_ROWS);
				const dateAndTime = spec(table, LEGACY_MARKER);
				assert.deepEqual(await countAndRead(harness.source, dateAndTime, { kind: 'datetime', marker: '2010-06-04T09:30:00', key: null }), { counted: 2, read: 2 });
				const rowversion = spec(table, { kind: 'rowversion', column: 'RowVer' });
				const first = await readEverything(harness.source, rowversion, beginningCursor('rowversion'), 10);
				assert.deepEqual(await countAndRead(harness.source, rowversion, beginningCursor('rowversion')), { counted: 3, read: 3 });
				await harness.update(table, { CustomerNo: 2 }, { LastChangeTime: 0 });
				assert.deepEqual(await countAndRead(harness.source, rowversion, first.last), { counted: 1, read: 1 }, 'the updated row only');
			});

			it('counts Change Tracking: the full read from the beginning (and part-way), then the changes, a delete included', async () => {
				const { harness, table } = await freshTable((t) => ({ ...customersLike(t), changeTracking: true }));
				await harness.insert(table, range(1, 4).map((n) => ({ CustomerNo: n, Name: `T${n}`, ChangedAt: PAST })));
				const sourceSpec = spec(table, { kind: 'changeTracking' });
				assert.deepEqual(await countAndRead(harness.source, sourceSpec, beginningCursor('changeTracking')), { counted: 4, read: 4 });
				const initial = await readEverything(harness.source, sourceSpec, beginningCursor('changeTracking'), 3);
				const partWay = (await readEverything(harness.source, sourceSpec, beginningCursor('changeTracking'), 2)).rows[1].cursor;
				assert.deepEqual(await countAndRead(harness.source, sourceSpec, partWay), { counted: 2, read: 2 }, 'the rest of the full read');
				await harness.update(table, { CustomerNo: 3 }, { Name: 'T3 changed' });
				await harness.remove(table, { CustomerNo: 1 });
				assert.deepEqual(await countAndRead(harness.source, sourceSpec, initial.last), { counted: 2, read: 2 });
				const filtered = { ...sourceSpec, filters: [{ column: 'Name', operator: 'like' as const, value: 'T3%' }] };
				assert.deepEqual(await countAndRead(harness.source, filtered, initial.last), { counted: 2, read: 2 }, 'a delete passes any filter (the row is gone)');
			});
		});
	});
}
