/**
 * A parameter that is nothing but a field reference (`{{ $json.field }}`, `{{ $('Node').first().json.field }}`,
 * `.item`) is read without n8n's expression engine (nodes/shared/itemParameter.ts): the Watermark node must then give
 * what n8n's resolution gives. Each case runs twice, once with the plain reference and once with an expression n8n
 * has to compute to the same value.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { IDataObject } from 'n8n-workflow';

import { watermarkStoreSeam } from '../../nodes/Watermark/stores/watermarkStore';
import { replaceSeam, restoreAllSeams } from '../../nodes/shared/seams';
import { MemoryWatermarkStore } from '../support/memory/memoryWatermarkStore';
import { loneWatermarkWorkflow, runWorkflow } from '../support/workflowRunner';

const CREDENTIALS = { crmSqlServerApi: { server: 'crm.example', database: 'CRM', user: 'sync', password: 'not-used' } };

/** How a parameter names a field of the item Start passed on. */
const REFERENCES = {
	'$json.field': (field: string) => `$json.${field}`,
	"$('Start').first().json.field": (field: string) => `$('Start').first().json.${field}`,
	"$('Start').item.json.field": (field: string) => `$("Start").item.json.${field}`,
	"$('No such node').first().json.field": (field: string) => `$('No such node').first().json.${field}`,
};

let referenceOf = REFERENCES['$json.field'];

/** The reference alone, or an expression of the same value that only n8n can compute. */
const reference = (field: string, computed: boolean) => (computed ? `={{ ${referenceOf(field)} ?? undefined }}` : `={{ ${referenceOf(field)} }}`);

async function get(input: IDataObject, computed: boolean) {
	replaceSeam(watermarkStoreSeam, () => new MemoryWatermarkStore());
	const parameters = {
		operation: 'get',
		database: 'crm',
		stream: reference('stream', computed),
		timeZone: reference('zone', computed),
		advanced: { leaseOwner: reference('owner', computed) },
	};
	const lone = loneWatermarkWorkflow('Get by reference', parameters);
	// A No Op start passes the item on, as the sub-workflow trigger does before the shipped sync's Get.
	const workflow = { ...lone, nodes: lone.nodes.map((node) => (node.name === 'Start' ? { ...node, type: 'n8n-nodes-base.noOp' } : node)) };
	const run = await runWorkflow(workflow, { credentials: CREDENTIALS, startNodeName: 'Start', triggerItems: [{ json: input }] });
	const json = run.output('Watermark')[0]?.json ?? {};
	// An owner the node makes itself differs from run to run by design.
	const leaseOwner = /^execution \d+ · [0-9a-f]{16}$/.test(String(json.leaseOwner)) ? 'a new owner for the run' : json.leaseOwner;
	return { error: run.errorMessage, stream: json.stream, timeZone: json.timeZone, leaseOwner };
}

describe('A parameter that only names a field of the item', () => {
	afterEach(restoreAllSeams);

	for (const [kind, referenceTo] of Object.entries(REFERENCES)) {
		for (const [what, input] of [
			['every field there', { stream: 'customers', zone: 'Europe/Oslo', owner: 'run 1' }],
			['a number where text is expected', { stream: 42, zone: 'UTC', owner: 7 }],
			['no time zone and no lease owner on the item', { stream: 'orders' }],
			['no stream on the item', { zone: 'UTC', owner: 'run 1' }],
		] as const) {
			it(`${kind} is what n8n resolves: ${what}`, async () => {
				referenceOf = referenceTo;
				const direct = await get(input, false);
				const resolved = await get(input, true);
				assert.deepEqual(direct, resolved);
				if (kind.includes('No such node')) assert.match(String(direct.error), /Referenced node doesn't exist/);
				else if (!('stream' in input)) assert.match(String(direct.error), /No stream name was given/);
				else assert.equal(direct.stream, String(input.stream));
			});
		}
	}
});
