/**
 * Status and Record Run on SQL Server, against the recording transport double: Status is one read-only round
 * trip that creates no table; Record Run creates the run table once and then sends one typed statement per event.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { SqlRequest } from '../../nodes/shared/transport/types';
import { SqlServerWatermarkStore } from '../../nodes/Watermark/stores/sqlServerWatermarkStore';
import { RUN_COLUMNS } from '../../nodes/Watermark/stores/statusSql';
import { DEFAULT_WATERMARK_TABLES } from '../../nodes/Watermark/stores/watermarkStore';
import { RecordingSqlTransport, resultOf } from '../support/recordingTransport';
import { C1, audit, columnsOf, stateRow } from '../support/watermarkSqlAnswers';

const parameter = (request: SqlRequest, name: string) => request.parameters.find((candidate) => candidate.name === name);
const EVIL = "x'); DROP TABLE dbo.Company; --";

describe('SQL Server watermark store: Status and Record Run', () => {
	it('Status reads every stream in one round trip, creates nothing, and joins each stream to its runs and retry list', async () => {
		const sql = new RecordingSqlTransport(() =>
			resultOf(
				[{ now: '2025-03-30T01:05:00.000' }],
				[stateRow(), stateRow({ stream: 'orders', leaseOwner: null, leaseExpiresAt: null, storedValue: null, cursorKind: null })],
				[{ stream: 'customers', startedAt: '2025-03-30T01:00:00.000', startedWorkflowId: 'wf', startedExecutionId: '7', finishedAt: '2025-03-30T00:55:00.000', finishedWorkflowId: 'wf', finishedExecutionId: '6', summary: '{"rowsRead":3}' }],
				[{ stream: 'orders', waiting: 1, parked: 2 }],
				[{ stream: 'orders', keyText: '{"OrderNo":5}', cursorText: null, attempts: 5, lastError: 'too long', firstFailedAt: '2025-03-29T01:00:00.000', lastTriedAt: '2025-03-30T01:00:00.000', parked: 1 }],
			),
		);
		const answer = await new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES).status(null, 10);
		assert.equal(sql.requests.length, 1, 'one round trip');
		const [request] = sql.requests;
		assert.doesNotMatch(request.text, /CREATE TABLE|INSERT|UPDATE|DELETE|MERGE/i, 'Status only reads');
		assert.match(request.text, /OBJECT_ID\(N'\[dbo\]\.\[ContractingCrmWatermarkRun\]', N'U'\) IS NOT NULL/);
		assert.deepEqual(parameter(request, 'stream'), { name: 'stream', type: { name: 'nvarchar', length: 200 }, value: null });
		assert.deepEqual(parameter(request, 'entryLimit')?.value, 10);
		assert.equal(answer.now, '2025-03-30T01:05:00.000Z');
		const [customers, orders] = answer.streams;
		assert.equal(customers.state.cursor, C1);
		assert.equal(customers.state.leaseOwner, '42');
		assert.deepEqual(customers.lastStarted, { at: '2025-03-30T01:00:00.000Z', workflowId: 'wf', executionId: '7' });
		assert.deepEqual(customers.lastFinished, { at: '2025-03-30T00:55:00.000Z', workflowId: 'wf', executionId: '6', summary: { rowsRead: 3 } });
		assert.deepEqual(customers.retry, { waiting: 0, parked: 0, entries: [] });
		assert.equal(orders.lastStarted, undefined);
		assert.deepEqual([orders.retry.waiting, orders.retry.parked, orders.retry.entries.map((entry) => entry.key)], [1, 2, [{ OrderNo: 5 }]]);
	});

	it('Status of one stream sends its name as a typed parameter, never as SQL text', async () => {
		const sql = new RecordingSqlTransport(() => resultOf([{ now: '2025-03-30T01:05:00.000' }], [], [], [], []));
		const answer = await new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES).status(EVIL, 0);
		assert.deepEqual(answer.streams, []);
		assert.ok(!sql.requests[0].text.includes(EVIL));
		assert.equal(parameter(sql.requests[0], 'stream')?.value, EVIL);
	});

	it('Record Run creates the run table once, then sends one statement per event with the summary as JSON', async () => {
		const sql = new RecordingSqlTransport((request) =>
			request.text.includes('AS runSchemaExists') ? resultOf([{ runSchemaExists: 1 }], columnsOf(RUN_COLUMNS)) : resultOf(),
		);
		const store = new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES);
		await store.recordRun({ stream: 'customers', event: 'started', audit });
		await store.recordRun({ stream: 'customers', event: 'finished', summary: { rowsRead: 3, message: EVIL }, audit });
		assert.equal(sql.requests.length, 3);
		assert.match(sql.requests[0].text, /CREATE TABLE \[dbo\]\.\[ContractingCrmWatermarkRun\]/);
		const [started, finished] = sql.requests.slice(1);
		assert.equal(parameter(started, 'event')?.value, 'started');
		assert.equal(parameter(started, 'summary')?.value, null);
		assert.equal(parameter(finished, 'summary')?.value, JSON.stringify({ rowsRead: 3, message: EVIL }));
		assert.equal(parameter(finished, 'executionId')?.value, '42');
		assert.ok(!finished.text.includes(EVIL));
	});

	it('Record Run refuses a run table of that name with other columns, naming what differs', async () => {
		const sql = new RecordingSqlTransport(() => resultOf([{ runSchemaExists: 1 }], columnsOf(RUN_COLUMNS.filter((column) => column.name !== 'Summary'))));
		await assert.rejects(
			new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES).recordRun({ stream: 'customers', event: 'started', audit }),
			/ContractingCrmWatermarkRun exists but is not a watermark table of this package: column Summary is missing/,
		);
	});
});
