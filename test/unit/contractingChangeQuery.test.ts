import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { CatalogTable } from '../../nodes/shared/catalog';
import type { ReadWindow } from '../../nodes/shared/core/changeQuery';
import { batchFromResult, changeBatchRequest, changeCountRequest, countFromResult, cursorForSource, readWindowFrom } from '../../nodes/shared/core/changeQuery';
import type { Cursor } from '../../nodes/shared/core/cursor';
import { beginningCursor } from '../../nodes/shared/core/cursor';
import type { MarkerSpec, SourcePlan, SourceSpec } from '../../nodes/shared/core/markers';
import { ChangeSourceError, resolveSourcePlan } from '../../nodes/shared/core/markers';
import { TimeZoneError } from '../../nodes/shared/core/timeZone';
import type { SqlRequest } from '../../nodes/shared/transport/types';
import type { TableDefinition } from '../support/memory/memoryChangeSource';
import { MemoryChangeSource } from '../support/memory/memoryChangeSource';
import { sourceSpecFor } from '../support/sourceSpec';

const customers: TableDefinition = {
	name: 'dbo.Customers',
	columns: [
		{ name: 'CustomerNo', type: 'int', nullable: false },
		{ name: 'Name', type: 'nvarchar(100)', nullable: false },
		{ name: 'City', type: 'nvarchar(100)' },
		{ name: 'Active', type: 'bit', nullable: false },
		{ name: 'Balance', type: 'float' },
		{ name: 'ChangedAt', type: 'datetime2(7)' },
		{ name: 'LegacyChangedAt', type: 'datetime' },
		{ name: 'LastChangeDate', type: 'int' },
		{ name: 'LastChangeTime', type: 'int' },
		{ name: 'ChangeDay', type: 'date' },
		{ name: 'ChangeClock', type: 'time(0)' },
		{ name: 'RowVer', type: 'rowversion' },
	],
	primaryKey: ['CustomerNo'],
	changeTracking: true,
};

const catalogOf = (definition: TableDefinition): CatalogTable => new MemoryChangeSource().define(definition).catalog;

const planFor = (marker: MarkerSpec, overrides: Partial<SourceSpec> = {}, definition = customers): SourcePlan =>
	resolveSourcePlan(catalogOf(definition), sourceSpecFor(definition.name, marker, { outputColumns: ['Name'], ...overrides }));

const datetime2Marker: MarkerSpec = { kind: 'datetime', column: 'ChangedAt' };
const window: ReadWindow = { upperBound: '2024-06-01T13:59:00.123' };
const parameter = (request: SqlRequest, name: string) => request.parameters.find((candidate) => candidate.name === name);
const squash = (text: string) => text.replace(/\s+/g, ' ');

describe('the batch statement for a date-time marker', () => {
	const afterRow: Cursor = { kind: 'datetime', marker: '2024-03-31T01:59:59.1234567', key: ['4'] };

	it('orders by marker then key, compares (marker, key) after the cursor, and asks for one row more than the batch', () => {
		const request = changeBatchRequest(planFor(datetime2Marker), window, afterRow, 1000);
		const text = squash(request.text);
		assert.match(text, /^SELECT TOP \(@take\) \[?/);
		assert.match(text, /FROM \[dbo\]\.\[Customers\] AS src/);
		assert.match(text, /ORDER BY src\.\[ChangedAt\], src\.\[CustomerNo\];$/);
		assert.ok(
			text.includes(
				'((src.[ChangedAt] > CONVERT(datetime2(7), @m, 126)) OR (src.[ChangedAt] = CONVERT(datetime2(7), @m, 126) AND src.[CustomerNo] > CONVERT(int, @k0)))',
			),
		);
		assert.ok(text.includes('AND src.[ChangedAt] >= CONVERT(datetime2(7), @m, 126) AND'), 'a range an index on the marker can seek');
		assert.ok(text.includes('CONVERT(varchar(33), src.[ChangedAt], 126) AS __sync_marker'));
		assert.ok(text.includes('CONVERT(nvarchar(4000), src.[CustomerNo]) AS __sync_key_0'));
		assert.deepEqual(parameter(request, 'take'), { name: 'take', type: { name: 'int' }, value: 1001 });
		assert.deepEqual(parameter(request, 'm'), { name: 'm', type: { name: 'varchar', length: 34 }, value: '2024-03-31T01:59:59.1234567' });
		assert.deepEqual(parameter(request, 'k0'), { name: 'k0', type: { name: 'nvarchar', length: 4000 }, value: '4' });
	});

	it('bounds the marker below the window (keeping NULL markers to their own rule)', () => {
		const request = changeBatchRequest(planFor(datetime2Marker), window, afterRow, 10);
		assert.ok(squash(request.text).includes('((src.[ChangedAt] IS NULL) OR (src.[ChangedAt] < CONVERT(datetime2(7), @upperBound, 126)))'));
		assert.deepEqual(parameter(request, 'upperBound'), { name: 'upperBound', type: { name: 'varchar', length: 34 }, value: window.upperBound });
	});

	it('converts the cursor text to a legacy datetime column\'s own type, through datetime2(7) so 7 digits are accepted', () => {
		const request = changeBatchRequest(planFor({ kind: 'datetime', column: 'LegacyChangedAt' }), window, afterRow, 10);
		assert.ok(request.text.includes('src.[LegacyChangedAt] > CONVERT(datetime, CONVERT(datetime2(7), @m, 126))'));
		assert.ok(!/CONVERT\(datetime2\(7\), @m, 126\) AND|\[LegacyChangedAt\] > CONVERT\(datetime2/.test(request.text), 'never compared as datetime2');
	});

	it('sends no temporal parameter: every date-time travels as varchar text', () => {
		const request = changeBatchRequest(planFor(datetime2Marker), window, afterRow, 10);
		assert.ok(request.parameters.every((candidate) => !['datetime', 'datetime2', 'date', 'time'].includes(candidate.type.name)));
	});

	it('from the beginning: no cursor condition, so rows with a NULL marker come first (SQL Server sorts NULL first)', () => {
		const request = changeBatchRequest(planFor(datetime2Marker), window, beginningCursor('datetime'), 10);
		assert.equal(parameter(request, 'm'), undefined);
		assert.equal(parameter(request, 'k0'), undefined);
		assert.ok(!request.text.includes('IS NOT NULL'));
	});

	it('inside the NULL-marker rows: the rest of them by key, then every row with a marker', () => {
		const request = changeBatchRequest(planFor(datetime2Marker), window, { kind: 'datetime', marker: null, key: ['20'] }, 10);
		assert.ok(request.text.includes('((src.[ChangedAt] IS NOT NULL) OR (src.[ChangedAt] IS NULL AND src.[CustomerNo] > CONVERT(int, @k0)))'));
	});

	it('"never read" leaves every NULL marker out', () => {
		const request = changeBatchRequest(planFor(datetime2Marker, { nullMarkers: 'never' }), window, beginningCursor('datetime'), 10);
		assert.ok(request.text.includes('src.[ChangedAt] IS NOT NULL'));
	});

	it('a cursor without a key reads the marker value itself again (>=)', () => {
		const request = changeBatchRequest(planFor(datetime2Marker), window, { kind: 'datetime', marker: '2024-01-01T00:00:00', key: null }, 10);
		assert.ok(request.text.includes('((src.[ChangedAt] > CONVERT(datetime2(7), @m, 126)) OR (src.[ChangedAt] = CONVERT(datetime2(7), @m, 126)))'));
	});

	it('expands a composite key in its key order', () => {
		const definition: TableDefinition = {
			name: 'dbo.OrderLines',
			columns: [
				{ name: 'OrderNo', type: 'int', nullable: false },
				{ name: 'LineNo', type: 'varchar(10)', nullable: false },
				{ name: 'ChangedAt', type: 'datetime2(3)' },
			],
			primaryKey: ['OrderNo', 'LineNo'],
		};
		const request = changeBatchRequest(planFor({ kind: 'datetime', column: 'ChangedAt' }, { outputColumns: 'all' }, definition), window, { kind: 'datetime', marker: '2024-01-01T00:00:00.123', key: ['7', 'A'] }, 10);
		const m = 'CONVERT(datetime2(3), @m, 126)';
		assert.ok(
			request.text.includes(
				`((src.[ChangedAt] > ${m}) OR (src.[ChangedAt] = ${m} AND src.[OrderNo] > CONVERT(int, @k0)) OR (src.[ChangedAt] = ${m} AND src.[OrderNo] = CONVERT(int, @k0) AND src.[LineNo] > CONVERT(varchar(10), @k1)))`,
			),
		);
		assert.match(request.text, /ORDER BY src\.\[ChangedAt\], src\.\[OrderNo\], src\.\[LineNo\];$/);
		assert.deepEqual(request.parameters.filter((candidate) => candidate.name.startsWith('k')).map((candidate) => candidate.value), ['7', 'A']);
	});

	it('outputs decimal, numeric and money as exact text, as it does date-times: a double would round their digits (issue 11, item 9)', () => {
		const definition: TableDefinition = {
			name: 'dbo.Amounts',
			columns: [
				{ name: 'AmountNo', type: 'decimal(38,0)', nullable: false },
				{ name: 'Total', type: 'numeric(38,10)' },
				{ name: 'Price', type: 'money' },
				{ name: 'ChangedAt', type: 'datetime2(7)' },
			],
			primaryKey: ['AmountNo'],
		};
		const plan = planFor(datetime2Marker, { outputColumns: 'all' }, definition);
		const request = changeBatchRequest(plan, window, { kind: 'datetime', marker: '2024-01-01T00:00:00', key: ['12345678901234567890123456789012345678'] }, 10);
		assert.ok(request.text.includes('CONVERT(varchar(41), src.[AmountNo]) AS [AmountNo]'));
		assert.ok(request.text.includes('CONVERT(varchar(41), src.[Total]) AS [Total]'));
		assert.ok(request.text.includes('CONVERT(varchar(30), src.[Price], 2) AS [Price]'));
		assert.ok(request.text.includes('src.[AmountNo] > CONVERT(decimal(38,0), @k0)'), 'the cursor key goes back exactly');
	});

	it('outputs date-times as SQL Server\'s ISO text and rowversions as 0x text, never as driver values', () => {
		const request = changeBatchRequest(planFor(datetime2Marker, { outputColumns: 'all' }), window, beginningCursor('datetime'), 10);
		assert.ok(request.text.includes('CONVERT(varchar(34), src.[ChangedAt], 126) AS [ChangedAt]'));
		assert.ok(request.text.includes('CONVERT(varchar(34), src.[ChangeDay], 126) AS [ChangeDay]'));
		assert.ok(request.text.includes('CONVERT(varchar(16), src.[ChangeClock]) AS [ChangeClock]'));
		assert.ok(request.text.includes('CONVERT(varchar(max), src.[RowVer], 1) AS [RowVer]'));
		assert.ok(request.text.includes('src.[Name] AS [Name]'));
	});
});

describe('the batch statement for the other marker kinds', () => {
	it('date + time as integers: ordered by the two marker terms, the cursor text split into yyyymmdd and hhmmss in T-SQL', () => {
		const plan = planFor({ kind: 'dateAndTime', dateColumn: 'LastChangeDate', timeColumn: 'LastChangeTime', timeEncoding: 'hhmmss' });
		const request = changeBatchRequest(plan, window, { kind: 'dateAndTime', marker: '2010-06-04T09:30:00', key: ['4'] }, 10);
		const local = 'CONVERT(datetime2(7), @m, 126)';
		assert.ok(request.text.includes(`mk.changeDate > CONVERT(int, CONVERT(char(8), ${local}, 112))`));
		assert.ok(request.text.includes(`mk.changeTime > (DATEPART(hour, ${local}) * 10000 + DATEPART(minute, ${local}) * 100 + DATEPART(second, ${local}))`));
		assert.ok(request.text.includes(`src.[LastChangeDate] >= CONVERT(int, CONVERT(char(8), ${local}, 112))`), 'a range an index on the date column can seek');
		assert.ok(request.text.includes('CASE WHEN mkv.valid = 1 THEN src.[LastChangeDate] END AS changeDate'));
		assert.ok(request.text.includes('CASE WHEN mkv.valid = 1 THEN ISNULL(src.[LastChangeTime], 0) END AS changeTime'));
		assert.match(request.text, /ORDER BY mk\.changeDate, mk\.changeTime, src\.\[CustomerNo\];$/);
		assert.ok(request.text.includes('DATEFROMPARTS(src.[LastChangeDate] / 10000, src.[LastChangeDate] / 100 % 100, src.[LastChangeDate] % 100)'));
		assert.ok(request.text.includes('TIMEFROMPARTS(ISNULL(src.[LastChangeTime], 0) / 10000'));
	});

	it('date + time: after a row whose date is NULL, every ordering term is compared, not the key alone (issue 11, item 1)', () => {
		const plan = planFor({ kind: 'dateAndTime', dateColumn: 'LastChangeDate', timeColumn: 'LastChangeTime', timeEncoding: 'hhmmss' });
		const request = changeBatchRequest(plan, window, { kind: 'dateAndTime', marker: null, key: ['2'] }, 1);
		const text = squash(request.text);
		const orderBy = (/ORDER BY (.*);$/.exec(text) as RegExpExecArray)[1].split(', ');
		const cursorCondition = text.split(' AND ').slice(-1)[0];
		assert.ok(
			text.includes(`(${orderBy[0]} IS NULL AND ${orderBy[1]} IS NULL AND ${orderBy[2]} > CONVERT(int, @k0))`),
			`the key decides only among rows equal on every earlier ORDER BY term (${orderBy.join(', ')}): ${cursorCondition}`,
		);
	});

	it('date + time: a zero or impossible date or time is read as a NULL marker, DATEFROMPARTS / TIMEFROMPARTS evaluated only for a valid pair (issue 11, item 2)', () => {
		const plan = planFor({ kind: 'dateAndTime', dateColumn: 'LastChangeDate', timeColumn: 'LastChangeTime', timeEncoding: 'hhmmss' });
		const text = squash(changeBatchRequest(plan, window, beginningCursor('dateAndTime'), 10).text);
		const fromParts = text.indexOf('DATEFROMPARTS(');
		assert.ok(fromParts > 0);
		const guard = text.lastIndexOf('CASE WHEN', fromParts);
		assert.ok(text.slice(guard, fromParts).includes('valid = 1 THEN'), 'DATEFROMPARTS only inside CASE WHEN the pair is valid');
		assert.ok(text.includes('src.[LastChangeDate] BETWEEN 10000101 AND 99991231 AND src.[LastChangeDate] / 100 % 100 BETWEEN 1 AND 12'));
		assert.ok(text.includes('src.[LastChangeTime] >= 0 AND src.[LastChangeTime] / 10000 < 24 AND src.[LastChangeTime] / 100 % 100 < 60 AND src.[LastChangeTime] % 100 < 60'));
		assert.ok(text.includes('mk.changeText AS __sync_marker'), 'the marker text is the guarded one');
	});

	it('date + time as date and time(0) columns, and hhmm integers', () => {
		const typed = changeBatchRequest(planFor({ kind: 'dateAndTime', dateColumn: 'ChangeDay', timeColumn: 'ChangeClock', timeEncoding: 'hhmmss' }), window, { kind: 'datetime', marker: '2010-06-04T09:30:00', key: null }, 10);
		assert.ok(typed.text.includes("CASE WHEN mkv.valid = 1 THEN ISNULL(src.[ChangeClock], '00:00:00') END AS changeTime"));
		assert.ok(typed.text.includes('mk.changeTime > CONVERT(time(0), CONVERT(datetime2(7), @m, 126))'));
		assert.ok(typed.text.includes('mk.changeDate > CONVERT(date, CONVERT(datetime2(7), @m, 126))'));
		assert.ok(typed.text.includes('CASE WHEN src.[ChangeDay] IS NOT NULL AND 1 = 1 THEN 1 ELSE 0 END AS valid'));
		const hhmm = changeBatchRequest(planFor({ kind: 'dateAndTime', dateColumn: 'LastChangeDate', timeColumn: 'LastChangeTime', timeEncoding: 'hhmm' }), window, beginningCursor('dateAndTime'), 10);
		assert.ok(hhmm.text.includes('(DATEPART(hour, CONVERT(datetime2(7), @upperBound, 126)) * 100 + DATEPART(minute, CONVERT(datetime2(7), @upperBound, 126)))'));
		assert.ok(hhmm.text.includes('src.[LastChangeTime] >= 0 AND src.[LastChangeTime] / 100 < 24 AND src.[LastChangeTime] % 100 < 60'));
	});

	it('rowversion: compared as binary(8) from 0x text, bounded by the captured MIN_ACTIVE_ROWVERSION', () => {
		const request = changeBatchRequest(planFor({ kind: 'rowversion', column: 'RowVer' }), { upperBound: '0x00000000000007D5' }, { kind: 'rowversion', marker: '0x00000000000007D1', key: ['1'] }, 10);
		assert.ok(request.text.includes('src.[RowVer] < CONVERT(binary(8), @upperBound, 1)'));
		assert.ok(request.text.includes('src.[RowVer] > CONVERT(binary(8), @m, 1)'));
		assert.ok(request.text.includes('CONVERT(varchar(18), src.[RowVer], 1) AS __sync_marker'));
	});

	it('Change Tracking changes: CHANGETABLE from the version before the cursor\'s, deletes found by the missing row, up to the captured version', () => {
		const plan = planFor({ kind: 'changeTracking' });
		const request = changeBatchRequest(plan, { upperBound: '120', snapshotVersion: '120' }, { kind: 'changeTracking', marker: '100', key: ['7'] }, 10);
		const text = squash(request.text);
		assert.ok(text.startsWith('DECLARE @since bigint = CONVERT(bigint, @sinceText);'));
		assert.ok(text.includes('FROM CHANGETABLE(CHANGES [dbo].[Customers], @since) AS ct LEFT JOIN [dbo].[Customers] AS src ON src.[CustomerNo] = ct.[CustomerNo]'));
		assert.ok(text.includes("CASE WHEN src.[CustomerNo] IS NULL THEN 'delete' ELSE 'upsert' END AS __sync_operation"));
		assert.ok(text.includes('ct.SYS_CHANGE_VERSION <= CONVERT(bigint, @upperBound)'));
		assert.ok(text.includes('((ct.SYS_CHANGE_VERSION > CONVERT(bigint, @m)) OR (ct.SYS_CHANGE_VERSION = CONVERT(bigint, @m) AND ct.[CustomerNo] > CONVERT(int, @k0)))'));
		assert.ok(text.includes('ct.[CustomerNo] AS [CustomerNo]'), 'the key of a deleted row comes from the change table');
		assert.equal(parameter(request, 'sinceText')?.value, '99');
		assert.ok(text.includes('ORDER BY ct.SYS_CHANGE_VERSION, ct.[CustomerNo];'));
	});

	it('Change Tracking: every read ends with the minimum valid version, in the same request, checked before any row is used (issue 11, item 6)', () => {
		const plan = planFor({ kind: 'changeTracking' });
		const window: ReadWindow = { upperBound: '120', snapshotVersion: '120' };
		const check = 'SELECT CONVERT(varchar(20), CHANGE_TRACKING_MIN_VALID_VERSION(OBJECT_ID(@table))) AS minValidVersion;';
		const changes: Cursor = { kind: 'changeTracking', marker: '100', key: ['7'] };
		const fullRead: Cursor = { kind: 'changeTracking', marker: null, key: ['7'], snapshotVersion: '80' };
		for (const after of [changes, fullRead, beginningCursor('changeTracking')]) {
			const request = changeBatchRequest(plan, window, after, 10);
			assert.ok(request.text.endsWith(`\n${check}`), 'the check runs after the CHANGETABLE read');
			assert.deepEqual(parameter(request, 'table'), { name: 'table', type: { name: 'nvarchar', length: 520 }, value: '[dbo].[Customers]' });
			assert.ok(changeCountRequest(plan, window, after).text.endsWith(`\n${check}`), 'the count is checked the same way');
		}
		const row = { CustomerNo: 8, Name: 'n', __sync_marker: '101', __sync_operation: 'upsert', __sync_key_0: '8' };
		const answer = (minValidVersion: string) => ({ recordsets: [[row], [{ minValidVersion }]], rowsAffected: [1, 1] });
		assert.equal(batchFromResult(plan, window, changes, answer('99'), 10).rows.length, 1, 'changes after 99 still held');
		assert.throws(
			() => batchFromResult(plan, window, changes, answer('100'), 10),
			(error: unknown) => error instanceof ChangeSourceError && /no longer holds the changes after version 99/.test(error.message) && /full re-send/.test(error.advice),
		);
		assert.throws(() => batchFromResult(plan, window, fullRead, answer('81'), 10), /no longer holds the changes after version 80/);
		assert.throws(() => countFromResult(plan, window, changes, { recordsets: [[{ changeCount: '3' }], [{ minValidVersion: '100' }]], rowsAffected: [1, 1] }), /no longer holds/);
	});

	it('Change Tracking full read: the table in key order, then in the same round trip the changes since its version if it ran out', () => {
		const plan = planFor({ kind: 'changeTracking' });
		const request = changeBatchRequest(plan, { upperBound: '120', snapshotVersion: '120' }, { kind: 'changeTracking', marker: null, key: ['7'], snapshotVersion: '80' }, 10);
		const text = squash(request.text);
		assert.ok(text.includes('FROM [dbo].[Customers] AS src WHERE src.[CustomerNo] > CONVERT(int, @k0) ORDER BY src.[CustomerNo]; IF @@ROWCOUNT < @take SELECT TOP (@take)'));
		assert.equal(parameter(request, 'sinceText')?.value, '80');
		const fresh = changeBatchRequest(plan, { upperBound: '120', snapshotVersion: '120' }, beginningCursor('changeTracking'), 10);
		assert.equal(parameter(fresh, 'sinceText')?.value, '120', 'a new full read is anchored at the version captured for this execution');
	});
});

describe('names and values in the statement', () => {
	const odd: TableDefinition = {
		name: 'dbo.Odd',
		columns: [
			{ name: 'Key]; DROP TABLE x; --', type: 'int', nullable: false },
			{ name: 'Changed]At', type: 'datetime2(7)' },
			{ name: 'City', type: 'nvarchar(50)' },
			{ name: 'Amount', type: 'decimal(18,2)' },
			{ name: 'Active', type: 'bit' },
			{ name: 'Since', type: 'datetime2(7)' },
		],
		primaryKey: ['Key]; DROP TABLE x; --'],
	};

	it('bracket-quotes every name, doubling ], so a name cannot end the quoting', () => {
		const request = changeBatchRequest(planFor({ kind: 'datetime', column: 'Changed]At' }, { outputColumns: 'all' }, odd), window, { kind: 'datetime', marker: '2024-01-01T00:00:00', key: ['1'] }, 10);
		assert.ok(request.text.includes('src.[Changed]]At]'));
		assert.ok(request.text.includes('src.[Key]]; DROP TABLE x; --]'));
		assert.ok(!/DROP TABLE x; --[^\]]/.test(request.text));
	});

	it('sends filter values as parameters typed as their column, never in the text', () => {
		const filters = [
			{ column: 'City', operator: 'equal' as const, value: "Oslo' OR 1=1 --" },
			{ column: 'Amount', operator: 'greater' as const, value: '100.5' },
			{ column: 'Active', operator: 'equal' as const, value: 'true' },
			{ column: 'Since', operator: 'greaterOrEqual' as const, value: '2024-01-01 08:00' },
			{ column: 'City', operator: 'isNotNull' as const },
		];
		const request = changeBatchRequest(planFor({ kind: 'datetime', column: 'Changed]At' }, { filters, outputColumns: 'all' }, odd), window, beginningCursor('datetime'), 10);
		assert.ok(!request.text.includes('Oslo'));
		assert.ok(request.text.includes('src.[City] = @f0'));
		assert.ok(request.text.includes('src.[Amount] > CONVERT(decimal(18,2), @f1)'), 'a decimal value as exact text (issue 11, item 9)');
		assert.ok(request.text.includes('src.[Since] >= CONVERT(datetime2(7), @f3, 126)'));
		assert.ok(request.text.includes('src.[City] IS NOT NULL'));
		assert.deepEqual(
			request.parameters.filter((candidate) => candidate.name.startsWith('f')),
			[
				{ name: 'f0', type: { name: 'nvarchar', length: 4000 }, value: "Oslo' OR 1=1 --" },
				{ name: 'f1', type: { name: 'varchar', length: 41 }, value: '100.5' },
				{ name: 'f2', type: { name: 'bit' }, value: true },
				{ name: 'f3', type: { name: 'varchar', length: 34 }, value: '2024-01-01T08:00' },
			],
		);
	});

	it('compares a text or ntext column through varchar(max) / nvarchar(max), which SQL Server refuses to compare directly (error 402; issue 11, item 4)', () => {
		const legacy: TableDefinition = {
			...customers,
			columns: [...customers.columns, { name: 'Notes', type: 'ntext' }, { name: 'Memo', type: 'text' }],
		};
		const filters = [
			{ column: 'Notes', operator: 'equal' as const, value: 'VIP' },
			{ column: 'Memo', operator: 'notEqual' as const, value: 'old' },
			{ column: 'Notes', operator: 'like' as const, value: 'V%' },
			{ column: 'Memo', operator: 'isNull' as const },
		];
		const text = changeBatchRequest(planFor(datetime2Marker, { filters }, legacy), window, beginningCursor('datetime'), 10).text;
		assert.ok(text.includes('CONVERT(nvarchar(max), src.[Notes]) = @f0'), text);
		assert.ok(text.includes('CONVERT(varchar(max), src.[Memo]) <> @f1'), text);
		assert.ok(text.includes('CONVERT(nvarchar(max), src.[Notes]) LIKE @f2'), text);
		assert.ok(text.includes('src.[Memo] IS NULL'), text);
		assert.ok(!/src\.\[(Notes|Memo)\] (=|<>|LIKE)/.test(text), 'no direct comparison of a text or ntext column');
	});

	it('refuses a filter value that is not of the column\'s type, and LIKE on a number, naming the column', () => {
		assert.throws(() => planFor(datetime2Marker, { filters: [{ column: 'CustomerNo', operator: 'equal', value: '12a' }] }), (error: unknown) => error instanceof ChangeSourceError && /"12a".*"CustomerNo".*whole number/.test(error.message));
		assert.throws(() => planFor(datetime2Marker, { filters: [{ column: 'CustomerNo', operator: 'like', value: '1%' }] }), (error: unknown) => error instanceof ChangeSourceError && /"Like" needs a text column/.test(error.message));
		assert.throws(() => planFor(datetime2Marker, { filters: [{ column: 'ChangedAt', operator: 'less', value: '31.12.2024' }] }), (error: unknown) => error instanceof ChangeSourceError && /date-time such as/.test(error.advice + error.message));
	});
});

describe('checking the source and the cursor before reading', () => {
	it('refuses marker columns of the wrong type, naming the column and its type', () => {
		assert.throws(() => planFor({ kind: 'datetime', column: 'Name' }), (error: unknown) => error instanceof ChangeSourceError && error.message.includes('"Name" of dbo.Customers is nvarchar'));
		assert.throws(() => planFor({ kind: 'rowversion', column: 'ChangedAt' }), (error: unknown) => error instanceof ChangeSourceError && /rowversion/.test(error.advice));
		const adviceMatches = (pattern: RegExp) => (error: unknown) => error instanceof ChangeSourceError && pattern.test(error.advice);
		assert.throws(() => planFor({ kind: 'dateAndTime', dateColumn: 'Name', timeColumn: 'LastChangeTime', timeEncoding: 'hhmmss' }), adviceMatches(/yyyymmdd/));
		assert.throws(() => planFor({ kind: 'dateAndTime', dateColumn: 'LastChangeDate', timeColumn: 'City', timeEncoding: 'hhmmss' }), adviceMatches(/hhmmss or hhmm/));
	});

	it('refuses a key it cannot carry exactly, a table without a key, and a Change Tracking key other than the primary key', () => {
		assert.throws(() => planFor(datetime2Marker, { keyColumns: ['Balance'] }), /"Balance".*float.*key column/);
		assert.throws(() => planFor(datetime2Marker, {}, { ...customers, name: 'dbo.Heap', primaryKey: [] }), (error: unknown) => error instanceof ChangeSourceError && /no primary key/.test(error.message) && /key columns/.test(error.advice));
		assert.throws(() => planFor({ kind: 'changeTracking' }, { keyColumns: ['Name'] }), /primary key \(CustomerNo\)/);
		assert.throws(() => planFor({ kind: 'changeTracking' }, {}, { ...customers, changeTracking: false }), /Change Tracking is not enabled on dbo\.Customers/);
	});

	it('refuses a negative lag and an unknown time zone', () => {
		assert.throws(() => planFor(datetime2Marker, { lagSeconds: -1 }), /safety lag must be from 0/);
		assert.throws(() => planFor(datetime2Marker, { timeZone: 'Mars/Olympus' }), TimeZoneError);
		assert.equal(planFor(datetime2Marker, { lagSeconds: 0 }).lagSeconds, 0, 'a zero lag is allowed');
	});

	it('refuses a column whose name it keeps for its bookkeeping', () => {
		const plan = planFor(datetime2Marker, { outputColumns: 'all' }, { ...customers, columns: [...customers.columns, { name: '__sync_marker', type: 'int' }] });
		assert.throws(() => changeBatchRequest(plan, window, beginningCursor('datetime'), 10), /__sync_marker/);
	});

	it('accepts a date-time cursor for a date + time marker and the other way round, as local date-times', () => {
		const plan = planFor({ kind: 'dateAndTime', dateColumn: 'LastChangeDate', timeColumn: 'LastChangeTime', timeEncoding: 'hhmmss' });
		assert.deepEqual(cursorForSource(plan, { kind: 'datetime', marker: '2010-06-04T00:00:00', key: null }), { kind: 'dateAndTime', marker: '2010-06-04T00:00:00', key: null });
		assert.equal(cursorForSource(planFor(datetime2Marker), { kind: 'dateAndTime', marker: '2010-06-04T00:00:00', key: null }).kind, 'datetime');
	});

	it('refuses a date-time cursor for rowversion or Change Tracking, and a cursor with the wrong number of key values', () => {
		const dateCursor: Cursor = { kind: 'datetime', marker: '2024-01-01T00:00:00', key: null };
		assert.throws(() => cursorForSource(planFor({ kind: 'rowversion', column: 'RowVer' }), dateCursor), (error: unknown) => error instanceof ChangeSourceError && /cannot start from a date/.test(error.advice) && /Rewind "to the beginning"/.test(error.advice));
		assert.throws(() => cursorForSource(planFor({ kind: 'changeTracking' }), dateCursor), /read by Change Tracking/);
		assert.throws(() => cursorForSource(planFor({ kind: 'changeTracking' }), { kind: 'rowversion', marker: '0x0000000000000001', key: null }), /is a rowversion/);
		assert.throws(() => cursorForSource(planFor(datetime2Marker), { ...dateCursor, key: ['1', '2'] }), /2 key value\(s\)/);
	});

	it('fixes the window from the server\'s facts: the local bound, MIN_ACTIVE_ROWVERSION, the Change Tracking version', () => {
		assert.deepEqual(readWindowFrom(planFor(datetime2Marker), { serverUtcNow: '2024-10-27T00:30:00.0000000' }, beginningCursor('datetime')), { upperBound: '2024-10-27T02:00:00.000' });
		assert.deepEqual(readWindowFrom(planFor({ kind: 'rowversion', column: 'RowVer' }), { minActiveRowversion: '0x00000000000007D5' }, beginningCursor('rowversion')), { upperBound: '0x00000000000007D5' });
		assert.deepEqual(readWindowFrom(planFor({ kind: 'changeTracking' }), { currentVersion: '120', minValidVersion: '50' }, { kind: 'changeTracking', marker: '51', key: null }), { upperBound: '120', snapshotVersion: '120' });
	});

	it('refuses a Change Tracking version older than the oldest the server still holds, saying how to re-send everything', () => {
		const plan = planFor({ kind: 'changeTracking' });
		for (const cursor of [
			{ kind: 'changeTracking', marker: '50', key: null },
			{ kind: 'changeTracking', marker: null, key: ['3'], snapshotVersion: '49' },
		] as Cursor[]) {
			assert.throws(
				() => readWindowFrom(plan, { currentVersion: '120', minValidVersion: '50' }, cursor),
				(error: unknown) => error instanceof ChangeSourceError && /no longer holds the changes after version 49/.test(error.message) && /full re-send is needed/.test(error.advice),
			);
		}
		assert.throws(() => readWindowFrom(plan, { currentVersion: null, minValidVersion: null }, beginningCursor('changeTracking')), /VIEW CHANGE TRACKING/);
	});
});

describe('rows of a batch result', () => {
	it('keeps at most the batch, tells whether more follow, and gives each row the cursor just past it', () => {
		const plan = planFor(datetime2Marker);
		const rows = [1, 2, 3].map((n) => ({ CustomerNo: n, Name: `C${n}`, __sync_marker: '2024-03-31T01:59:59.1234567', __sync_key_0: String(n) }));
		const batch = batchFromResult(plan, window, beginningCursor('datetime'), { recordsets: [rows], rowsAffected: [3] }, 2);
		assert.equal(batch.hasMore, true);
		assert.deepEqual(batch.rows.map((row) => row.cursor), [
			{ kind: 'datetime', marker: '2024-03-31T01:59:59.1234567', key: ['1'] },
			{ kind: 'datetime', marker: '2024-03-31T01:59:59.1234567', key: ['2'] },
		]);
		assert.deepEqual(batch.rows[0].values, { CustomerNo: 1, Name: 'C1' });
		assert.equal(batchFromResult(plan, window, beginningCursor('datetime'), { recordsets: [rows], rowsAffected: [3] }, 3).hasMore, false);
	});

	it('stops before any row when the rows SQL Server returned repeat a key (under the collation) or have a NULL key (issue 11, item 7)', () => {
		const definition: TableDefinition = { name: 'dbo.CustomerView', columns: [{ name: 'Code', type: 'varchar(10)', nullable: false }, { name: 'ChangedAt', type: 'datetime2(7)' }], primaryKey: ['Code'], view: true };
		const plan = planFor(datetime2Marker, { keyColumns: ['Code'], outputColumns: 'all' }, definition);
		const answer = (...codes: Array<string | null>) => ({ recordsets: [codes.map((code) => ({ Code: code, ChangedAt: '2024-01-01T00:00:00', __sync_marker: '2024-01-01T00:00:00', __sync_key_0: code }))], rowsAffected: [codes.length] });
		assert.equal(batchFromResult(plan, window, beginningCursor('datetime'), answer('a', 'b'), 1).rows.length, 1);
		assert.throws(() => batchFromResult(plan, window, beginningCursor('datetime'), answer('a', 'A  '), 1), /Two rows of dbo\.CustomerView have the same key \(Code "A {2}"\)/, 'the row one past the batch is checked too');
		assert.throws(() => batchFromResult(plan, window, beginningCursor('datetime'), answer('a', null), 5), /no value \(NULL\) in key column "Code"/);
	});

	it('reads a Change Tracking full read then its changes, a delete carrying its key only', () => {
		const plan = planFor({ kind: 'changeTracking' });
		const snapshotRows = [{ CustomerNo: 9, Name: 'n', __sync_marker: null, __sync_operation: 'upsert', __sync_key_0: '9' }];
		const changeRows = [{ CustomerNo: 2, Name: null, __sync_marker: '121', __sync_operation: 'delete', __sync_key_0: '2' }];
		const batch = batchFromResult(plan, { upperBound: '130', snapshotVersion: '130' }, { kind: 'changeTracking', marker: null, key: ['8'], snapshotVersion: '120' }, { recordsets: [snapshotRows, changeRows, [{ minValidVersion: '100' }]], rowsAffected: [1, 1, 1] }, 10);
		assert.deepEqual(batch.rows.map((row) => [row.operation, row.values, row.cursor]), [
			['upsert', { CustomerNo: 9, Name: 'n' }, { kind: 'changeTracking', marker: null, key: ['9'], snapshotVersion: '120' }],
			['delete', { CustomerNo: 2 }, { kind: 'changeTracking', marker: '121', key: ['2'] }],
		]);
	});
});
