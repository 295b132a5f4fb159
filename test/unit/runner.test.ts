import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { INodeTypeDescription } from 'n8n-workflow';

import { loadNodeTypes, runWorkflow } from '../support/workflowRunner';

describe('in-process workflow runner', () => {
	it('loads every node and credential package.json lists, as n8n loads a community package', async () => {
		const { ours } = await loadNodeTypes();
		assert.deepEqual(Object.keys(ours.nodeTypes).sort(), ['contracting', 'crm', 'watermark']);
		assert.deepEqual(Object.keys(ours.credentialTypes).sort(), ['contractingSqlServerApi', 'crmSqlServerApi']);
		for (const name of ['contracting', 'crm', 'watermark']) {
			const description = ours.getNode(name).type.description as INodeTypeDescription;
			const tested = (description.credentials ?? []).filter((credential) => credential.testedBy === 'sqlServerConnectionTest');
			assert.ok(tested.length > 0, `${name} asks for a credential it can test`);
		}
	});

	it('runs n8n-nodes-base nodes with expressions', async () => {
		const result = await runWorkflow({
			name: 'smoke',
			active: false,
			connections: { Start: { main: [[{ node: 'Set', type: 'main', index: 0 }]] } },
			nodes: [
				{ id: '1', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
				{
					id: '2',
					name: 'Set',
					type: 'n8n-nodes-base.set',
					typeVersion: 3.4,
					position: [200, 0],
					parameters: {
						assignments: {
							assignments: [{ id: 'a', name: 'doubled', type: 'number', value: '={{ 21 * 2 }}' }],
						},
					},
				},
			],
		} as never);
		assert.equal(result.errorMessage, undefined);
		assert.deepEqual(result.output('Set').map((item) => item.json.doubled), [42]);
	});

	it('runs a workflow that loops by calling itself as a sub-workflow, as the shipped sync does', async () => {
		const loop = {
			id: 'loop',
			name: 'loop',
			active: false,
			connections: {
				Start: { main: [[{ node: 'Run batch', type: 'main', index: 0 }]] },
				'Run batch': { main: [[{ node: 'More?', type: 'main', index: 0 }]] },
				'More?': { main: [[{ node: 'Run batch', type: 'main', index: 0 }], []] },
				'When called': { main: [[{ node: 'Count', type: 'main', index: 0 }]] },
			},
			nodes: [
				{ id: '1', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
				{
					id: '2',
					name: 'Run batch',
					type: 'n8n-nodes-base.executeWorkflow',
					typeVersion: 1.2,
					position: [200, 0],
					parameters: {
						source: 'database',
						workflowId: { __rl: true, mode: 'id', value: '={{ $workflow.id }}' },
						options: {},
					},
				},
				{
					id: '3',
					name: 'More?',
					type: 'n8n-nodes-base.if',
					typeVersion: 2.2,
					position: [400, 0],
					parameters: {
						conditions: {
							options: { caseSensitive: true, leftValue: '', typeValidation: 'strict', version: 2 },
							conditions: [
								{ id: 'c', leftValue: '={{ $json.n }}', rightValue: 3, operator: { type: 'number', operation: 'lt' } },
							],
							combinator: 'and',
						},
						options: {},
					},
				},
				{
					id: '4',
					name: 'When called',
					type: 'n8n-nodes-base.executeWorkflowTrigger',
					typeVersion: 1.1,
					position: [0, 200],
					parameters: { inputSource: 'passthrough' },
				},
				{
					id: '5',
					name: 'Count',
					type: 'n8n-nodes-base.set',
					typeVersion: 3.4,
					position: [200, 200],
					parameters: {
						assignments: { assignments: [{ id: 'a', name: 'n', type: 'number', value: '={{ ($json.n ?? 0) + 1 }}' }] },
					},
				},
			],
		};
		const result = await runWorkflow(loop as never, { workflowsById: { loop: loop as never }, startNodeName: 'Start' });
		assert.equal(result.errorMessage, undefined);
		assert.deepEqual(result.output('Run batch').map((item) => item.json.n), [1, 2, 3]);
		assert.deepEqual(result.output('More?', 1).map((item) => item.json.n), [3]);
	});
});
