/**
 * The whole promise on a real SQL Server: Get Watermark → Contracting → CRM → Set Watermark, run execution after
 * execution until the stream is caught up, then support's "set the date back two days" (the Watermark node's
 * Rewind with its defaults) and one more run: everything since the rewound point is sent again, and CRM still
 * has each customer once. The watermark lives in the CRM database, in the package's own tables.
 */
import assert from 'node:assert/strict';
import type { IDataObject, IWorkflowBase } from 'n8n-workflow';

import { runWorkflow } from '../support/workflowRunner';
import type { SqlServerUnderTest } from './support/sqlServerUnderTest';
import { TEST_DATABASES, describeAgainstSqlServer } from './support/sqlServerUnderTest';

const WATERMARK = 'n8n-nodes-contracting-crm.watermark';
const ON_CRM = { crmSqlServerApi: { id: 'crm', name: 'Visma CRM' } };
const ON_CONTRACTING = { contractingSqlServerApi: { id: 'contracting', name: 'Visma Contracting' } };
/** Rows per execution, small so that catching up takes several executions. */
const MAX_ROWS = 7;
const CUSTOMERS = 20;

const syncWorkflow: IWorkflowBase = {
	id: 'wf-integration-sync',
	name: 'sync customers (integration)',
	active: false,
	connections: {
		Start: { main: [[{ node: 'Get Watermark', type: 'main', index: 0 }]] },
		'Get Watermark': { main: [[{ node: 'Contracting', type: 'main', index: 0 }], []] },
		Contracting: { main: [[{ node: 'CRM', type: 'main', index: 0 }]] },
		CRM: { main: [[{ node: 'Set Watermark', type: 'main', index: 0 }]] },
	},
	nodes: [
		{ id: '1', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
		{
			id: '2',
			name: 'Get Watermark',
			type: WATERMARK,
			typeVersion: 1,
			position: [200, 0],
			parameters: { operation: 'get', stream: 'customers' },
			credentials: ON_CRM,
		},
		{
			id: '3',
			name: 'Contracting',
			type: 'n8n-nodes-contracting-crm.contracting',
			typeVersion: 1,
			position: [400, 0],
			parameters: {
				operation: 'readChanges',
				streamPreset: 'customers',
				table: { __rl: true, mode: 'name', value: 'dbo.Customers' },
				markerKind: 'datetime',
				markerColumn: 'ChangedAt',
				options: { batchSize: MAX_ROWS, maxRows: MAX_ROWS },
			},
			credentials: ON_CONTRACTING,
		},
		{
			id: '4',
			name: 'CRM',
			type: 'n8n-nodes-contracting-crm.crm',
			typeVersion: 1,
			position: [600, 0],
			parameters: {
				operation: 'upsert',
				target: 'customers',
				columns: { mappingMode: 'autoMapInputData', value: null, matchingColumns: ['CustomerNo'], schema: [] },
				options: {},
			},
			credentials: ON_CRM,
		},
		{
			id: '5',
			name: 'Set Watermark',
			type: WATERMARK,
			typeVersion: 1,
			position: [800, 0],
			parameters: { operation: 'set', token: "={{ $('Get Watermark').first().json.token }}" },
			credentials: ON_CRM,
		},
	],
} as unknown as IWorkflowBase;

const rewindWorkflow: IWorkflowBase = {
	id: 'wf-integration-rewind',
	name: 'rewind (integration)',
	active: false,
	connections: { Start: { main: [[{ node: 'Rewind', type: 'main', index: 0 }]] } },
	nodes: [
		{ id: '1', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
		{ id: '2', name: 'Rewind', type: WATERMARK, typeVersion: 1, position: [200, 0], parameters: { operation: 'rewind', stream: 'customers' }, credentials: ON_CRM },
	],
} as unknown as IWorkflowBase;

/** Customer n changed on November n, 2024, at 08:00:00.1234567. */
const changedOn = (day: number) => `2024-11-${String(day).padStart(2, '0')}T08:00:00.1234567`;

function credentialsOf(server: SqlServerUnderTest) {
	return {
		contractingSqlServerApi: server.credential(TEST_DATABASES.contracting),
		crmSqlServerApi: server.credential(TEST_DATABASES.crm),
	};
}

async function syncOnce(server: SqlServerUnderTest) {
	const run = await runWorkflow(syncWorkflow, { credentials: credentialsOf(server) });
	assert.equal(run.errorMessage, undefined);
	const [set] = run.output('Set Watermark');
	assert.ok(set, 'every run with rows reaches Set Watermark');
	return {
		read: run.output('Contracting').map((item) => item.json.CustomerNo),
		statuses: run.output('CRM').map((item) => item.json.status),
		set: set.json as IDataObject & { hasMore: boolean; outcome: string; cursor: string | null },
	};
}

async function companies(server: SqlServerUnderTest): Promise<Array<[unknown, unknown]>> {
	const result = await server.transport(TEST_DATABASES.crm).execute({ text: 'SELECT CustomerNo, Name FROM dbo.Company ORDER BY CustomerNo;', parameters: [] });
	return (result.recordsets[0] ?? []).map((row) => [row.CustomerNo, row.Name]);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

describeAgainstSqlServer('the sync loop and a rewind, on SQL Server', (suite) => {
	suite.test('catches up over several executions, and after "set the date back two days" re-sends without doubling', async (server) => {
		const contracting = server.transport(TEST_DATABASES.contracting);
		for (const day of range(1, CUSTOMERS)) {
			await contracting.execute({
				text: 'INSERT INTO dbo.Customers (CustomerNo, Name, City, Active, ChangedAt) VALUES (@no, @name, N\'Oslo\', 1, CONVERT(datetime2(7), @at, 126));',
				parameters: [
					{ name: 'no', type: { name: 'int' }, value: day },
					{ name: 'name', type: { name: 'nvarchar', length: 100 }, value: `Kunde ${day} AS` },
					{ name: 'at', type: { name: 'varchar', length: 33 }, value: changedOn(day) },
				],
			});
		}

		const read: unknown[] = [];
		const perExecution: number[] = [];
		for (let execution = 0; execution < 10; execution++) {
			const run = await syncOnce(server);
			assert.equal(run.set.outcome, 'advanced');
			assert.ok(run.statuses.every((status) => status === 'inserted'), String(run.statuses));
			read.push(...run.read);
			perExecution.push(run.read.length);
			if (!run.set.hasMore) break;
		}
		assert.deepEqual(perExecution, [7, 7, 6]);
		assert.deepEqual(read, range(1, CUSTOMERS));
		assert.deepEqual(await companies(server), range(1, CUSTOMERS).map((no) => [no, `Kunde ${no} AS`]));

		const rewind = await runWorkflow(rewindWorkflow, { credentials: credentialsOf(server) });
		assert.equal(rewind.errorMessage, undefined);

		const resend = await syncOnce(server);
		assert.deepEqual(resend.read, range(CUSTOMERS - 2, CUSTOMERS), 'the last two days are read again');
		assert.deepEqual(resend.statuses, ['unchanged', 'unchanged', 'unchanged']);
		assert.equal(resend.set.outcome, 'advanced');
		assert.equal(
			(JSON.parse(String(resend.set.cursor)) as { marker: string }).marker,
			changedOn(CUSTOMERS),
			'the watermark is back where it was',
		);
		assert.deepEqual(await companies(server), range(1, CUSTOMERS).map((no) => [no, `Kunde ${no} AS`]), 'each customer once');
	});
});
