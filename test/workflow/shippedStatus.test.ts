/**
 * The shipped status workflow (workflows/contracting-crm-status.json) and the Watermark node's Status, run as
 * shipped over the in-memory stores after real runs of the shipped sync: what a monitoring tool gets (JSON,
 * `healthy`, HTTP 200 or 503) and what a partner sees in the editor (one row per stream).
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import type { IDataObject, IWorkflowBase } from 'n8n-workflow';

import { SOURCE_PARAMETERS } from '../../nodes/Contracting/actions/countChanges.operation';
import { watermarkStoreSeam } from '../../nodes/Watermark/stores/watermarkStore';
import { replaceSeam, restoreAllSeams } from '../../nodes/shared/seams';
import { CREDENTIALS, SYNC_WORKFLOW_FILE, SyncWorld, onDay, withSettings } from '../support/syncWorld';
import { loneWatermarkWorkflow, readWorkflow, runWorkflow } from '../support/workflowRunner';

const STATUS_WORKFLOW_FILE = 'workflows/contracting-crm-status.json';
const WEBHOOK = 'When a monitoring tool asks';
const MINUTE = 60_000;

interface WebhookAnswer {
	statusCode: number;
	body: IDataObject & { healthy: boolean; problems: string[]; streams: IDataObject[] };
}

describe('shipped status workflow', () => {
	let world: SyncWorld;
	let status: IWorkflowBase;
	beforeEach(() => {
		world = new SyncWorld();
		status = readWorkflow(STATUS_WORKFLOW_FILE);
	});
	afterEach(restoreAllSeams);

	const later = (ms: number) => {
		world.nowUtc = new Date(Date.parse(world.nowUtc) + ms).toISOString();
	};

	/** GET by a monitoring tool: the response the Respond node sends. */
	async function poll(workflow: IWorkflowBase = status): Promise<WebhookAnswer> {
		const responses: Array<{ body: unknown; statusCode?: number }> = [];
		const run = await runWorkflow(workflow, {
			credentials: CREDENTIALS,
			startNodeName: WEBHOOK,
			mode: 'webhook',
			triggerItems: [{ json: { headers: {}, params: {}, query: {}, body: {} } }],
			onHooks: (hooks) => hooks.addHandler('sendResponse', (response) => void responses.push(response as never)),
		});
		assert.equal(run.errorMessage, undefined);
		assert.equal(responses.length, 1, 'exactly one response');
		assert.ok(!run.executedNodes.includes('Status table'));
		const [response] = responses;
		return { statusCode: response.statusCode ?? 200, body: response.body as WebhookAnswer['body'] };
	}

	/** "Execute workflow" in the editor: the rows of the Status table. */
	async function table(): Promise<IDataObject[]> {
		const run = await runWorkflow(status, { credentials: CREDENTIALS, startNodeName: 'Show status', mode: 'manual' });
		assert.equal(run.errorMessage, undefined);
		assert.ok(!run.executedNodes.includes('Respond'));
		return run.output('Status table').map((item) => item.json);
	}

	async function syncedOnce() {
		for (const no of [1, 2, 3]) world.addCustomer(no, onDay(no));
		world.addOrder(101, 1, onDay(1, '09:00:00.000'));
		const run = await world.runSync();
		assert.equal(run.errorMessage, undefined);
	}

	const streamOf = (answer: WebhookAnswer, name: string) => answer.body.streams.find((stream) => stream.stream === name) as IDataObject & Record<string, IDataObject>;

	it('answers 200 and healthy after a run, with each stream in words, its count of rows waiting, and its last run', async () => {
		await syncedOnce();
		world.addCustomer(4, onDay(25));
		later(MINUTE);
		const answer = await poll();
		assert.equal(answer.statusCode, 200);
		assert.equal(answer.body.healthy, true);
		assert.deepEqual(answer.body.problems, []);
		assert.deepEqual(answer.body.streams.map((stream) => stream.stream), ['customers', 'orders']);
		const customers = streamOf(answer, 'customers');
		assert.equal(customers.healthy, true);
		assert.equal(customers.runState, 'idle');
		assert.equal(customers.watermark.inWords, '2024-11-03 08:00 (Europe/Oslo)');
		assert.equal(customers.rowsWaiting, 1, 'the customer changed after the run, counted as Count Changes counts it');
		assert.equal(streamOf(answer, 'orders').rowsWaiting, 0);
		assert.deepEqual(customers.lease, { held: false, owner: null, until: null });
		assert.deepEqual(customers.retryList, { waiting: 0, parked: 0, rows: [] });
		const lastRun = customers.lastRun as IDataObject & { summary: IDataObject };
		assert.equal(lastRun.minutesSinceFinished, 1);
		assert.deepEqual([lastRun.summary.outcome, lastRun.summary.rowsRead, lastRun.summary.inserted], ['advanced', 3, 3]);
		assert.ok(Date.parse(String(lastRun.startedAt)) <= Date.parse(String(lastRun.finishedAt)));
	});

	it('answers 503 when a stream has parked rows, and names them', async () => {
		await syncedOnce();
		const got = await world.watermarks.acquire({
			stream: 'customers',
			owner: 'support',
			leaseSeconds: 60,
			startingCursor: null,
			startingReason: '',
			timeZone: 'Europe/Oslo',
			location: { kind: 'packageTable' },
			audit: { workflowId: null, executionId: null },
		});
		assert.equal(got.kind, 'acquired');
		await world.watermarks.commit({
			token: { stream: 'customers', generation: got.kind === 'acquired' ? got.state.generation : 0, owner: 'support' },
			allowBackwards: false,
			releaseLease: true,
			audit: { workflowId: null, executionId: null },
			retry: { changes: [{ kind: 'failed', key: { CustomerNo: 2 }, cursor: null, error: 'String or binary data would be truncated' }], rules: { maxAttempts: 1, releaseLeaseWhenParked: true } },
		});
		const answer = await poll();
		assert.equal(answer.statusCode, 503);
		assert.equal(answer.body.healthy, false);
		assert.equal(streamOf(answer, 'orders').healthy, true, 'one stream is not healthy, the other is');
		const customers = streamOf(answer, 'customers');
		assert.deepEqual(customers.retryList, {
			waiting: 0,
			parked: 1,
			rows: [{ key: { CustomerNo: 2 }, attempts: 1, parked: true, lastError: 'String or binary data would be truncated', lastTriedAt: world.nowUtc }],
		});
		assert.match(answer.body.problems.join('\n'), /1 row is parked in the retry list of "customers"/);
	});

	it('a lease held by a working run is "running" and healthy; a lease left to expire is named', async () => {
		await syncedOnce();
		const request = { startingCursor: null, startingReason: '', timeZone: 'Europe/Oslo', location: { kind: 'packageTable' as const }, audit: { workflowId: null, executionId: null } };
		await world.watermarks.acquire({ ...request, stream: 'orders', owner: '977', leaseSeconds: 600 });
		let answer = await poll();
		assert.equal(answer.statusCode, 200);
		const orders = streamOf(answer, 'orders');
		assert.equal(orders.runState, 'running');
		assert.deepEqual(orders.lease, { held: true, owner: '977', until: new Date(Date.parse(world.nowUtc) + 600_000).toISOString() });

		later(11 * MINUTE);
		answer = await poll();
		assert.equal(answer.statusCode, 503);
		assert.equal(streamOf(answer, 'orders').runState, 'idle');
		assert.match(answer.body.problems.join('\n'), /The run "977" held "orders" until .* and never gave it up/);
		assert.equal(streamOf(answer, 'customers').healthy, true);
	});

	it('answers 503 when no stream ever ran, and when no run has finished for longer than the Settings allow', async () => {
		let answer = await poll();
		assert.equal(answer.statusCode, 503);
		assert.deepEqual(answer.body.streams.map((stream) => [stream.stream, stream.healthy]), [[null, false]]);
		assert.match(answer.body.problems[0], /No stream has a watermark in these tables yet: the sync has never run/);

		await syncedOnce();
		later(30 * MINUTE);
		assert.equal((await poll()).statusCode, 200, 'exactly 30 minutes is not more than 30');
		later(MINUTE);
		answer = await poll();
		assert.equal(answer.statusCode, 503);
		assert.match(answer.body.problems.join('\n'), /No run of "customers" has finished for 31 minutes \(more than 30\)/);
		assert.equal((await poll(withSettings(status, { maxMinutesBehind: 60 }))).statusCode, 200, 'N is the Settings node\'s maxMinutesBehind');
	});

	it('a stream whose run failed answers 503 at once with the reason and its execution, and is free for the next run; the other stream stays healthy', async () => {
		await syncedOnce();
		later(MINUTE);
		const readCustomers = world.sync.nodes.find((node) => node.name === 'Read customers');
		assert.ok(readCustomers);
		readCustomers.parameters = { ...readCustomers.parameters, table: { __rl: true, mode: 'name', value: 'dbo.NoSuchTable' } };
		const failed = await world.runSync();
		assert.ok(failed.errorMessage, 'the run fails');
		later(MINUTE);
		const answer = await poll();
		assert.equal(answer.statusCode, 503);
		assert.equal(streamOf(answer, 'customers').runState, 'failed', 'no lease left behind: the next run need not wait for it to expire');
		assert.match(answer.body.problems.join('\n'), /The last run of "customers" \(execution \d+\) failed at .*NoSuchTable/);
		assert.equal(streamOf(answer, 'orders').healthy, true, 'orders ran on after customers failed');
	});

	it('a Record Run that fails (the run table cannot be written) never stops the sync: both streams send their rows and the run succeeds', async () => {
		world.watermarks.recordRun = () => Promise.reject(new Error('The INSERT permission was denied on the object ContractingCrmWatermarkRun'));
		for (const no of [1, 2]) world.addCustomer(no, onDay(no));
		world.addOrder(101, 1, onDay(1, '09:00:00.000'));
		const run = await world.runSync();
		assert.equal(run.errorMessage, undefined);
		assert.deepEqual(
			(['customers', 'orders'] as const).map((stream) => [run.summary(stream)?.outcome, run.summary(stream)?.rowsRead]),
			[
				['advanced', 2],
				['advanced', 1],
			],
		);
		assert.deepEqual([world.companies().length, world.salesOrders().length], [2, 1]);
	});

	it('answers 503 with the reason when the status cannot be read', async () => {
		replaceSeam(watermarkStoreSeam, () => {
			throw new Error('Failed to connect to crm.invalid:1433');
		});
		const answer = await poll();
		assert.equal(answer.statusCode, 503);
		assert.equal(answer.body.healthy, false);
		assert.match(answer.body.problems[0], /^The status could not be read: .*crm\.invalid:1433/);
	});

	it('the editor shows one row per stream with the same facts, and nothing is answered', async () => {
		await syncedOnce();
		const rows = await table();
		assert.deepEqual(
			rows.map((row) => [row.stream, row.healthy, row.run, row.watermark, row.rowsWaiting, row.retryParked, row.leaseHeldBy, row.lastRunOutcome, row.lastRunRowsRead]),
			[
				['customers', true, 'idle', '2024-11-03 08:00 (Europe/Oslo)', 0, 0, null, 'advanced', 3],
				['orders', true, 'idle', '2024-11-01 09:00 (Europe/Oslo)', 0, 0, null, 'advanced', 1],
			],
		);
	});

	it('counts each stream with the source settings the sync reads it with', () => {
		const parametersOf = (workflow: IWorkflowBase, node: string) => {
			const found = workflow.nodes.find((candidate) => candidate.name === node);
			assert.ok(found, `${workflow.name} has a node "${node}"`);
			return found.parameters;
		};
		const sync = readWorkflow(SYNC_WORKFLOW_FILE);
		for (const stream of ['customers', 'orders']) {
			const read = parametersOf(sync, `Read ${stream}`);
			const count = parametersOf(status, `Count ${stream}`);
			assert.equal(count.operation, 'countChanges');
			for (const name of [...SOURCE_PARAMETERS].filter((parameter) => parameter !== 'since')) {
				assert.deepEqual(count[name], read[name], `${stream}: ${name} as in the sync's "Read ${stream}"`);
			}
		}
	});

	it('the webhook is GET with header auth, answers from the Respond node, and the workflow is imported switched off', () => {
		const webhook = status.nodes.find((node) => node.name === WEBHOOK);
		assert.ok(webhook);
		assert.deepEqual([webhook.parameters.httpMethod, webhook.parameters.authentication, webhook.parameters.responseMode], ['GET', 'headerAuth', 'responseNode']);
		assert.equal(status.active, false);
	});
});

describe('Watermark node: Status of one stream', () => {
	afterEach(restoreAllSeams);

	it('a stream asked for by name that never ran is reported, not an error', async () => {
		const world = new SyncWorld();
		world.plugIn();
		const workflow = loneWatermarkWorkflow('status of one stream', { operation: 'status', database: 'crm', statusStreams: 'one', stream: 'invoices' });
		const run = await runWorkflow(workflow, { credentials: CREDENTIALS, startNodeName: 'Start' });
		assert.equal(run.errorMessage, undefined);
		const [item] = run.output('Watermark').map((output) => output.json);
		assert.equal(item.stream, 'invoices');
		assert.equal(item.healthy, false);
		assert.equal(item.runState, 'never ran');
		assert.match(String((item.problems as string[])[0]), /Stream "invoices" has never run/);
	});

	it('a Record Run whose Event is none of its choices stops naming them, and records no finished run', async () => {
		const world = new SyncWorld();
		world.plugIn();
		const record = loneWatermarkWorkflow('record a run', { operation: 'recordRun', database: 'crm', stream: 'invoices', runEvent: "={{ 'Started' }}" });
		const run = await runWorkflow(record, { credentials: CREDENTIALS, startNodeName: 'Start' });
		assert.match(String(run.errorMessage), /'Event' cannot be "Started" — It takes one of: "started" \(Run Started\), "finished" \(Run Finished\)/);
		const status = await runWorkflow(loneWatermarkWorkflow('status of one stream', { operation: 'status', database: 'crm', statusStreams: 'one', stream: 'invoices' }), {
			credentials: CREDENTIALS,
			startNodeName: 'Start',
		});
		assert.equal(status.output('Watermark')[0].json.runState, 'never ran');
	});

	it('a Streams that is none of its choices stops the node naming them, instead of reporting every stream', async () => {
		const world = new SyncWorld();
		world.plugIn();
		const workflow = loneWatermarkWorkflow('status of one stream', { operation: 'status', database: 'crm', statusStreams: "={{ 'One' }}", stream: 'invoices' });
		const run = await runWorkflow(workflow, { credentials: CREDENTIALS, startNodeName: 'Start' });
		assert.match(String(run.errorMessage), /'Streams' cannot be "One" — It takes one of: "all" \(All Streams\), "one" \(One Stream\)/);
	});
});
