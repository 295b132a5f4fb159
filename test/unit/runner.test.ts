import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { runWorkflow } from '../support/workflowRunner';

describe('in-process workflow runner', () => {
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
});
