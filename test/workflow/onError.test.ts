/**
 * Where a failure goes, for every operation of every node, under each of n8n's On Error settings: "Stop Workflow"
 * stops the execution naming the node; "Continue" outputs an item carrying the error on the node's regular output
 * (for Watermark Get the second one, "Held by Another Run": "Acquired" only ever carries a lease); "Continue (using
 * error output)" puts it on the error output and nothing on the others. Two failures: the SQL Server refuses the
 * login (every request fails), and the node's credential does not exist (the node fails before any request).
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import type { IDataObject, INodeParameters, INodePropertyOptions, INodeType, IWorkflowBase } from 'n8n-workflow';

import { Contracting } from '../../nodes/Contracting/Contracting.node';
import { Crm } from '../../nodes/Crm/Crm.node';
import { Watermark } from '../../nodes/Watermark/Watermark.node';

import { encodeToken } from '../../nodes/shared/core/watermark';
import { restoreAllSeams } from '../../nodes/shared/seams';
import { customerItem } from '../support/crmItems';
import { RecordingSqlTransport, sqlServerError, useRecordingTransport } from '../support/recordingTransport';
import { runWorkflow } from '../support/workflowRunner';

const PACKAGE = 'n8n-nodes-contracting-crm';
const server = { server: 'sql.invalid', database: 'Db', user: 'sync', password: 'not-used' };
const ALL_CREDENTIALS = { contractingSqlServerApi: server, crmSqlServerApi: server };
const LOGIN_FAILED = "Login failed for user 'sync'.";

interface Case {
	node: 'contracting' | 'crm' | 'watermark';
	operation: string;
	parameters: INodeParameters;
	input: IDataObject[];
	credential: 'contractingSqlServerApi' | 'crmSqlServerApi';
	/** Outputs the node has besides the error output. */
	outputs: number;
	/** The output a failure comes out of under "Continue". */
	continueOutput: number;
}

const source = { streamPreset: 'customers', table: { __rl: true, mode: 'name', value: 'dbo.Customers' }, markerKind: 'datetime', markerColumn: 'ChangedAt' };
const watermark = (operation: string, parameters: INodeParameters = {}, input: IDataObject[] = [{ stream: 'customers' }]): Case => ({
	node: 'watermark',
	operation,
	parameters: { operation, stream: 'customers', ...parameters },
	input,
	credential: 'crmSqlServerApi',
	outputs: operation === 'get' ? 2 : 1,
	continueOutput: operation === 'get' ? 1 : 0,
});

const CASES: Case[] = [
	{ node: 'contracting', operation: 'readChanges', parameters: { operation: 'readChanges', ...source }, input: [{ cursor: null }], credential: 'contractingSqlServerApi', outputs: 1, continueOutput: 0 },
	{ node: 'contracting', operation: 'countChanges', parameters: { operation: 'countChanges', ...source }, input: [{ cursor: null }], credential: 'contractingSqlServerApi', outputs: 1, continueOutput: 0 },
	{
		node: 'crm',
		operation: 'upsert',
		parameters: { operation: 'upsert', target: 'customers', columns: { mappingMode: 'autoMapInputData', value: null, matchingColumns: ['CustomerNo'], schema: [] } },
		input: [customerItem(1001, 0), customerItem(1002, 1)],
		credential: 'crmSqlServerApi',
		outputs: 1,
		continueOutput: 0,
	},
	watermark('get'),
	watermark('set', { advanced: { fromGet: encodeToken({ stream: 'customers', generation: 1, owner: 'run-1' }) } }, [{}]),
	watermark('rewind'),
	watermark('history'),
	watermark('undoLastRewind'),
	watermark('retryList', { resource: 'retryList' }),
	watermark('retryParkedAgain', { resource: 'retryList' }),
	watermark('status'),
	watermark('recordRun', { runEvent: 'started' }),
];

type OnError = 'stopWorkflow' | 'continueRegularOutput' | 'continueErrorOutput';

function workflowOf(testCase: Case, onError: OnError): IWorkflowBase {
	return {
		id: 'on-error',
		name: `${testCase.node} ${testCase.operation} (${onError})`,
		active: false,
		connections: { Start: { main: [[{ node: 'Node', type: 'main', index: 0 }]] } },
		nodes: [
			{ id: '1', name: 'Start', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [0, 0], parameters: {} },
			{
				id: '2',
				name: 'Node',
				type: `${PACKAGE}.${testCase.node}`,
				typeVersion: 1,
				position: [200, 0],
				parameters: testCase.parameters,
				credentials: { [testCase.credential]: { id: 'c', name: 'Credential' } },
				onError,
			},
		],
	} as unknown as IWorkflowBase;
}

const FAILURES = [
	{ name: 'the SQL Server refuses the login', credentials: ALL_CREDENTIALS, message: /Login failed for user 'sync'/ },
	{ name: 'the credential does not exist', credentials: {}, message: /credential/i },
];

describe('On Error: where the error item goes, for every operation of every node', () => {
	afterEach(() => restoreAllSeams());

	it('the cases cover every operation each node offers in the editor', () => {
		const nodes: Record<Case['node'], INodeType> = { contracting: new Contracting(), crm: new Crm(), watermark: new Watermark() };
		const offered = Object.entries(nodes).flatMap(([node, type]) =>
			type.description.properties
				.filter((property) => property.name === 'operation')
				.flatMap((property) => (property.options as INodePropertyOptions[]).map((option) => `${node} ${String(option.value)}`)),
		);
		assert.deepEqual(CASES.map((testCase) => `${testCase.node} ${testCase.operation}`).sort(), offered.sort());
	});

	for (const testCase of CASES) {
		for (const failure of FAILURES) {
			describe(`${testCase.node} ${testCase.operation}, when ${failure.name}`, () => {
				const run = async (onError: OnError) => {
					useRecordingTransport(
						new RecordingSqlTransport(() => {
							throw sqlServerError({ number: 18456, message: LOGIN_FAILED });
						}),
					);
					const result = await runWorkflow(workflowOf(testCase, onError), {
						credentials: failure.credentials,
						triggerItems: testCase.input.map((json) => ({ json })),
						startNodeName: 'Start',
					});
					const outputs = Array.from({ length: testCase.outputs + 1 }, (_, index) => result.output('Node', index));
					return { result, outputs };
				};

				it('Stop Workflow: the execution stops at the node with the reason, and the node outputs nothing', async () => {
					const { result, outputs } = await run('stopWorkflow');
					assert.match(String(result.errorMessage), failure.message);
					assert.equal(result.run.data.resultData.lastNodeExecuted, 'Node');
					assert.deepEqual(
						outputs.map((items) => items.length),
						outputs.map(() => 0),
					);
				});

				it(`Continue: items carrying the error come out of output ${testCase.continueOutput} only`, async () => {
					const { result, outputs } = await run('continueRegularOutput');
					assert.equal(result.errorMessage, undefined);
					outputs.forEach((items, index) => {
						if (index !== testCase.continueOutput) assert.deepEqual(items, [], `output ${index} is empty`);
					});
					const continued = outputs[testCase.continueOutput];
					assert.ok(continued.length > 0);
					for (const item of continued) assert.match(String(item.json.error), failure.message);
				});

				it('Continue (using error output): items carrying the error come out of the error output only', async () => {
					const { result, outputs } = await run('continueErrorOutput');
					assert.equal(result.errorMessage, undefined);
					const errorOutput = outputs[testCase.outputs];
					outputs.slice(0, testCase.outputs).forEach((items, index) => assert.deepEqual(items, [], `output ${index} is empty`));
					assert.ok(errorOutput.length > 0, 'the error output has the failure');
					for (const item of errorOutput) assert.match(String(item.json.error), failure.message);
				});
			});
		}
	}
});
