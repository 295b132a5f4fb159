/**
 * The SQL Server watermark store against the recording transport double: the T-SQL it sends, its typed
 * parameters, its round trips, and how it reads SQL Server's answers. The meaning of the statements is
 * checked against a real server by the same contract suite the in-memory store passes (test/integration).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { UnknownColumnError } from '../../nodes/shared/catalog';
import { serializeCursor } from '../../nodes/shared/core/cursor';
import { decisionSql } from '../../nodes/shared/core/decisionTable';
import { COMMIT_VERDICTS } from '../../nodes/shared/core/watermark';
import type { CursorLocation } from '../../nodes/shared/core/watermarkLocation';
import { CursorLocationError, PACKAGE_TABLE } from '../../nodes/shared/core/watermarkLocation';
import type { SqlRequest, SqlResult } from '../../nodes/shared/transport/types';
import { SqlServerWatermarkStore } from '../../nodes/Watermark/stores/sqlServerWatermarkStore';
import type { WatermarkTables } from '../../nodes/Watermark/stores/watermarkStore';
import { DEFAULT_WATERMARK_TABLES } from '../../nodes/Watermark/stores/watermarkStore';
import { COMMIT_OPERANDS, MissingSchemaError, STATE_COLUMNS, UncreatableTableError, WatermarkTableError, tableMismatches } from '../../nodes/Watermark/stores/watermarkSql';
import { RecordingSqlTransport, resultOf } from '../support/recordingTransport';
import { C1, acquireRequest, audit, columnsOf, stateRow, tablesResult } from '../support/watermarkSqlAnswers';

const C2 = serializeCursor({ kind: 'datetime', marker: '2025-03-02T10:00:00', key: ['18'] });


type Answer = (request: SqlRequest) => SqlResult | undefined;

/** Answers the table check, then whatever `answer` knows; anything else is a test failure. */
function double(answer: Answer, tables = tablesResult(columnsOf(STATE_COLUMNS, 'state'))): RecordingSqlTransport {
	return new RecordingSqlTransport((request) => {
		if (request.text.includes('CREATE TABLE')) return tables;
		const result = answer(request);
		if (!result) throw new Error(`unexpected request:\n${request.text}`);
		return result;
	});
}

const parameter = (request: SqlRequest, name: string) => {
	const found = request.parameters.find((candidate) => candidate.name === name);
	assert.ok(found, `parameter @${name} is sent`);
	return found;
};

describe('SQL Server watermark store: tables', () => {
	it('creates both tables if missing (race-safe), once per store, then checks their columns', async () => {
		const sql = double((request) => (request.text.includes('DECLARE @taken TABLE') ? resultOf([{ ...stateRow(), outcome: 'acquired', firstUse: 0 }]) : undefined));
		const store = new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES);
		await store.acquire(acquireRequest());
		await store.acquire(acquireRequest());
		assert.equal(sql.roundTrips, 3, 'the table check runs once per store');
		const ensure = sql.requests[0].text;
		assert.match(ensure, /IF SCHEMA_ID\(N'dbo'\) IS NOT NULL AND OBJECT_ID\(N'\[dbo\]\.\[ContractingCrmWatermark\]', N'U'\) IS NULL/);
		assert.match(ensure, /CREATE TABLE \[dbo\]\.\[ContractingCrmWatermark\] \(/);
		assert.match(ensure, /CREATE TABLE \[dbo\]\.\[ContractingCrmWatermarkHistory\] \(/);
		assert.match(ensure, /\[Id\] bigint IDENTITY\(1,1\) NOT NULL/);
		assert.match(ensure, /IF ERROR_NUMBER\(\) <> 2714 THROW;/);
		assert.match(ensure, /CREATE INDEX \[IX_ContractingCrmWatermarkHistory_Stream\]/);
		assert.deepEqual(sql.requests[0].parameters, []);
	});

	it('quotes a configured name with brackets, doubling a closing bracket', async () => {
		const tables: WatermarkTables = { state: { schema: 'sync', name: 'Mark]er' }, history: { schema: 'sync', name: "Mark'History" } };
		const sql = double(() => resultOf([]));
		await new SqlServerWatermarkStore(sql, tables).streamNames();
		assert.match(sql.requests[0].text, /CREATE TABLE \[sync\]\.\[Mark\]\]er\]/);
		assert.match(sql.requests[0].text, /OBJECT_ID\(N'\[sync\]\.\[Mark''History\]', N'U'\)/);
		assert.match(sql.requests[1].text, /FROM \[sync\]\.\[Mark\]\]er\] ORDER BY \[Stream\]/);
	});

	it('refuses an existing table whose columns do not match, naming each problem, and sends nothing else', async () => {
		const wrong = columnsOf(STATE_COLUMNS, 'state')
			.filter((column) => column.name !== 'RewoundAtGeneration')
			.map((column) => (column.name === 'Generation' ? { ...column, typeName: 'int' } : column.name === 'CursorText' ? { ...column, maxLength: 1000 } : column));
		const sql = double(() => undefined, tablesResult(wrong));
		const store = new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES);
		await assert.rejects(store.acquire(acquireRequest()), (error: unknown) => {
			assert.ok(error instanceof WatermarkTableError);
			assert.equal(
				error.message,
				'The table dbo.ContractingCrmWatermark exists but is not a watermark table of this package: column CursorText is too short for nvarchar(max); column Generation is int, not bigint; column RewoundAtGeneration is missing',
			);
			return true;
		});
		assert.equal(sql.roundTrips, 1);
	});

	it('says which permissions to grant when a table is still missing after the create ran', async () => {
		const sql = double(() => undefined, tablesResult([]));
		await assert.rejects(new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES).acquire(acquireRequest()), (error: unknown) => {
			assert.ok(error instanceof UncreatableTableError);
			assert.equal(error.message, 'The table dbo.ContractingCrmWatermark is missing and could not be created');
			assert.match(error.advice, /CREATE TABLE/);
			return true;
		});
	});

	it('refuses a schema that does not exist', async () => {
		const sql = double(() => undefined, resultOf([{ stateSchemaExists: 0, historySchemaExists: 0 }], []));
		const store = new SqlServerWatermarkStore(sql, { state: { schema: 'sync', name: 'W' }, history: { schema: 'sync', name: 'WHistory' } });
		await assert.rejects(store.streamNames(), /schema sync does not exist/);
	});

	it('says of a missing schema that it is missing, not that a table of that name is not a watermark table', async () => {
		const sql = double(() => undefined, resultOf([{ stateSchemaExists: 0, historySchemaExists: 0 }], []));
		const store = new SqlServerWatermarkStore(sql, { state: { schema: 'sync', name: 'W' }, history: { schema: 'sync', name: 'WHistory' } });
		await assert.rejects(store.streamNames(), (error: unknown) => {
			assert.ok(error instanceof MissingSchemaError);
			assert.doesNotMatch(error.message, /exists but is not a watermark table/);
			assert.match(error.advice, /Create the schema sync in this database, or name the table under "Watermark Tables" in schema dbo/);
			return true;
		});
	});

	it('accepts wider columns, MAX for text, and any extra columns', () => {
		const wider = [...columnsOf(STATE_COLUMNS, 'state').map((column) => (column.name === 'Stream' ? { ...column, maxLength: -1 } : column)), { tableRole: 'state', name: 'Note', typeName: 'nvarchar', maxLength: 20 }];
		assert.deepEqual(tableMismatches(STATE_COLUMNS, wider), []);
	});
});

describe('SQL Server watermark store: Get takes the lease in one atomic round trip', () => {
	it('sends one batch: the first-use insert, the lease UPDATE guarded by UPDLOCK/HOLDLOCK, the history, in one transaction', async () => {
		const sql = double((request) =>
			request.text.includes('DECLARE @taken TABLE') ? resultOf([{ ...stateRow({ generation: 0, storedValue: null }), outcome: 'acquired', firstUse: 1, previousOwner: null }]) : undefined,
		);
		const result = await new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES).acquire(acquireRequest({ startingCursor: C1 }));
		const [, lease] = sql.requests;
		assert.equal(sql.roundTrips, 2);
		assert.equal(sql.requests.filter((request) => request.text.includes('[LeaseOwner] = @owner')).length, 1, 'the lease is one statement in one request');
		assert.match(lease.text, /DECLARE @now datetime2\(3\) = SYSUTCDATETIME\(\);/, "the server's clock, not n8n's");
		assert.match(lease.text, /BEGIN TRANSACTION;[\s\S]*COMMIT TRANSACTION;/);
		assert.match(lease.text, /SELECT @exists = 1, @recordedLocation = \[CursorLocation\] FROM \[dbo\]\.\[ContractingCrmWatermark\] WITH \(UPDLOCK, HOLDLOCK\) WHERE \[Stream\] = @stream;/);
		assert.match(
			lease.text,
			/UPDATE \[dbo\]\.\[ContractingCrmWatermark\] WITH \(UPDLOCK, HOLDLOCK\)\nSET \[LeaseOwner\] = @owner, \[LeaseExpiresAt\] = DATEADD\(second, @leaseSeconds, @now\)[\s\S]*WHERE \[Stream\] = @stream AND \(\[LeaseOwner\] IS NULL OR \[LeaseOwner\] COLLATE Latin1_General_BIN2 = @owner OR \[LeaseExpiresAt\] <= @now\);/,
		);
		assert.match(lease.text, /'first use', @startingReason/);
		assert.match(lease.text, /'takeover'/);
		assert.deepEqual(parameter(lease, 'stream').type, { name: 'nvarchar', length: 200 });
		assert.deepEqual(parameter(lease, 'owner'), { name: 'owner', type: { name: 'nvarchar', length: 200 }, value: '42' });
		assert.deepEqual(parameter(lease, 'leaseSeconds'), { name: 'leaseSeconds', type: { name: 'int' }, value: 600 });
		assert.deepEqual(parameter(lease, 'startingValue'), { name: 'startingValue', type: { name: 'nvarchar', length: -1 }, value: C1 });
		assert.deepEqual(parameter(lease, 'startingKind'), { name: 'startingKind', type: { name: 'varchar', length: 20 }, value: 'datetime' });
		assert.deepEqual(parameter(lease, 'timeZone'), { name: 'timeZone', type: { name: 'varchar', length: 64 }, value: 'Europe/Oslo' });
		assert.deepEqual(parameter(lease, 'location').value, null);
		assert.deepEqual(parameter(lease, 'executionId').value, '42');
		assert.ok(!lease.text.includes('customers'), 'values never enter the T-SQL text');
		assert.equal(result.kind, 'acquired');
		assert.equal(result.kind === 'acquired' && result.firstUse, true);
		assert.equal(result.kind === 'acquired' && result.state.leaseExpiresAt, '2025-03-30T01:10:00.000Z');
	});

	it('reads a held lease and a takeover from the answer', async () => {
		let answer = { ...stateRow({ leaseOwner: '7' }), outcome: 'held', firstUse: 0 };
		const sql = double((request) => (request.text.includes('DECLARE @taken TABLE') ? resultOf([answer]) : undefined));
		const store = new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES);
		assert.deepEqual(await store.acquire(acquireRequest()), { kind: 'held', owner: '7', until: '2025-03-30T01:10:00.000Z' });
		answer = { ...stateRow(), outcome: 'acquired', firstUse: 0, previousOwner: '7', previousExpiry: '2025-03-30T00:59:00.000' } as typeof answer;
		const taken = await store.acquire(acquireRequest());
		assert.deepEqual(taken.kind === 'acquired' && taken.takenOverFrom, { owner: '7', expiredAt: '2025-03-30T00:59:00.000Z' });
		assert.equal(taken.kind === 'acquired' && taken.state.cursor, C1);
	});

	it('refuses a Get that names another place for the cursor than the stream uses', async () => {
		const sql = double(systemCodes(LEGACY_COLUMNS, 1, { outcome: 'location differs', recordedLocation: null }));
		const store = new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES);
		await assert.rejects(store.acquire(acquireRequest({ location: textLocation })), /keeps its watermark in this package's watermark table, but this node is set to keep it in dbo.SystemCodes.CrmCursor/);
	});
});

describe('SQL Server watermark store: Set is one compare-and-set', () => {
	it('reads where the stream keeps its cursor, then sends the compare-and-set with typed parameters', async () => {
		const sql = double((request) => {
			if (request.text.includes('w.[CursorText] AS storedValue')) return resultOf([stateRow()]);
			if (request.text.includes('@verdict')) return resultOf([{ ...stateRow({ generation: 4, storedValue: C2, leaseOwner: null }), verdict: 'store', previousValue: C1, previousKind: 'datetime' }]);
			return undefined;
		});
		const result = await new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES).commit({
			token: { stream: 'customers', generation: 3, owner: '42' },
			move: { from: C1, to: C2 },
			allowBackwards: false,
			releaseLease: true,
			audit,
		});
		assert.equal(sql.roundTrips, 3);
		const cas = sql.requests[2];
		assert.match(cas.text, /FROM \[dbo\]\.\[ContractingCrmWatermark\] WITH \(UPDLOCK, HOLDLOCK\) WHERE \[Stream\] = @stream;/);
		assert.ok(cas.text.includes(`SET @verdict = ${decisionSql(COMMIT_VERDICTS, COMMIT_OPERANDS)};`), 'the verdict is decideCommit\'s own table');
		assert.match(cas.text, /UPDATE \[dbo\]\.\[ContractingCrmWatermark\] SET \[CursorText\] = @newValue WHERE \[Stream\] = @stream;/);
		assert.match(cas.text, /SET \[Generation\] = \[Generation\] \+ 1/);
		assert.match(cas.text, /IF @verdict IN \('rewound meanwhile', 'not where the batch started'\) OR \(@releaseLease = 1 AND @verdict IN \('store', 'nothing to store'\)\)/);
		assert.match(cas.text, /ELSE IF @verdict IN \('store', 'nothing to store'\)\n\tUPDATE \[dbo\]\.\[ContractingCrmWatermark\] SET \[LeaseExpiresAt\] = DATEADD\(second, \[LeaseSeconds\], @now\)/);
		assert.deepEqual(parameter(cas, 'tokenGeneration'), { name: 'tokenGeneration', type: { name: 'bigint' }, value: 3 });
		assert.deepEqual(parameter(cas, 'hasNewCursor'), { name: 'hasNewCursor', type: { name: 'bit' }, value: true });
		assert.deepEqual(parameter(cas, 'batchStart').value, C1);
		assert.deepEqual(parameter(cas, 'newValue').value, C2);
		assert.deepEqual(parameter(cas, 'newKind').value, 'datetime');
		assert.deepEqual(parameter(cas, 'releaseLease').value, true);
		assert.deepEqual(result, {
			verdict: 'store',
			previousCursor: C1,
			state: {
				stream: 'customers',
				cursor: C2,
				generation: 4,
				rewoundAtGeneration: 1,
				timeZone: 'Europe/Oslo',
				leaseOwner: null,
				leaseExpiresAt: '2025-03-30T01:10:00.000Z',
				cursorChangedAt: '2025-03-30T01:00:00.123Z',
				location: PACKAGE_TABLE,
			},
		});
	});

	it('sends the batch start of a date + time source with the kind the stored cursor compares by', async () => {
		const sql = double((request) => {
			if (request.text.includes('w.[CursorText] AS storedValue')) return resultOf([stateRow()]);
			if (request.text.includes('@verdict')) return resultOf([{ ...stateRow(), verdict: 'store', previousValue: C1, previousKind: 'datetime' }]);
			return undefined;
		});
		const from = serializeCursor({ kind: 'dateAndTime', marker: '2025-03-01T10:00:00', key: null });
		await new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES).commit({ token: { stream: 'customers', generation: 3, owner: '42' }, move: { from, to: C2 }, allowBackwards: false, releaseLease: true, audit });
		assert.equal(parameter(sql.requests[2], 'batchStart').value, serializeCursor({ kind: 'datetime', marker: '2025-03-01T10:00:00', key: null }));
	});

	it('answers an unknown stream without sending the compare-and-set', async () => {
		const sql = double((request) => (request.text.includes('w.[CursorText] AS storedValue') ? resultOf([]) : undefined));
		const result = await new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES).commit({ token: { stream: 'x', generation: 0, owner: '1' }, allowBackwards: false, releaseLease: true, audit });
		assert.deepEqual(result, { verdict: 'unknown stream', previousCursor: null });
		assert.equal(sql.roundTrips, 2);
	});
});

describe('SQL Server watermark store: Rewind and Undo', () => {
	it('replaces the cursor only at the expected generation and marks the rewind generation', async () => {
		const sql = double((request) => {
			if (request.text.includes('w.[CursorText] AS storedValue')) return resultOf([stateRow()]);
			if (request.text.includes('@expectedGeneration')) return resultOf([{ ...stateRow({ generation: 4, rewoundAtGeneration: 4, storedValue: null }), replaced: 1 }]);
			return undefined;
		});
		const result = await new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES).replaceCursor({ stream: 'customers', expectedGeneration: 3, cursor: null, action: 'rewind', reason: 'Rewound by support', audit });
		const replace = sql.requests[2];
		assert.match(replace.text, /IF @generation = @expectedGeneration/);
		assert.match(replace.text, /SET \[Generation\] = \[Generation\] \+ 1, \[RewoundAtGeneration\] = \[Generation\] \+ 1/);
		assert.deepEqual(parameter(replace, 'action'), { name: 'action', type: { name: 'varchar', length: 20 }, value: 'rewind' });
		assert.deepEqual(parameter(replace, 'reason'), { name: 'reason', type: { name: 'nvarchar', length: 1000 }, value: 'Rewound by support' });
		assert.equal(parameter(replace, 'newValue').value, null);
		assert.equal(result.replaced, true);
		assert.equal(result.state?.cursor, null);
	});

	it('reads history newest first and the entry in effect at a time, as UTC', async () => {
		const entry = { id: 9, stream: 'customers', oldCursor: null, newCursor: C1, changedAt: '2025-03-29T08:00:00.000', workflowId: 'wf', executionId: '3', action: 'set', reason: null };
		const sql = double(() => resultOf([entry]));
		const store = new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES);
		assert.equal((await store.history('customers', 5))[0].changedAt, '2025-03-29T08:00:00.000Z');
		assert.match(sql.requests[1].text, /SELECT TOP \(@limit\)[\s\S]*ORDER BY \[Id\] DESC;/);
		await store.entryInEffectAt('customers', '2025-03-29T09:00:00.000Z');
		assert.match(sql.requests[2].text, /\[ChangedAt\] <= CONVERT\(datetime2\(3\), @at, 126\) AND \[Action\] <> 'takeover'/);
		assert.deepEqual(parameter(sql.requests[2], 'at'), { name: 'at', type: { name: 'varchar', length: 23 }, value: '2025-03-29T09:00:00.000' });
	});
});

const LEGACY_COLUMNS = [
	{ name: 'CompanyNo', typeName: 'int', maxLength: 4 },
	{ name: 'Code', typeName: 'varchar', maxLength: 10 },
	{ name: 'LastChangeDate', typeName: 'int', maxLength: 4 },
	{ name: 'LastChangeTime', typeName: 'int', maxLength: 4 },
	{ name: 'CrmCursor', typeName: 'nvarchar', maxLength: -1 },
];
const textLocation: CursorLocation = {
	kind: 'textColumn',
	table: { schema: 'dbo', name: 'SystemCodes' },
	filterColumn: 'Code',
	filterValue: 'CRM',
	cursorColumn: 'CrmCursor',
};
const pairLocation: CursorLocation = {
	kind: 'dateAndTimeColumns',
	table: { schema: 'dbo', name: 'SystemCodes' },
	filterColumn: 'CompanyNo',
	filterValue: '1',
	dateColumn: 'LastChangeDate',
	timeColumn: 'LastChangeTime',
};

function systemCodes(
	columns: Array<{ name: string; typeName: string; maxLength: number }>,
	rowsFound = 1,
	leaseAnswer: Record<string, unknown> = { ...stateRow({ storedValue: '2010-06-04T00:00:00', cursorKind: null, cursorLocation: JSON.stringify(pairLocation) }), outcome: 'acquired', firstUse: 1 },
): Answer {
	return (request) => {
		if (request.text.includes('DECLARE @object int')) {
			return resultOf(
				[{ kind: 'table', changeTracking: 0 }],
				columns.map((column) => ({ ...column, precision: 0, scale: 0, nullable: 1, isIdentity: 0, isComputed: 0, hasDefault: 0, primaryKeyOrdinal: 0 })),
				[],
			);
		}
		if (request.text.includes('COUNT_BIG')) return resultOf([{ rowsFound }]);
		if (request.text.includes('DECLARE @taken TABLE')) return resultOf([leaseAnswer]);
		return undefined;
	};
}

describe('SQL Server watermark store: the cursor in an existing table', () => {
	const legacyColumns = LEGACY_COLUMNS;

	it('checks the columns, that the filter picks one row, and reads and writes the yyyymmdd + hhmmss pair in the lease batch', async () => {
		const sql = double(systemCodes(legacyColumns));
		const result = await new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES).acquire(acquireRequest({ location: pairLocation, startingCursor: C1 }));
		const [, , count, lease] = sql.requests;
		assert.equal(count.text, 'SELECT COUNT_BIG(*) AS rowsFound FROM [dbo].[SystemCodes] WHERE [CompanyNo] = @filterValue;');
		assert.deepEqual(parameter(count, 'filterValue'), { name: 'filterValue', type: { name: 'int' }, value: 1 });
		assert.match(lease.text, /SELECT @stored = CASE WHEN \[LastChangeDate\] IS NULL OR \[LastChangeDate\] = 0 THEN NULL ELSE STUFF\(STUFF\(CONVERT\(char\(8\), \[LastChangeDate\]\), 7, 0, '-'\), 5, 0, '-'\) \+ 'T' \+ ISNULL\(STUFF\(STUFF\(RIGHT\('000000' \+ CONVERT\(varchar\(6\), \[LastChangeTime\]\), 6\), 5, 0, ':'\), 3, 0, ':'\), '00:00:00'\) END\nFROM \[dbo\]\.\[SystemCodes\] WITH \(UPDLOCK, HOLDLOCK\) WHERE \[CompanyNo\] = @filterValue;/);
		assert.match(lease.text, /UPDATE \[dbo\]\.\[SystemCodes\] SET \[LastChangeDate\] = CONVERT\(int, REPLACE\(LEFT\(@startingValue, 10\), '-', ''\)\), \[LastChangeTime\] = CONVERT\(int, REPLACE\(SUBSTRING\(@startingValue, 12, 8\), ':', ''\)\) WHERE \[CompanyNo\] = @filterValue;/);
		assert.equal(parameter(lease, 'startingValue').value, '2025-03-01T10:00:00', 'whole seconds, no key');
		assert.equal(JSON.parse(String(parameter(lease, 'location').value)).kind, 'dateAndTimeColumns');
		assert.equal(result.kind === 'acquired' && result.state.cursor, serializeCursor({ kind: 'datetime', marker: '2010-06-04T00:00:00', key: null }));
	});

	it('converts date and time typed columns through ISO text, never a JavaScript date', async () => {
		const typed = legacyColumns.map((column) => (column.name === 'LastChangeDate' ? { ...column, typeName: 'datetime' } : column.name === 'LastChangeTime' ? { ...column, typeName: 'time' } : column));
		const sql = double(systemCodes(typed));
		await new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES).acquire(acquireRequest({ location: pairLocation }));
		const lease = sql.requests[3].text;
		assert.match(lease, /CONVERT\(char\(10\), \[LastChangeDate\], 126\) \+ 'T' \+ ISNULL\(CONVERT\(char\(8\), \[LastChangeTime\], 108\), '00:00:00'\)/);
		assert.match(lease, /SET \[LastChangeDate\] = CONVERT\(date, LEFT\(@startingValue, 10\), 126\), \[LastChangeTime\] = CONVERT\(time\(0\), SUBSTRING\(@startingValue, 12, 8\), 108\)/);
	});

	it('keeps the whole cursor in a text column, picking the row by a text value', async () => {
		const sql = double(systemCodes(legacyColumns, 1, { ...stateRow({ cursorLocation: JSON.stringify(textLocation) }), outcome: 'acquired', firstUse: 1 }));
		const result = await new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES).acquire(acquireRequest({ location: textLocation, startingCursor: C1 }));
		assert.equal(result.kind === 'acquired' && result.state.cursor, C1);
		const lease = sql.requests[3];
		assert.match(lease.text, /SELECT @stored = CONVERT\(nvarchar\(max\), \[CrmCursor\]\) FROM \[dbo\]\.\[SystemCodes\] WITH \(UPDLOCK, HOLDLOCK\) WHERE \[Code\] = @filterValue;/);
		assert.deepEqual(parameter(lease, 'filterValue'), { name: 'filterValue', type: { name: 'varchar', length: 10 }, value: 'CRM' });
		assert.equal(parameter(lease, 'startingValue').value, C1);
	});

	it('reads a stream kept in an existing table from that table, without locking it', async () => {
		const answer = systemCodes(legacyColumns);
		const sql = double((request) => {
			if (request.text.includes('w.[CursorText] AS storedValue')) return resultOf([stateRow({ storedValue: null, cursorKind: 'dateAndTime', cursorLocation: JSON.stringify(pairLocation) })]);
			if (request.text.includes('SELECT @stored AS storedValue')) return resultOf([{ storedValue: '2025-03-30T23:59:59' }]);
			return answer(request);
		});
		const state = await new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES).read('customers');
		assert.equal(state?.cursor, serializeCursor({ kind: 'dateAndTime', marker: '2025-03-30T23:59:59', key: null }));
		const last = sql.requests.at(-1) as SqlRequest;
		assert.ok(!last.text.includes('UPDLOCK'));
		assert.match(last.text, /FROM \[dbo\]\.\[SystemCodes\] WHERE \[CompanyNo\] = @filterValue;/);
		assert.equal(parameter(last, 'filterValue').value, 1);
	});

	it('refuses columns that do not exist or do not fit, a filter that picks no row or many, and a cursor too long for its column', async () => {
		const store = (columns = legacyColumns, rows = 1) => new SqlServerWatermarkStore(double(systemCodes(columns, rows)), DEFAULT_WATERMARK_TABLES);
		await assert.rejects(store().acquire(acquireRequest({ location: { ...pairLocation, timeColumn: 'LastChangeTid' } })), UnknownColumnError);
		await assert.rejects(store().acquire(acquireRequest({ location: { ...pairLocation, timeColumn: 'Code' } })), /Column Code of dbo.SystemCodes is varchar; as the time column it must be one of time, int, bigint/);
		await assert.rejects(store().acquire(acquireRequest({ location: { ...pairLocation, filterValue: 'one' } })), /"one" is not a number, but CompanyNo holds numbers/);
		await assert.rejects(store(legacyColumns, 0).acquire(acquireRequest({ location: pairLocation })), /picks no row; it must pick exactly one row/);
		await assert.rejects(store(legacyColumns, 2).acquire(acquireRequest({ location: pairLocation })), /picks 2 rows/);
		const narrow = legacyColumns.map((column) => (column.name === 'CrmCursor' ? { ...column, maxLength: 40 } : column));
		await assert.rejects(store(narrow).acquire(acquireRequest({ location: textLocation, startingCursor: C1 })), CursorLocationError);
		await assert.rejects(store().acquire(acquireRequest({ location: pairLocation, startingCursor: serializeCursor({ kind: 'rowversion', marker: '0x0000000000000001', key: null }) })), /cannot be kept in a date and a time column/);
	});
});
