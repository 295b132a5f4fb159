/**
 * The Watermark node in real workflow JSON, run in-process by n8n-core, with the in-memory store plugged in
 * through its seam. The CRM node's output is stood in for by n8n's own Set and Split Out nodes, which emit
 * items with `_sync` and `status` exactly as the item contract (nodes/shared/core/syncItem.ts) describes.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import type { IWorkflowBase } from 'n8n-workflow';

import { serializeCursor } from '../../nodes/shared/core/cursor';
import { PACKAGE_TABLE } from '../../nodes/shared/core/watermarkLocation';
import { replaceSeam, restoreAllSeams } from '../../nodes/shared/seams';
import { STATE_COLUMNS } from '../../nodes/Watermark/stores/watermarkSql';
import { watermarkStoreSeam } from '../../nodes/Watermark/stores/watermarkStore';
import { MemoryWatermarkStore } from '../support/memory/memoryWatermarkStore';
import { RecordingSqlTransport, useRecordingTransport } from '../support/recordingTransport';
import { runWorkflow } from '../support/workflowRunner';
import { columnsOf, tablesResult } from '../support/watermarkSqlAnswers';

const WATERMARK = 'n8n-nodes-contracting-crm.watermark';
const CRM_CREDENTIAL = { crmSqlServerApi: { id: 'crm', name: 'CRM' } };
const credentials = { crmSqlServerApi: { server: 'crm.example', database: 'CRM', user: 'n8n', password: 'not-used' } };

const markerOf = (day: number, row: number) => `2025-03-${String(day).padStart(2, '0')}T10:00:0${row}`;
const cursorOf = (day: number, row: number) => serializeCursor({ kind: 'datetime', marker: markerOf(day, row), key: [String(day * 100 + row)] });

/**
 * Start → Get Watermark → (Acquired) → Fake CRM (three rows changed on `day` March, read from Get's cursor,
 * all written but the one at `failAt`) → Split Out → Set Watermark. "Held by Another Run" is left unconnected, as in the sync.
 */
function syncWorkflow(day: number, failAt = -1, getParameters: Record<string, unknown> = {}, setOptions: Record<string, unknown> = {}, refusedForItsData = true): IWorkflowBase {
	const rows = `[0, 1, 2].map((row) => ({
		CustomerNo: ${day} * 100 + row,
		status: row === ${failAt} ? 'failed' : 'inserted',
		error: row === ${failAt} ? 'String or binary data would be truncated' : undefined,
		sqlServerError: row === ${failAt} && ${refusedForItsData} ? 2628 : undefined,
		_sync: {
			stream: 'customers',
			operation: 'upsert',
			key: { CustomerNo: ${day} * 100 + row },
			cursor: JSON.stringify({ kind: 'datetime', marker: '2025-03-' + String(${day}).padStart(2, '0') + 'T10:00:0' + row, key: [String(${day} * 100 + row)] }),
			batchStartCursor: $('Get Watermark').first().json.cursor ?? JSON.stringify({ kind: 'datetime', marker: null, key: null }),
			position: row,
			batchRows: 3,
			hasMore: false,
		},
	}))`;
	return {
		id: 'wf-sync',
		name: 'watermark round trip',
		active: false,
		connections: {
			Start: { main: [[{ node: 'Get Watermark', type: 'main', index: 0 }]] },
			'Get Watermark': { main: [[{ node: 'Fake CRM', type: 'main', index: 0 }], []] },
			'Fake CRM': { main: [[{ node: 'Split Out', type: 'main', index: 0 }]] },
			'Split Out': { main: [[{ node: 'Set Watermark', type: 'main', index: 0 }]] },
		},
		nodes: [
			{ id: '1', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
			{
				id: '2',
				name: 'Get Watermark',
				type: WATERMARK,
				typeVersion: 1,
				position: [200, 0],
				parameters: { operation: 'get', stream: 'customers', ...getParameters },
				credentials: CRM_CREDENTIAL,
			},
			{
				id: '3',
				name: 'Fake CRM',
				type: 'n8n-nodes-base.set',
				typeVersion: 3.4,
				position: [400, 0],
				parameters: { mode: 'raw', jsonOutput: `={{ JSON.stringify({ rows: ${rows} }) }}` },
			},
			{ id: '4', name: 'Split Out', type: 'n8n-nodes-base.splitOut', typeVersion: 1, position: [600, 0], parameters: { fieldToSplitOut: 'rows' } },
			{
				id: '5',
				name: 'Set Watermark',
				type: WATERMARK,
				typeVersion: 1,
				position: [800, 0],
				parameters: { operation: 'set', token: "={{ $('Get Watermark').first().json.token }}", setOptions },
				credentials: CRM_CREDENTIAL,
			},
		],
	} as unknown as IWorkflowBase;
}

/** The sync with support's rewind landing between Get and Set, as when support rewinds during a run. */
function syncWithRewindDuringRun(day: number): IWorkflowBase {
	const workflow = syncWorkflow(day) as unknown as { nodes: Array<Record<string, unknown>>; connections: Record<string, unknown> };
	workflow.nodes.push({
		id: '6',
		name: 'Rewind By Support',
		type: WATERMARK,
		typeVersion: 1,
		position: [300, 200],
		parameters: { operation: 'rewind', stream: 'customers' },
		credentials: CRM_CREDENTIAL,
	});
	workflow.connections['Get Watermark'] = { main: [[{ node: 'Rewind By Support', type: 'main', index: 0 }], []] };
	workflow.connections['Rewind By Support'] = { main: [[{ node: 'Fake CRM', type: 'main', index: 0 }]] };
	return workflow as unknown as IWorkflowBase;
}

function supportWorkflow(parameters: Record<string, unknown>): IWorkflowBase {
	return {
		id: 'wf-support',
		name: 'watermark support',
		active: false,
		connections: { Start: { main: [[{ node: 'Watermark', type: 'main', index: 0 }]] } },
		nodes: [
			{ id: '1', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
			{ id: '2', name: 'Watermark', type: WATERMARK, typeVersion: 1, position: [200, 0], parameters, credentials: CRM_CREDENTIAL },
		],
	} as unknown as IWorkflowBase;
}

describe('Watermark node in a workflow (in-memory store)', () => {
	let store: MemoryWatermarkStore;
	let sql: RecordingSqlTransport;

	beforeEach(() => {
		store = new MemoryWatermarkStore();
		replaceSeam(watermarkStoreSeam, () => store);
		sql = new RecordingSqlTransport();
		useRecordingTransport(sql);
	});

	afterEach(() => restoreAllSeams());

	it('first run starts from the beginning, Set stores the last written row, the next run starts there', async () => {
		const first = await runWorkflow(syncWorkflow(1), { credentials });
		assert.equal(first.errorMessage, undefined);
		const got = first.output('Get Watermark')[0].json;
		assert.equal(got.cursor, null);
		assert.equal(got.startedFrom, 'the beginning (first run)');
		assert.equal(got.firstRun, true);
		const set = first.output('Set Watermark');
		assert.equal(set.length, 1, 'one item per execution');
		assert.deepEqual(set[0].pairedItem, [{ item: 0 }, { item: 1 }, { item: 2 }]);
		assert.equal(set[0].json.outcome, 'advanced');
		assert.equal(set[0].json.cursor, cursorOf(1, 2));
		assert.equal(set[0].json.moved, true);
		assert.deepEqual(set[0].json.counts, { read: 3, inserted: 3, updated: 0, unchanged: 0, deleted: 0, ignored: 0, failed: 0 });

		const second = await runWorkflow(syncWorkflow(2), { credentials });
		assert.equal(second.errorMessage, undefined);
		assert.equal(second.output('Get Watermark')[0].json.cursor, cursorOf(1, 2));
		assert.equal(second.output('Get Watermark')[0].json.startedFrom, 'the stored watermark');
		assert.equal(second.output('Set Watermark')[0].json.previousCursor, cursorOf(1, 2));
		assert.equal((await store.read('customers'))?.cursor, cursorOf(2, 2));
		assert.equal((await store.read('customers'))?.leaseOwner, null, 'Set released the lease');
		const history = await store.history('customers', 10);
		assert.deepEqual(history.map((entry) => entry.action), ['set', 'set', 'first use']);
		assert.equal(history[0].workflowId, 'wf-sync');
		assert.ok(history[0].executionId, 'the execution is recorded');
		assert.equal(sql.roundTrips, 0, 'nothing went to SQL Server');
	});

	it('a run that finds the stream held ends quietly on the second output, reading and storing nothing', async () => {
		await store.acquire({
			stream: 'customers',
			owner: 'execution-77',
			leaseSeconds: 600,
			startingCursor: null,
			startingReason: 'test',
			timeZone: 'Europe/Oslo',
			location: PACKAGE_TABLE,
			audit: { workflowId: 'wf-sync', executionId: '77' },
		});
		const run = await runWorkflow(syncWorkflow(1), { credentials });
		assert.equal(run.errorMessage, undefined);
		assert.deepEqual(run.output('Get Watermark'), []);
		const held = run.output('Get Watermark', 1);
		assert.equal(held.length, 1);
		assert.equal(held[0].json.heldBy, 'execution-77');
		assert.match(String(held[0].json.message), /being synced by another run \(lease owner "execution-77"\) until .* \(UTC\)/);
		assert.ok(!run.executedNodes.includes('Fake CRM') && !run.executedNodes.includes('Set Watermark'));
		assert.equal((await store.read('customers'))?.cursor, null);
	});

	it('with Failed Rows "Stop Before Them", stops at a refused row, says so, and the next run reads it again', async () => {
		const run = await runWorkflow(syncWorkflow(3, 1, {}, { failedRows: 'stop' }), { credentials });
		assert.equal(run.errorMessage, undefined);
		const set = run.output('Set Watermark')[0].json;
		assert.equal(set.outcome, 'stopped at a row that failed');
		assert.equal(set.cursor, cursorOf(3, 0));
		assert.equal(set.hasMore, false);
		assert.deepEqual(set.firstFailure, { key: { CustomerNo: 301 }, error: 'String or binary data would be truncated' });
		assert.match(String(set.message), /\{"CustomerNo":301\} was not written/);
		assert.equal((await store.read('customers'))?.cursor, cursorOf(3, 0));
	});

	it('by default parks a refused row in the retry list, moves past it, and hands its key to the next run', async () => {
		const run = await runWorkflow(syncWorkflow(3, 1), { credentials });
		assert.equal(run.errorMessage, undefined);
		const set = run.output('Set Watermark')[0].json;
		assert.equal(set.outcome, 'advanced');
		assert.equal(set.cursor, cursorOf(3, 2), 'past every row of the batch');
		assert.match(String(set.message), /2 of 3 rows written; the 1 that failed are in the retry list/);
		assert.deepEqual(set.retryList, { removed: 0, failing: 1, parked: [] });
		const [entry] = await store.retryList('customers');
		assert.deepEqual([entry.key, entry.attempts, entry.lastError, entry.parked, entry.cursor], [{ CustomerNo: 301 }, 1, 'String or binary data would be truncated', false, cursorOf(3, 1)]);
		const next = await runWorkflow(syncWorkflow(4), { credentials });
		const got = next.output('Get Watermark')[0].json;
		assert.deepEqual(got.retry, [{ key: { CustomerNo: 301 }, attempts: 1, lastError: 'String or binary data would be truncated' }]);
		assert.equal(got.retryListSize, 1);
	});

	it('parks a row at Max Attempts after storing the watermark, then fails the execution so the error workflow can alert', async () => {
		const run = await runWorkflow(syncWorkflow(3, 1, {}, { maxAttempts: 1 }), { credentials });
		assert.match(String(run.errorMessage), /Stream "customers": 1 row\(s\) were refused by CRM 1 times and are parked in the retry list: \{"CustomerNo":301\} \(String or binary data would be truncated\)/);
		const state = await store.read('customers');
		assert.equal(state?.cursor, cursorOf(3, 2), 'the watermark was stored before the execution failed');
		assert.equal(state?.leaseOwner, null, 'the lease is given up, so the next run does not wait for it');
		assert.deepEqual((await store.retryList('customers')).map((entry) => [entry.key, entry.parked]), [[{ CustomerNo: 301 }, true]]);
		const quiet = await runWorkflow(syncWorkflow(4, -1, {}, { maxAttempts: 1 }), { credentials });
		assert.equal(quiet.errorMessage, undefined);
		assert.deepEqual(quiet.output('Get Watermark')[0].json.retry, [], 'a parked row is not handed out again');
	});

	it('a row CRM did not take for a reason not its own (no SQL Server refusal of the row) is never parked: Set stops before it, stores the rows before, fails the execution with the reason', async () => {
		const run = await runWorkflow(syncWorkflow(3, 1, {}, {}, false), { credentials });
		assert.match(String(run.errorMessage), /^Stream "customers": CRM did not take the rows from \{"CustomerNo":301\} on: String or binary data would be truncated — This is not a fault of the rows/);
		const state = await store.read('customers');
		assert.equal(state?.cursor, cursorOf(3, 0), 'stored up to the row before, never past it');
		assert.equal(state?.leaseOwner, null, 'the run ends, so the lease is given up');
		assert.deepEqual(await store.retryList('customers'), [], 'nothing parked');
	});

	it('starts the first run from a configured date, in the stream\'s time zone', async () => {
		const run = await runWorkflow(syncWorkflow(5, -1, { startingPoint: 'date', startingDate: '2025-03-01T00:00:00', timeZone: 'Europe/Stockholm' }), { credentials });
		assert.equal(run.errorMessage, undefined);
		const got = run.output('Get Watermark')[0].json;
		assert.equal(got.cursor, serializeCursor({ kind: 'datetime', marker: '2025-03-01T00:00:00', key: null }));
		assert.equal(got.startedFrom, '2025-03-01T00:00:00 (Europe/Stockholm) (first run)');
		assert.equal(got.timeZone, 'Europe/Stockholm');
		assert.equal(run.output('Set Watermark')[0].json.outcome, 'advanced');
		assert.equal((await store.history('customers', 5)).at(-1)?.reason, 'Starting point: 2025-03-01T00:00:00 (Europe/Stockholm)');
	});

	for (const [field, getParameters, message] of [
		['Starting Point', { startingPoint: "={{ 'Date' }}", startingDate: '2025-03-01T00:00:00' }, /'Starting Point' cannot be "Date" — It takes one of: "beginning" \(From the Beginning\), "date" \(From a Date\)/],
		['Store Cursor In', { storeCursorIn: 'existingtable' }, /'Store Cursor In' cannot be "existingtable" — It takes one of: "packageTable" \(This Package's Table\), "existingTable" \(An Existing Table\)/],
		['Database', { database: 'Contracting' }, /'Database' cannot be "Contracting" — It takes one of: "crm" \(CRM\), "contracting" \(Contracting\)/],
	] as const) {
		it(`a Get whose ${field} is none of its choices stops, naming them, and starts no stream`, async () => {
			const run = await runWorkflow(syncWorkflow(5, -1, getParameters), { credentials });
			assert.match(String(run.errorMessage), message);
			assert.equal(await store.read('customers'), undefined);
		});
	}

	it('a rewind made while a run works survives that run\'s Set, and the next run starts from it', async () => {
		await runWorkflow(syncWorkflow(10), { credentials });
		const run = await runWorkflow(syncWithRewindDuringRun(11), { credentials });
		assert.equal(run.errorMessage, undefined);
		const rewound = serializeCursor({ kind: 'datetime', marker: '2025-03-08T10:00:02', key: null });
		assert.match(String(run.output('Rewind By Support')[0].json.message), /A run \("execution \d+ · [0-9a-f]{16}"\) holds the stream now/);
		const set = run.output('Set Watermark')[0].json;
		assert.equal(set.outcome, 'not stored: rewound meanwhile');
		assert.equal(set.moved, false);
		assert.equal(set.cursor, rewound);
		assert.equal(set.hasMore, false);
		assert.equal((await store.read('customers'))?.cursor, rewound);
		const next = await runWorkflow(syncWorkflow(12), { credentials });
		assert.equal(next.output('Get Watermark')[0].json.cursor, rewound, 'the refused run gave its lease up');
	});

	for (const [how, allowMovingBackwards] of [
		['an expression n8n resolves', "={{ 'FALSE'.toLowerCase() }}"],
		['the text "0"', '={{ "0" }}'],
	] as const) {
		it(`Allow Moving Backwards set to false by ${how} keeps a rewind made while the run worked`, async () => {
			await runWorkflow(syncWorkflow(10), { credentials });
			const workflow = syncWithRewindDuringRun(11) as unknown as { nodes: Array<{ name: string; parameters: Record<string, unknown> }> };
			const set = workflow.nodes.find((node) => node.name === 'Set Watermark');
			if (!set) throw new Error('the workflow has a Set Watermark node');
			set.parameters.setOptions = { allowMovingBackwards };
			const run = await runWorkflow(workflow as unknown as IWorkflowBase, { credentials });
			assert.equal(run.errorMessage, undefined);
			assert.equal(run.output('Set Watermark')[0].json.outcome, 'not stored: rewound meanwhile');
			assert.equal((await store.read('customers'))?.cursor, serializeCursor({ kind: 'datetime', marker: '2025-03-08T10:00:02', key: null }));
		});
	}

	it('a Failed Rows option an expression sets to none of its choices stops Set with them listed, and stores nothing', async () => {
		await runWorkflow(syncWorkflow(10), { credentials });
		const before = (await store.read('customers'))?.cursor;
		const run = await runWorkflow(syncWorkflow(11, 1, {}, { failedRows: "={{ 'Stop' }}" }), { credentials });
		assert.match(String(run.errorMessage), /'Failed Rows' in Options cannot be "Stop" — It takes one of: "park" \(Park in Retry List and Move On\), "stop" \(Stop Before Them\)/);
		assert.equal((await store.read('customers'))?.cursor, before);
	});

	it('an option an expression sets to what is not true or false stops Set with the option named, and stores nothing', async () => {
		await runWorkflow(syncWorkflow(10), { credentials });
		const before = (await store.read('customers'))?.cursor;
		// The field reference is read without n8n's expression engine: its value is checked all the same.
		const run = await runWorkflow(syncWorkflow(11, -1, {}, { allowMovingBackwards: '={{ $json.status }}' }), { credentials });
		assert.match(String(run.errorMessage), /'Allow Moving Backwards' in Options cannot be "inserted"/);
		assert.equal((await store.read('customers'))?.cursor, before);
	});

	it('with Continue On Fail, a Set with a broken token gives an error item instead of stopping', async () => {
		const workflow = syncWorkflow(1) as unknown as { nodes: Array<{ name: string; parameters: Record<string, unknown>; onError?: string }> };
		const set = workflow.nodes.find((node) => node.name === 'Set Watermark');
		if (!set) throw new Error('the workflow has a Set Watermark node');
		set.parameters.advanced = { fromGet: 'not a token' };
		set.onError = 'continueRegularOutput';
		const run = await runWorkflow(workflow as unknown as IWorkflowBase, { credentials });
		assert.equal(run.errorMessage, undefined);
		const [item] = run.output('Set Watermark');
		assert.match(String(item.json.error), /The token from Get cannot be read/);
		assert.equal((await store.read('customers'))?.cursor, null);
	});

	it('with Continue On Fail, a Set that parks a row outputs its result with the error, stored, and no batch follows', async () => {
		const workflow = syncWorkflow(3, 1, {}, { maxAttempts: 1 }) as unknown as { nodes: Array<{ name: string; onError?: string }> };
		const set = workflow.nodes.find((node) => node.name === 'Set Watermark');
		if (!set) throw new Error('the workflow has a Set Watermark node');
		set.onError = 'continueRegularOutput';
		const run = await runWorkflow(workflow as unknown as IWorkflowBase, { credentials });
		assert.equal(run.errorMessage, undefined);
		const [item] = run.output('Set Watermark');
		assert.match(String(item.json.error), /1 row\(s\) were refused by CRM 1 times and are parked/);
		assert.match(String(item.json.errorDescription), /Retry Parked Rows Again/);
		assert.deepEqual([item.json.moved, item.json.hasMore, item.json.leaseReleased], [true, false, true]);
		assert.deepEqual(item.json.retryList, { removed: 0, failing: 1, parked: [{ key: { CustomerNo: 301 }, attempts: 1, lastError: 'String or binary data would be truncated' }] });
		assert.equal((await store.read('customers'))?.cursor, cursorOf(3, 2));
	});

	it('with Continue On Fail, a failed Get goes to the second output, so nothing is read without a lease', async () => {
		const workflow = syncWorkflow(1, -1, { timeZone: 'Europe/Olso' }) as unknown as { nodes: Array<{ name: string; onError?: string }> };
		const get = workflow.nodes.find((node) => node.name === 'Get Watermark');
		if (!get) throw new Error('the workflow has a Get Watermark node');
		get.onError = 'continueRegularOutput';
		const run = await runWorkflow(workflow as unknown as IWorkflowBase, { credentials });
		assert.equal(run.errorMessage, undefined);
		assert.deepEqual(run.output('Get Watermark'), []);
		assert.match(String(run.output('Get Watermark', 1)[0].json.error), /"Europe\/Olso" is not a time zone/);
		assert.ok(!run.executedNodes.includes('Fake CRM'));
	});

	it('Preview Only set by an expression to the text "true" previews and moves nothing; a value that is neither true nor false stops the node', async () => {
		await runWorkflow(syncWorkflow(31), { credentials });
		const preview = await runWorkflow(supportWorkflow({ operation: 'rewind', stream: 'customers', previewOnly: "={{ 'true' }}" }), { credentials });
		assert.equal(preview.errorMessage, undefined);
		assert.equal((await store.read('customers'))?.cursor, cursorOf(31, 2), 'a preview moves nothing');
		const refused = await runWorkflow(supportWorkflow({ operation: 'rewind', stream: 'customers', previewOnly: "={{ 'perhaps' }}" }), { credentials });
		assert.match(String(refused.errorMessage), /Preview Only/);
		assert.equal((await store.read('customers'))?.cursor, cursorOf(31, 2));
		const byHistory = await runWorkflow(supportWorkflow({ operation: 'history', stream: 'customers', limit: "={{ '1' }}" }), { credentials });
		assert.deepEqual(byHistory.output('Watermark').map((item) => item.json.action), ['set'], 'a number given as text is taken as the number');
	});

	for (const [field, parameters, message] of [
		['Rewind By', { streams: 'one', stream: 'customers', rewindBy: "={{ 'Beginning' }}", dateTime: '2025-03-01T00:00:00' }, /'Rewind By' cannot be "Beginning" — It takes one of: "duration" \(Duration\), "dateTime" \(To a Date and Time\), "beginning" \(To the Beginning\)/],
		['Streams', { streams: "={{ 'All' }}", stream: 'customers' }, /'Streams' cannot be "All" — It takes one of: "one" \(One Stream\), "all" \(All Streams\)/],
	] as const) {
		it(`a rewind whose ${field} an expression sets to none of its choices stops, naming them, and moves nothing`, async () => {
			await runWorkflow(syncWorkflow(31), { credentials });
			const run = await runWorkflow(supportWorkflow({ operation: 'rewind', ...parameters }), { credentials });
			assert.match(String(run.errorMessage), message);
			assert.equal((await store.read('customers'))?.cursor, cursorOf(31, 2));
		});
	}

	it('rewinds all streams two days, shows it in History, and undoes it', async () => {
		await runWorkflow(syncWorkflow(31), { credentials });
		const rewind = await runWorkflow(supportWorkflow({ operation: 'rewind', streams: 'all' }), { credentials });
		assert.equal(rewind.errorMessage, undefined);
		const [rewound] = rewind.output('Watermark');
		assert.equal(rewound.json.moved, true);
		assert.equal(rewound.json.cursor, serializeCursor({ kind: 'datetime', marker: '2025-03-29T10:00:02', key: null }));
		assert.equal(rewound.json.reason, 'Rewound by support');

		const history = await runWorkflow(supportWorkflow({ operation: 'history', stream: 'customers', limit: 2 }), { credentials });
		assert.deepEqual(
			history.output('Watermark').map((item) => [item.json.action, item.json.reason]),
			[
				['rewind', 'Rewound by support'],
				['set', null],
			],
		);

		const undo = await runWorkflow(supportWorkflow({ operation: 'undoLastRewind', stream: 'customers' }), { credentials });
		assert.equal(undo.errorMessage, undefined);
		assert.equal(undo.output('Watermark')[0].json.cursor, cursorOf(31, 2));
		assert.equal((await store.read('customers'))?.cursor, cursorOf(31, 2));
	});

	it('a watermark edited by hand is handed on as it is, and Rewind to a date repairs it', async () => {
		await runWorkflow(syncWorkflow(15), { credentials });
		store.editByHand('customers', '15.03.2025');
		const get = await runWorkflow(supportWorkflow({ operation: 'get', stream: 'customers' }), { credentials });
		assert.equal(get.output('Watermark')[0].json.cursor, '15.03.2025', 'the Contracting node refuses it with a clear error');
		const byDuration = await runWorkflow(supportWorkflow({ operation: 'rewind', stream: 'customers' }), { credentials });
		assert.match(byDuration.errorMessage ?? '', /"15\.03\.2025" cannot be read/);
		const toDate = await runWorkflow(supportWorkflow({ operation: 'rewind', stream: 'customers', rewindBy: 'dateTime', dateTime: '2025-03-14T00:00:00' }), { credentials });
		assert.equal(toDate.errorMessage, undefined);
		assert.equal((await store.read('customers'))?.cursor, serializeCursor({ kind: 'datetime', marker: '2025-03-14T00:00:00', key: null }));
		const toBeginning = await runWorkflow(supportWorkflow({ operation: 'rewind', stream: 'customers', rewindBy: 'beginning', reason: 'Full re-send' }), { credentials });
		assert.equal(toBeginning.output('Watermark')[0].json.how, 'To the beginning: everything is sent again');
		assert.equal((await store.read('customers'))?.cursor, null);
		assert.equal((await store.history('customers', 1))[0].reason, 'Full re-send');
	});

	it('bad input stops with a clear error and changes nothing', async () => {
		await runWorkflow(syncWorkflow(20), { credentials });
		const cases: Array<[Record<string, unknown>, RegExp]> = [
			[{ operation: 'rewind', stream: 'customers', rewindBy: 'dateTime', dateTime: 'next tuesday' }, /"next tuesday" is not a date and time/],
			[{ operation: 'rewind', stream: 'customers', rewindBy: 'dateTime', dateTime: '2999-01-01T00:00:00' }, /in the future/],
			[{ operation: 'rewind', stream: 'kunder' }, /Stream "kunder" has no watermark — The streams with a watermark here are: customers/],
			[{ operation: 'undoLastRewind', stream: 'customers' }, /no rewind left to undo/],
		];
		for (const [parameters, expected] of cases) {
			const run = await runWorkflow(supportWorkflow(parameters), { credentials });
			assert.match(run.errorMessage ?? '', expected);
		}
		assert.equal((await store.read('customers'))?.cursor, cursorOf(20, 2));
		assert.deepEqual((await store.history('customers', 10)).map((entry) => entry.action), ['set', 'first use']);
	});
});

describe('Watermark node in a workflow (SQL Server store behind the transport double)', () => {
	afterEach(() => restoreAllSeams());


	it('takes the lease in two round trips on first use (tables, then one atomic statement) and hands out the token', async () => {
		const sql = new RecordingSqlTransport((request) => {
			if (request.text.includes('CREATE TABLE')) return tablesResult(columnsOf(STATE_COLUMNS, 'state'));
			return {
				recordsets: [[{ stream: 'customers', cursorKind: null, generation: 0, rewoundAtGeneration: 0, timeZone: 'Europe/Oslo', leaseOwner: 'x', leaseExpiresAt: '2025-03-30T01:10:00.000', cursorChangedAt: '2025-03-30T01:00:00.000', cursorLocation: null, outcome: 'acquired', firstUse: 1, storedValue: null }]],
				rowsAffected: [],
			};
		});
		useRecordingTransport(sql);
		const run = await runWorkflow(supportWorkflow({ operation: 'get', stream: 'customers' }), { credentials });
		assert.equal(run.errorMessage, undefined);
		assert.equal(sql.roundTrips, 2);
		const got = run.output('Watermark')[0].json;
		assert.equal(got.startedFrom, 'the beginning (first run)');
		const owner = parameterValue(sql.requests[1].parameters, 'owner');
		assert.ok(typeof owner === 'string' && owner !== '');
		assert.match(String(owner), new RegExp(`^execution ${String(parameterValue(sql.requests[1].parameters, 'executionId'))} · [0-9a-f]{16}$`), 'a new owner of its own for this run: the execution and a random part');
		assert.equal(typeof got.token, 'string');
		assert.equal(parameterValue(sql.requests[1].parameters, 'workflowId'), 'wf-support');
	});

	it('stops with a clear error when the watermark table exists with other columns, and writes nothing', async () => {
		const sql = new RecordingSqlTransport((request) => {
			if (request.text.includes('CREATE TABLE')) {
				return tablesResult([...columnsOf(STATE_COLUMNS.slice(0, 1), 'state'), { tableRole: 'state', name: 'LastDate', typeName: 'date', maxLength: 3 }]);
			}
			throw new Error('nothing may be sent after the table check failed');
		});
		useRecordingTransport(sql);
		const run = await runWorkflow(supportWorkflow({ operation: 'get', stream: 'customers' }), { credentials });
		assert.match(run.errorMessage ?? '', /The table dbo\.ContractingCrmWatermark exists but is not a watermark table of this package: column CursorText is missing/);
		assert.match(run.errorMessage ?? '', /Choose another name under "Watermark Tables"/);
		assert.equal(sql.roundTrips, 1);
	});
});

function parameterValue(parameters: Array<{ name: string; value: unknown }>, name: string): unknown {
	return parameters.find((parameter) => parameter.name === name)?.value;
}
