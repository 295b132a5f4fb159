/**
 * The shipped workflows as they arrive in an n8n that has none of their credentials yet (imported from file or
 * by `npm start`): the first node that needs a database says, in a partner's words, which credential to create
 * and where to pick it, instead of n8n's "Credential with ID … does not exist for type …".
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import type { INode, IWorkflowBase } from 'n8n-workflow';

import { ContractingSqlServerApi } from '../../credentials/ContractingSqlServerApi.credentials';
import { CrmSqlServerApi } from '../../credentials/CrmSqlServerApi.credentials';
import { CREDENTIAL_IN_WORDS, credentialMissingError } from '../../nodes/shared/nodeErrors';
import { restoreAllSeams } from '../../nodes/shared/seams';
import { CREDENTIALS, SyncWorld } from '../support/syncWorld';
import { PACKAGE_NAME, PACKAGE_ROOT, readWorkflow, runWorkflow } from '../support/workflowRunner';

const NODE_OF_TYPE = (name: string): INode => ({ id: '1', name: 'Upsert customers', type: `${PACKAGE_NAME}.${name}`, typeVersion: 1, position: [0, 0], parameters: {} });
const isPackageNode = (node: INode) => node.type.startsWith(`${PACKAGE_NAME}.`);
const STARTS_BY_HAND_OR_SCHEDULE = ['n8n-nodes-base.manualTrigger', 'n8n-nodes-base.scheduleTrigger'];

/** Every shipped workflow that holds a node of this package, with the trigger a partner starts it by. */
function shippedWorkflowsWithDatabaseNodes(): Array<{ file: string; workflow: IWorkflowBase; start: string }> {
	return readdirSync(path.join(PACKAGE_ROOT, 'workflows'))
		.filter((name) => name.endsWith('.json'))
		.map((name) => ({ file: name, workflow: readWorkflow(`workflows/${name}`) }))
		.filter(({ workflow }) => workflow.nodes.some(isPackageNode))
		.map(({ file, workflow }) => {
			const start = workflow.nodes.find((node) => STARTS_BY_HAND_OR_SCHEDULE.includes(node.type));
			assert.ok(start, `${file} starts by hand or on a schedule`);
			return { file, workflow, start: start.name };
		});
}

async function runAsImported(workflow: IWorkflowBase, start: string, credentials: Record<string, Record<string, string>>) {
	const data = { ...workflow, id: workflow.id ?? 'imported' };
	return await runWorkflow(data, { credentials, startNodeName: start, workflowsById: { [data.id as string]: data }, mode: 'manual' });
}

describe('shipped workflows in an n8n without their credentials', () => {
	afterEach(restoreAllSeams);

	it('the credential names in the messages are the ones the Credentials page shows', () => {
		assert.equal(CREDENTIAL_IN_WORDS.contractingSqlServerApi.typeName, new ContractingSqlServerApi().displayName);
		assert.equal(CREDENTIAL_IN_WORDS.crmSqlServerApi.typeName, new CrmSqlServerApi().displayName);
	});

	for (const { file, workflow, start } of shippedWorkflowsWithDatabaseNodes()) {
		it(`${file}: the first node to touch a database says which credential to create and where to pick it`, async () => {
			new SyncWorld(); // in-memory stores: nothing here may reach for a SQL Server
			const run = await runAsImported(workflow, start, {});
			// The status workflow does not fail: it answers with the reason, so a monitoring tool gets its 503.
			const message = run.errorMessage ?? run.output('Status table').map((row) => String(row.json.problems)).join('\n');
			assert.match(message, /Create the Visma (CRM|Contracting) credential under Credentials, or pick one in "[^"]+"/, message);
			const [, credential] = /Create the (Visma (?:CRM|Contracting)) credential/.exec(message) ?? [];
			const [, pickIn] = /or pick one in "([^"]+)"/.exec(message) ?? [];
			const node = workflow.nodes.find((candidate) => candidate.name === pickIn);
			assert.ok(node && isPackageNode(node), `"${pickIn}" is a node of this package in ${file}`);
			const type = Object.keys(node.credentials ?? {})[0];
			assert.equal(CREDENTIAL_IN_WORDS[type]?.name, credential, `"${pickIn}" uses the ${credential} credential`);
			assert.doesNotMatch(message, /Credential with ID|does not exist for type|crmSqlServerApi|contractingSqlServerApi/, "n8n's internal wording stays out");
		});
	}

	it('the error says below which credential type to create, under the name the workflow refers to it by', () => {
		const node = { ...NODE_OF_TYPE('crm'), credentials: { crmSqlServerApi: { id: 'VismaCrmSqlSrv01', name: 'Visma CRM' } } };
		const error = credentialMissingError(node, 'crmSqlServerApi');
		assert.equal(error.message, 'Create the Visma CRM credential under Credentials, or pick one in "Upsert customers"');
		assert.match(error.description ?? '', /Overview → Credentials → Create credential → "Visma CRM SQL Server API", named "Visma CRM" so that every node referring to it takes it/);
		assert.match(error.description ?? '', /pick an existing credential in this node: n8n puts it in every node of the workflow/);
	});

	it('one credential choice reaches every node: each credential type is referred to by one id and one name in all shipped workflows', () => {
		// n8n gives a missing credential's nodes the one credential of that name and type (when a workflow is
		// opened, saved or imported; the e2e test shows it in a real n8n), and `npm start` creates the
		// credentials from the environment under that id: either way one credential per type serves every node.
		const references = new Map<string, Set<string>>();
		const nodesNeeding = new Map<string, string[]>();
		for (const { file, workflow } of shippedWorkflowsWithDatabaseNodes()) {
			for (const node of workflow.nodes.filter(isPackageNode)) {
				const types = Object.entries(node.credentials ?? {});
				assert.equal(types.length, 1, `${file}: "${node.name}" refers to exactly one credential`);
				for (const [type, reference] of types) {
					references.set(type, (references.get(type) ?? new Set()).add(JSON.stringify({ id: reference.id, name: reference.name })));
					nodesNeeding.set(type, [...(nodesNeeding.get(type) ?? []), `${file}: ${node.name}`]);
				}
			}
		}
		assert.deepEqual([...references.keys()].sort(), Object.keys(CREDENTIAL_IN_WORDS).sort());
		for (const [type, seen] of references) {
			assert.equal(seen.size, 1, `${type} is referred to in one way by ${nodesNeeding.get(type)?.join(', ')}: ${[...seen].join(' / ')}`);
			assert.equal(JSON.parse([...seen][0]).name, CREDENTIAL_IN_WORDS[type].name, `${type} is referred to by the name the partner guide gives`);
		}
	});

	it('with only the CRM credential there, the sync stops at the first Contracting node, naming the Visma Contracting credential', async () => {
		const world = new SyncWorld();
		world.addCustomer(1, '2024-11-01T08:00:00');
		const sync = shippedWorkflowsWithDatabaseNodes().find(({ workflow }) => workflow.nodes.some((node) => node.type === 'n8n-nodes-base.scheduleTrigger'));
		assert.ok(sync);
		const run = await runAsImported(sync.workflow, sync.start, { crmSqlServerApi: CREDENTIALS.crmSqlServerApi });
		assert.match(run.errorMessage ?? '', /Create the Visma Contracting credential under Credentials, or pick one in "Read customers"/);
		assert.equal(world.companies().length, 0, 'nothing was written');
	});
});
