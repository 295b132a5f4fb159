/**
 * Model-based: random deliveries of changed and deleted customers (duplicates, case-only renames, re-sends after a
 * rewind), sent through the CRM node into the in-memory CRM in random batch sizes. After every run CRM must hold
 * exactly what a plain "last change wins" model holds, and every item must report what happened to its row.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { IDataObject } from 'n8n-workflow';

import { upsertTargetSeam } from '../../nodes/Crm/stores/upsertTarget';
import type { WriteStatus } from '../../nodes/shared/core/syncItem';
import { replaceSeam, restoreAllSeams } from '../../nodes/shared/seams';
import { COMPANY, CRM_MEMORY_TABLES } from '../contract/upsertTarget.contract';
import { MemoryUpsertTarget } from '../support/memory/memoryUpsertTarget';
import type { Random } from '../support/property';
import { describeFailure, forAll, propertyOptionsFromEnvironment } from '../support/property';
import { crmWorkflow } from '../support/crmItems';
import { runWorkflow } from '../support/workflowRunner';

type Change = { kind: 'upsert'; no: number; name: string } | { kind: 'delete'; no: number };
type Event = { kind: 'deliver'; changes: Change[]; batchSize: number } | { kind: 'resendPrevious'; batchSize: number };

const NAMES = ['Acme', 'ACME', 'Bolt', 'Cog AS', 'acme'];

function generate(random: Random): Event[] {
	return Array.from({ length: random.int(1, 6) }, (): Event => {
		const batchSize = random.int(1, 5);
		if (random.chance(0.25)) return { kind: 'resendPrevious', batchSize };
		const changes = Array.from({ length: random.int(1, 8) }, (): Change => {
			const no = random.int(1, 5);
			return random.chance(0.2) ? { kind: 'delete', no } : { kind: 'upsert', no, name: random.pick(NAMES) };
		});
		return { kind: 'deliver', changes, batchSize };
	});
}

const sync = (change: Change, position: number) => ({
	stream: 'customers',
	operation: change.kind,
	key: { CustomerNo: change.no },
	cursor: `{"kind":"rowversion","marker":"0x${position.toString(16).padStart(16, '0')}","key":null}`,
	batchStartCursor: '{"kind":"rowversion","marker":null,"key":null}',
	position,
	batchRows: 0,
	hasMore: false,
});

const itemOf = (change: Change, position: number): IDataObject =>
	change.kind === 'upsert'
		? { CustomerNo: change.no, Name: change.name, _sync: sync(change, position) as unknown as IDataObject }
		: { CustomerNo: change.no, _sync: sync(change, position) as unknown as IDataObject };

/** What each item of a delivery must report, batch by batch, with the last change of a key in a batch winning. */
function expectedStatuses(model: Map<number, string>, changes: Change[], batchSize: number): WriteStatus[] {
	const statuses: WriteStatus[] = [];
	for (let start = 0; start < changes.length; start += batchSize) {
		const batch = changes.slice(start, start + batchSize);
		const winnerOf = new Map(batch.map((change) => [change.no, change]));
		const before = new Map(model);
		for (const change of winnerOf.values()) {
			if (change.kind === 'delete') model.delete(change.no);
			else model.set(change.no, change.name);
		}
		for (const change of batch) {
			const winner = winnerOf.get(change.no) as Change;
			const had = before.get(change.no);
			if (winner.kind === 'delete') statuses.push(had === undefined ? 'unchanged' : 'deleted');
			else statuses.push(had === undefined ? 'inserted' : had === winner.name ? 'unchanged' : 'updated');
		}
	}
	return statuses;
}

async function check(events: Event[]): Promise<string | undefined> {
	const memory = new MemoryUpsertTarget(CRM_MEMORY_TABLES());
	replaceSeam(upsertTargetSeam, () => memory);
	const model = new Map<number, string>();
	let previous: Change[] = [];
	for (const [step, event] of events.entries()) {
		const changes = event.kind === 'deliver' ? event.changes : previous;
		previous = changes;
		const result = await runWorkflow(crmWorkflow({ deletes: 'delete', options: { batchSize: event.batchSize } }), {
			credentials: { crmSqlServerApi: { server: 'crm', database: 'CRM' } },
			triggerItems: changes.map((change, position) => ({ json: itemOf(change, position) })),
			startNodeName: 'Changed rows',
		});
		if (result.errorMessage) return `step ${step + 1}: the node failed: ${result.errorMessage}`;
		const expected = expectedStatuses(model, changes, event.batchSize);
		const reported = result.output('CRM').map((item) => item.json.status);
		if (JSON.stringify(reported) !== JSON.stringify(expected)) {
			return `step ${step + 1}: statuses ${JSON.stringify(reported)}, expected ${JSON.stringify(expected)}`;
		}
		const stored = memory.rows(COMPANY).map((row) => [row.CustomerNo, row.Name]).sort((a, b) => Number(a[0]) - Number(b[0]));
		const modelled = [...model].sort((a, b) => a[0] - b[0]);
		if (JSON.stringify(stored) !== JSON.stringify(modelled)) {
			return `step ${step + 1}: CRM holds ${JSON.stringify(stored)}, the model ${JSON.stringify(modelled)}`;
		}
	}
	return undefined;
}

afterEach(() => restoreAllSeams());

describe('CRM node against a model of CRM', () => {
	it('holds exactly the last change of every key, never a second row, whatever is sent and re-sent', async () => {
		const failure = await forAll(propertyOptionsFromEnvironment(40), generate, check);
		assert.equal(failure, undefined, failure && describeFailure(failure));
	});
});
