/**
 * What every shipped workflow carries besides its nodes' logic: n8n's current core node versions (what n8n 2.40 puts
 * on a new node), a time zone, and for the sync the alert workflow as its error workflow and an executions list that
 * keeps every failed run and no successful batch.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import type { INodeTypeDescription, IVersionedNodeType } from 'n8n-workflow';

import { SYNC_WORKFLOW_FILE } from '../support/syncWorld';
import { PACKAGE_ROOT, loadNodeTypes, readWorkflow } from '../support/workflowRunner';

const shippedFiles = readdirSync(path.join(PACKAGE_ROOT, 'workflows'))
	.filter((name) => name.endsWith('.json'))
	.map((name) => `workflows/${name}`);

/** The version n8n gives a node of this type when it is added in the editor. */
function newestDefault(type: INodeTypeDescription | IVersionedNodeType['description']): number {
	if ('defaultVersion' in type && type.defaultVersion !== undefined) return type.defaultVersion;
	const versions = [(type as INodeTypeDescription).version].flat();
	return Math.max(...versions);
}

describe('shipped workflows: versions and settings', () => {
	it('there are four: the sync, the rewind, the alert and the status', () => {
		assert.deepEqual(shippedFiles.sort(), ['workflows/contracting-crm-alert.json', 'workflows/contracting-crm-rewind.json', 'workflows/contracting-crm-status.json', 'workflows/contracting-crm-sync.json']);
	});

	it("every n8n core node is at the version n8n 2.40 gives a new node, so the editor shows no 'update node' notice", async () => {
		const nodeTypes = await loadNodeTypes();
		const behind = shippedFiles.flatMap((file) =>
			readWorkflow(file)
				.nodes.filter((node) => node.type.startsWith('n8n-nodes-base.'))
				.map((node) => ({ file, node, current: newestDefault(nodeTypes.getByName(node.type).description) }))
				.filter(({ node, current }) => node.typeVersion !== current)
				.map(({ file, node, current }) => `${file}: "${node.name}" (${node.type}) is ${node.typeVersion}, n8n 2.40 adds ${current}`),
		);
		assert.deepEqual(behind, []);
	});

	it('each workflow runs in the time zone the shipped streams are written in', () => {
		for (const file of shippedFiles) assert.equal(readWorkflow(file).settings?.timezone, 'Europe/Oslo', file);
	});

	it('the sync keeps every failed execution and does not keep successful ones (each batch is an execution of its own)', () => {
		const settings = readWorkflow(SYNC_WORKFLOW_FILE).settings ?? {};
		assert.equal(settings.saveDataErrorExecution, 'all');
		assert.equal(settings.saveDataSuccessExecution, 'none');
		assert.equal(settings.saveManualExecutions, true, 'a run started in the editor is kept, to look at');
	});
});
