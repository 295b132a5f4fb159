/**
 * The Contracting node's workflow-level scenarios (test/workflow/contractingReadChanges.test.ts runs them against
 * the in-memory source) with nothing swapped: run in-process by n8n-core, reading the representative
 * dbo.Customers and dbo.Orders of ContractingTest through the production transport, with real rowversions and
 * real Change Tracking.
 */
import assert from 'node:assert/strict';
import type { INodeExecutionData, INodeParameters, IWorkflowBase } from 'n8n-workflow';

import type { SyncInfo } from '../../nodes/shared/core/syncItem';
import type { SqlParameter } from '../../nodes/shared/transport/types';
import { contractingWorkflow } from '../support/contractingWorkflow';
import { runWorkflow } from '../support/workflowRunner';
import type { SqlServerUnderTest } from './support/sqlServerUnderTest';
import { TEST_DATABASES, describeAgainstSqlServer } from './support/sqlServerUnderTest';

/** Start (passes the trigger item with the cursor on, as the Watermark node's Get does) → Contracting. */
const readWorkflow = (parameters: INodeParameters): IWorkflowBase =>
	contractingWorkflow('read changes (integration)', 'Contracting', { operation: 'readChanges', ...parameters });

const customers = (extra: INodeParameters = {}, options: INodeParameters = {}): INodeParameters => ({
	streamPreset: 'customers',
	table: { __rl: true, mode: 'name', value: 'dbo.Customers' },
	markerKind: 'datetime',
	markerColumn: 'ChangedAt',
	...extra,
	options,
});

const orders: INodeParameters = {
	streamPreset: 'orders',
	table: { __rl: true, mode: 'name', value: 'dbo.Orders' },
	markerKind: 'changeTracking',
};

const sync = (item: INodeExecutionData) => item.json._sync as unknown as SyncInfo;
const int = (name: string, value: number): SqlParameter => ({ name, type: { name: 'int' }, value });

/** ContractingTest with its two tables emptied, and a way to run the read workflow from a cursor. */
async function emptiedContracting(server: SqlServerUnderTest) {
	const transport = server.transport(TEST_DATABASES.contracting);
	await transport.execute({ text: 'DELETE FROM dbo.Orders;\nDELETE FROM dbo.Customers;', parameters: [] });
	const read = async (parameters: INodeParameters, cursor: string | null) => {
		const result = await runWorkflow(readWorkflow(parameters), {
			credentials: { contractingSqlServerApi: server.credential(TEST_DATABASES.contracting) },
			triggerItems: [{ json: { cursor } }],
			startNodeName: 'Start',
		});
		assert.equal(result.errorMessage, undefined);
		const items = result.output('Contracting');
		for (const item of items) {
			assert.deepEqual(JSON.parse(JSON.stringify(item.json)), item.json, 'an item is plain JSON, as n8n stores it');
		}
		return items;
	};
	return { transport, read };
}

describeAgainstSqlServer('the Contracting node in a workflow, reading from SQL Server', (suite) => {
	suite.test('reads 25 customers sharing one datetime2(7) marker over three executions, each exactly once', async (server) => {
		const { transport, read } = await emptiedContracting(server);
		await transport.execute({
			text: `WITH n AS (SELECT TOP (25) ROW_NUMBER() OVER (ORDER BY (SELECT NULL)) AS i FROM sys.all_objects)
INSERT INTO dbo.Customers (CustomerNo, Name, Active, ChangedAt)
SELECT 101 - i, CONCAT(N'C', i), 1, CONVERT(datetime2(7), '2024-11-30T10:00:00.1234567', 126) FROM n;`,
			parameters: [],
		});
		const seen: unknown[] = [];
		const perExecution: number[] = [];
		let cursor: string | null = null;
		for (let execution = 0; execution < 10; execution++) {
			const items = await read(customers({}, { batchSize: 4, maxRows: 10 }), cursor);
			perExecution.push(items.length);
			seen.push(...items.map((item) => item.json.CustomerNo));
			const last = items.at(-1);
			if (!last || !sync(last).hasMore) break;
			cursor = sync(last).cursor;
		}
		assert.deepEqual(perExecution, [10, 10, 5]);
		assert.deepEqual(seen, Array.from({ length: 25 }, (_, index) => 76 + index));
		const again = await read(customers(), JSON.stringify({ kind: 'datetime', marker: '2024-11-30T10:00:00.1234567', key: ['100'] }));
		assert.deepEqual(again, [], 'nothing new: no items');
	});

	suite.test('gives the marker exactly as SQL Server has it, and the change time in the stream time zone', async (server) => {
		const { transport, read } = await emptiedContracting(server);
		await transport.execute({
			text: `INSERT INTO dbo.Customers (CustomerNo, Name, City, Active, ChangedAt) VALUES
(1, N'Høst AS', N'Tromsø', 1, CONVERT(datetime2(7), '2024-10-27T02:30:00.1234567', 126)),
(2, N'Vinter AS', NULL, 1, CONVERT(datetime2(7), '2024-10-27T03:00:00.0000001', 126));`,
			parameters: [],
		});
		const items = await read(customers({}, { batchSize: 1 }), null);
		assert.equal(items.length, 2);
		assert.deepEqual([items[0].json.Name, items[0].json.City, items[0].json.ChangedAt], ['Høst AS', 'Tromsø', '2024-10-27T02:30:00.1234567']);
		assert.equal(sync(items[0]).cursor, JSON.stringify({ kind: 'datetime', marker: '2024-10-27T02:30:00.1234567', key: ['1'] }));
		assert.equal(sync(items[0]).changedAt, '2024-10-27T02:30:00.1234567+02:00');
		assert.equal(sync(items[0]).hasMore, true);
		assert.equal(sync(items[1]).batchStartCursor, sync(items[0]).cursor);
		assert.equal(sync(items[1]).changedAt, '2024-10-27T03:00:00.0000001+01:00');
		assert.equal(sync(items[1]).hasMore, false);
	});

	suite.test('reads the legacy date + time pair from a date-time watermark, as after a rewind', async (server) => {
		const { transport, read } = await emptiedContracting(server);
		await transport.execute({
			text: `INSERT INTO dbo.Customers (CustomerNo, Name, Active, LastChangeDate, LastChangeTime) VALUES
(1, N'old', 1, 20100603, 235959), (2, N'new', 1, 20100604, 0);`,
			parameters: [],
		});
		const parameters = customers({ markerKind: 'dateAndTime', dateColumn: 'LastChangeDate', timeColumn: 'LastChangeTime', timeEncoding: 'hhmmss' });
		const items = await read(parameters, JSON.stringify({ kind: 'datetime', marker: '2010-06-04T00:00:00', key: null }));
		assert.deepEqual(items.map((item) => item.json.Name), ['new']);
		// A whole-second marker: whether style 126 writes its zero fraction is shown by the transport test's diagnostic.
		assert.match(String(sync(items[0]).changedAt), /^2010-06-04T00:00:00(\.0000000)?\+02:00$/);
	});

	suite.test('reads by rowversion: a row updated after the cursor comes again, nothing else', async (server) => {
		const { transport, read } = await emptiedContracting(server);
		await transport.execute({
			text: "INSERT INTO dbo.Customers (CustomerNo, Name, Active) VALUES (1, N'a', 1), (2, N'b', 1);",
			parameters: [],
		});
		const parameters = customers({ markerKind: 'rowversion', rowversionColumn: 'RowVer' });
		const first = await read(parameters, null);
		assert.deepEqual(first.map((item) => item.json.Name), ['a', 'b']);
		await transport.execute({ text: "UPDATE dbo.Customers SET Name = N'a2' WHERE CustomerNo = @no;", parameters: [int('no', 1)] });
		const second = await read(parameters, sync(first[1]).cursor);
		assert.deepEqual(second.map((item) => item.json.Name), ['a2']);
	});

	suite.test('sees an update and a delete on dbo.Orders through Change Tracking; the delete carries its key only', async (server) => {
		const { transport, read } = await emptiedContracting(server);
		await transport.execute({
			text: "INSERT INTO dbo.Orders (OrderNo, CustomerNo, Status) VALUES (10, 1, 'open'), (11, 1, 'open'), (12, 1, 'open');",
			parameters: [],
		});
		const initial = await read(orders, null);
		assert.deepEqual(initial.map((item) => [item.json.OrderNo, sync(item).stream, sync(item).operation]), [
			[10, 'orders', 'upsert'],
			[11, 'orders', 'upsert'],
			[12, 'orders', 'upsert'],
		]);
		await transport.execute({
			text: "DELETE FROM dbo.Orders WHERE OrderNo = @deleted;\nUPDATE dbo.Orders SET Status = 'closed' WHERE OrderNo = @updated;",
			parameters: [int('deleted', 10), int('updated', 12)],
		});
		const changes = await read(orders, sync(initial[2]).cursor);
		const byOrder = new Map(changes.map((item) => [item.json.OrderNo, item]));
		assert.deepEqual([...byOrder.keys()].sort(), [10, 12]);
		const deleted = byOrder.get(10) as INodeExecutionData;
		assert.equal(sync(deleted).operation, 'delete');
		assert.equal(deleted.json.Status, undefined, 'a delete carries its key only');
		const updated = byOrder.get(12) as INodeExecutionData;
		assert.deepEqual([sync(updated).operation, updated.json.Status], ['upsert', 'closed']);
	});
});
