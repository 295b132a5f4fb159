/**
 * The retry list on SQL Server, against the recording transport double: the T-SQL and typed parameters the
 * watermark store sends for it (table created on first use, the list's changes in Set's transaction, the due keys
 * in Get's round trip), and the read of the current rows of retry keys (typed parameters, chunks under 2,100, a
 * key no longer there as a delete). A value never becomes SQL text.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SqlServerChangeSource } from '../../nodes/Contracting/stores/sqlServerChangeSource';
import type { SourcePlan, SourceSpec } from '../../nodes/shared/core/markers';
import { MAX_RETRY_PARAMETERS, keyedRowsRequest, retryKeyChunks } from '../../nodes/shared/core/retryQuery';
import type { SqlRequest, SqlResult } from '../../nodes/shared/transport/types';
import { SqlServerWatermarkStore } from '../../nodes/Watermark/stores/sqlServerWatermarkStore';
import { DEFAULT_WATERMARK_TABLES } from '../../nodes/Watermark/stores/watermarkStore';
import { RETRY_COLUMNS, STATE_COLUMNS, WatermarkTableError, retryChangesXml } from '../../nodes/Watermark/stores/watermarkSql';
import { MemoryChangeSource } from '../support/memory/memoryChangeSource';
import { RecordingSqlTransport, resultOf } from '../support/recordingTransport';
import { C1, acquireRequest, audit, columnsOf, stateRow as stateRowAnswer, tablesResult } from '../support/watermarkSqlAnswers';

const token = { stream: 'customers', generation: 3, owner: '42' };
const EVIL = "x'); DROP TABLE dbo.Company; --";

const stateRow = stateRowAnswer({ generation: 4 });

const retryRow = (keyText: string, extra: Record<string, unknown> = {}) => ({
	keyText,
	cursorText: null,
	attempts: 2,
	lastError: 'too long',
	firstFailedAt: '2025-03-29T01:00:00.000',
	lastTriedAt: '2025-03-30T01:00:00.000',
	parked: 0,
	...extra,
});

/** SQL Server as far as these statements go: the table checks, then whatever `answer` knows. */
function server(answer: (request: SqlRequest) => SqlResult | undefined, retryColumns = columnsOf(RETRY_COLUMNS)): RecordingSqlTransport {
	return new RecordingSqlTransport((request) => {
		if (request.text.includes('AS retrySchemaExists')) return resultOf([{ retrySchemaExists: 1 }], retryColumns);
		if (request.text.includes('AS stateSchemaExists')) {
			return tablesResult(columnsOf(STATE_COLUMNS, 'state'));
		}
		if (request.text.includes('w.[CursorText] AS storedValue FROM')) return resultOf([stateRow]);
		const result = answer(request);
		if (!result) throw new Error(`unexpected request:\n${request.text}`);
		return result;
	});
}

const parameter = (request: SqlRequest, name: string) => request.parameters.find((candidate) => candidate.name === name);

describe('SQL Server watermark store: the retry list', () => {
	it('a Set without retry changes sends the statement it always sent: no retry table, no retry parameters', async () => {
		const sql = server((request) => (request.text.includes('@verdict AS verdict') ? resultOf([{ ...stateRow, verdict: 'store' }]) : undefined));
		const store = new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES);
		const result = await store.commit({ token, move: { from: C1, to: C1 }, allowBackwards: false, releaseLease: true, audit });
		assert.equal(result.retry, undefined);
		assert.ok(sql.requests.every((request) => !request.text.includes('ContractingCrmWatermarkRetry]') || request.text.includes('DECLARE @taken')));
		const commit = sql.requests.find((request) => request.text.includes('@verdict AS verdict')) as SqlRequest;
		assert.doesNotMatch(commit.text, /@retryChanges/);
		assert.equal(parameter(commit, 'retryChanges'), undefined);
	});

	it('creates the retry table on first use (race-safe), once per store, and applies the changes in Set\'s transaction', async () => {
		const sql = server((request) =>
			request.text.includes('@verdict AS verdict')
				? resultOf([{ ...stateRow, verdict: 'store' }], [{ removed: 1, failing: 2 }], [retryRow('{"CustomerNo":7}', { attempts: 5, parked: 1 })])
				: undefined,
		);
		const store = new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES);
		const request = {
			token,
			move: { from: C1, to: C1 },
			allowBackwards: false,
			releaseLease: false,
			audit,
			retry: {
				changes: [
					{ kind: 'written' as const, key: { CustomerNo: 3 } },
					{ kind: 'failed' as const, key: { CustomerNo: 7 }, cursor: C1, error: 'Truncated value: \'<b>&"\'\nline 2' },
					{ kind: 'failed' as const, key: { Name: EVIL }, cursor: null, error: EVIL },
				],
				rules: { maxAttempts: 5, releaseLeaseWhenParked: true },
			},
		};
		const result = await store.commit(request);
		await store.commit(request);
		const ensures = sql.requests.filter((candidate) => candidate.text.includes('AS retrySchemaExists'));
		assert.equal(ensures.length, 1, 'the retry table is checked once per store');
		assert.match(ensures[0].text, /CREATE TABLE \[dbo\]\.\[ContractingCrmWatermarkRetry\] \(/);
		assert.match(ensures[0].text, /\[KeyText\] nvarchar\(max\) NOT NULL/);
		assert.match(ensures[0].text, /IF ERROR_NUMBER\(\) <> 2714 THROW;/);
		const commit = sql.requests.find((candidate) => candidate.text.includes('@verdict AS verdict')) as SqlRequest;
		const text = commit.text;
		assert.ok(text.indexOf('BEGIN TRANSACTION') < text.indexOf('DELETE r FROM [dbo].[ContractingCrmWatermarkRetry]'), 'inside the transaction');
		assert.ok(text.indexOf('DELETE r FROM [dbo].[ContractingCrmWatermarkRetry]') < text.indexOf('COMMIT TRANSACTION'));
		assert.match(text, /IF @verdict IN \('store', 'nothing to store'\)\nBEGIN\n\tDECLARE @changesXml xml = CONVERT\(xml, @retryChanges\);/);
		assert.match(text, /OR \(@releaseWhenParked = 1 AND @verdict IN \('store', 'nothing to store'\) AND EXISTS \(SELECT 1 FROM @touched WHERE WasParked = 0 AND IsParked = 1\)\)/);
		assert.ok(!text.includes('DROP TABLE') && !text.includes('CustomerNo'), 'keys and errors are never SQL text');
		assert.deepEqual(parameter(commit, 'maxAttempts'), { name: 'maxAttempts', type: { name: 'int' }, value: 5 });
		assert.deepEqual(parameter(commit, 'releaseWhenParked'), { name: 'releaseWhenParked', type: { name: 'bit' }, value: true });
		assert.deepEqual(parameter(commit, 'retryChanges')?.type, { name: 'nvarchar', length: -1 });
		assert.equal(
			parameter(commit, 'retryChanges')?.value,
			'<c k="{&quot;CustomerNo&quot;:3}" w="1"/>' +
				`<c k="{&quot;CustomerNo&quot;:7}" w="0" cur="${C1.replace(/"/g, '&quot;')}" e="Truncated value: '&lt;b&gt;&amp;&quot;'&#10;line 2"/>` +
				`<c k="{&quot;Name&quot;:&quot;x'); DROP TABLE dbo.Company; --&quot;}" w="0" e="x'); DROP TABLE dbo.Company; --"/>`,
		);
		assert.deepEqual(result.retry, {
			removed: 1,
			failing: 2,
			newlyParked: [
				{
					stream: 'customers',
					key: { CustomerNo: 7 },
					cursor: null,
					attempts: 5,
					lastError: 'too long',
					firstFailedAt: '2025-03-29T01:00:00.000Z',
					lastTriedAt: '2025-03-30T01:00:00.000Z',
					parked: true,
				},
			],
		});
	});

	it('reports no retry outcome when the Set was refused', async () => {
		const sql = server((request) => (request.text.includes('@verdict AS verdict') ? resultOf([{ ...stateRow, verdict: 'lease lost' }], [{ removed: 0, failing: 0 }], []) : undefined));
		const result = await new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES).commit({
			token,
			allowBackwards: false,
			releaseLease: true,
			audit,
			retry: { changes: [{ kind: 'written', key: { CustomerNo: 1 } }], rules: { maxAttempts: 5, releaseLeaseWhenParked: true } },
		});
		assert.equal(result.verdict, 'lease lost');
		assert.equal(result.retry, undefined);
	});

	it('Get reads the due keys and the list size in its one round trip, only when the retry table exists', async () => {
		const sql = server((request) =>
			request.text.includes('DECLARE @taken TABLE')
				? resultOf([{ ...stateRow, outcome: 'acquired', firstUse: 0 }], [{ retryListSize: 3 }], [retryRow('{"CustomerNo":1}'), retryRow('{"CustomerNo":2}')])
				: undefined,
		);
		const result = await new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES).acquire(acquireRequest());
		assert.equal(result.kind, 'acquired');
		const acquiredResult = result as Extract<typeof result, { kind: 'acquired' }>;
		assert.equal(acquiredResult.retry.size, 3);
		assert.deepEqual(acquiredResult.retry.due.map((entry) => [entry.key, entry.attempts, entry.parked]), [
			[{ CustomerNo: 1 }, 2, false],
			[{ CustomerNo: 2 }, 2, false],
		]);
		const acquire = sql.requests.find((request) => request.text.includes('DECLARE @taken TABLE')) as SqlRequest;
		assert.match(acquire.text, /IF OBJECT_ID\(N'\[dbo\]\.\[ContractingCrmWatermarkRetry\]', N'U'\) IS NOT NULL/);
		assert.match(acquire.text, /SELECT TOP \(10000\) \[KeyText\] AS keyText/);
		assert.match(acquire.text, /AND EXISTS \(SELECT 1 FROM @taken t WHERE t\.PreviousOwner IS NULL OR t\.PreviousOwner COLLATE Latin1_General_BIN2 <> @owner\)/);
		assert.equal(sql.requests.filter((request) => request.text.includes('AS retrySchemaExists')).length, 0, 'Get never creates the retry table');
	});

	it('a Get answered without the retry recordsets (no retry table yet) has an empty list', async () => {
		const sql = server((request) => (request.text.includes('DECLARE @taken TABLE') ? resultOf([{ ...stateRow, outcome: 'acquired', firstUse: 1 }]) : undefined));
		const result = await new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES).acquire(acquireRequest());
		assert.deepEqual((result as Extract<typeof result, { kind: 'acquired' }>).retry, { due: [], size: 0 });
	});

	it('lists the retry list and changes parked rows with the stream and keys as parameters', async () => {
		const sql = server((request) => {
			if (request.text.includes('ORDER BY [LastTriedAt], [Id];') && request.text.startsWith('SELECT')) return resultOf([retryRow('{"CustomerNo":9}', { parked: 1 })]);
			if (request.text.includes('@allParked')) return resultOf([{ changed: 1 }]);
			return undefined;
		});
		const store = new SqlServerWatermarkStore(sql, { ...DEFAULT_WATERMARK_TABLES, retry: { schema: 'sync', name: 'Re]try' } });
		const [entry] = await store.retryList('customers');
		assert.deepEqual([entry.key, entry.parked], [{ CustomerNo: 9 }, true]);
		assert.equal(await store.changeRetryEntries('customers', [{ CustomerNo: EVIL }], 'remove'), 1);
		const change = sql.requests.at(-1) as SqlRequest;
		assert.match(change.text, /DELETE r FROM \[sync\]\.\[Re\]\]try\] r/);
		assert.ok(!change.text.includes('DROP TABLE'));
		assert.deepEqual(parameter(change, 'remove')?.value, true);
		assert.deepEqual(parameter(change, 'allParked')?.value, false);
		assert.equal(parameter(change, 'keys')?.value, retryChangesXml([{ keyText: JSON.stringify({ CustomerNo: EVIL }) }]));
		await store.changeRetryEntries('customers', undefined, 'retryAgain');
		assert.deepEqual(parameter(sql.requests.at(-1) as SqlRequest, 'allParked')?.value, true);
		assert.equal(parameter(sql.requests.at(-1) as SqlRequest, 'keys')?.value, '');
	});

	it('refuses an existing retry table that is not this package\'s, naming each problem', async () => {
		const wrong = columnsOf(RETRY_COLUMNS).filter((column) => column.name !== 'Parked');
		const sql = server(() => undefined, wrong);
		await assert.rejects(new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES).retryList('customers'), (error: unknown) => {
			assert.ok(error instanceof WatermarkTableError);
			assert.match(error.message, /^The table dbo\.ContractingCrmWatermarkRetry exists but is not a watermark table of this package: column Parked is missing$/);
			return true;
		});
	});

	it('writes XML that carries any text: markup and control characters are escaped or replaced', () => {
		assert.equal(retryChangesXml([{ keyText: '{"a":"<&>"}', written: true }]), '<c k="{&quot;a&quot;:&quot;&lt;&amp;&gt;&quot;}" w="1"/>');
		assert.equal(retryChangesXml([{ keyText: 'k', error: 'tab\there\u0001\r' }]), '<c k="k" w="0" e="tab&#9;here\uFFFD&#13;"/>');
		assert.equal(retryChangesXml([]), '');
	});
});

async function planOf(columns: Array<{ name: string; type: string; nullable?: boolean }>, primaryKey: string[]): Promise<SourcePlan> {
	const source = new MemoryChangeSource();
	source.define({ name: 'dbo.Things', columns, primaryKey });
	const spec: SourceSpec = {
		stream: 'things',
		table: { schema: 'dbo', name: 'Things' },
		keyColumns: [],
		marker: { kind: 'rowversion', column: 'RowVer' },
		outputColumns: 'all',
		filters: [],
		timeZone: 'Europe/Oslo',
		lagSeconds: 60,
		nullMarkers: 'firstRunOnly',
	};
	return await source.describe(spec);
}

describe('reading the current rows of retry keys', () => {
	it('sends each key value as a parameter of its column\'s type (date-times as text CONVERTed with style 126)', async () => {
		const plan = await planOf(
			[
				{ name: 'Region', type: 'nvarchar(20)', nullable: false },
				{ name: 'At', type: 'datetime2(7)', nullable: false },
				{ name: 'Name', type: 'nvarchar(100)' },
				{ name: 'RowVer', type: 'rowversion' },
			],
			['Region', 'At'],
		);
		const request = keyedRowsRequest(plan, [
			{ Region: EVIL, At: '2025-03-30T02:30:00.1234567' },
			{ Region: 'Nord', At: '2025-03-31T00:00:00' },
		]);
		assert.deepEqual(request.parameters, [
			{ name: 'r0_0', type: { name: 'nvarchar', length: 20 }, value: EVIL },
			{ name: 'r0_1', type: { name: 'varchar', length: 34 }, value: '2025-03-30T02:30:00.1234567' },
			{ name: 'r1_0', type: { name: 'nvarchar', length: 20 }, value: 'Nord' },
			{ name: 'r1_1', type: { name: 'varchar', length: 34 }, value: '2025-03-31T00:00:00' },
		]);
		assert.match(request.text, /FROM \(VALUES \(0, @r0_0, CONVERT\(datetime2\(7\), @r0_1, 126\)\),\n {7}\(1, @r1_0, CONVERT\(datetime2\(7\), @r1_1, 126\)\)\) AS k\(\[__sync_order\], \[Region\], \[At\]\)/);
		assert.match(request.text, /LEFT JOIN \[dbo\]\.\[Things\] AS src ON src\.\[Region\] = k\.\[Region\] AND src\.\[At\] = k\.\[At\]/);
		assert.match(request.text, /CASE WHEN src\.\[Region\] IS NULL THEN 'delete' ELSE 'upsert' END AS __sync_operation/);
		assert.match(request.text, /ORDER BY k\.\[__sync_order\];$/);
		assert.ok(!request.text.includes('DROP TABLE'));
	});

	it('sends a decimal key as its exact text, CONVERTed by SQL Server, so a key beyond a double\'s 15 digits finds its row (issue 11, item 9)', async () => {
		const plan = await planOf(
			[
				{ name: 'AccountNo', type: 'decimal(20,2)', nullable: false },
				{ name: 'RowVer', type: 'rowversion' },
			],
			['AccountNo'],
		);
		const request = keyedRowsRequest(plan, [{ AccountNo: '123456789012345678.91' }]);
		assert.deepEqual(request.parameters, [{ name: 'r0_0', type: { name: 'varchar', length: 41 }, value: '123456789012345678.91' }]);
		assert.match(request.text, /FROM \(VALUES \(0, CONVERT\(decimal\(20,2\), @r0_0\)\)\)/);
		assert.ok(request.text.includes('CONVERT(varchar(41), k.[AccountNo]) AS [AccountNo]'), 'and reads it back as exact text');
	});

	it('splits the keys into requests of at most 2,000 parameters, and reads a key no longer there as a delete', async () => {
		const plan = await planOf(
			[
				{ name: 'A', type: 'int', nullable: false },
				{ name: 'B', type: 'int', nullable: false },
				{ name: 'Name', type: 'nvarchar(100)' },
				{ name: 'RowVer', type: 'rowversion' },
			],
			['A', 'B'],
		);
		const keys = Array.from({ length: 2101 }, (_, index) => ({ A: index, B: 1 }));
		assert.deepEqual(retryKeyChunks(plan, keys).map((chunk) => chunk.length), [1000, 1000, 101]);
		const sql = new RecordingSqlTransport((request) =>
			resultOf(
				request.parameters
					.filter((candidate) => candidate.name.endsWith('_0'))
					.map((candidate) => (Number(candidate.value) % 2 === 0 ? { A: candidate.value, B: 1, Name: `row ${String(candidate.value)}`, __sync_operation: 'upsert' } : { A: candidate.value, B: 1, Name: null, __sync_operation: 'delete' })),
			),
		);
		const rows = await new SqlServerChangeSource(sql).readKeys(plan, keys);
		assert.equal(sql.roundTrips, 3);
		assert.ok(sql.requests.every((request) => request.parameters.length <= MAX_RETRY_PARAMETERS));
		assert.equal(rows.length, 2101);
		assert.deepEqual(rows.slice(0, 2), [
			{ operation: 'upsert', values: { A: 0, B: 1, Name: 'row 0', RowVer: null } },
			{ operation: 'delete', values: { A: 1, B: 1 } },
		]);
	});
});
