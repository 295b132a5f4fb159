/**
 * The shipped rewind workflow (workflows/contracting-crm-rewind.json), run as shipped over the in-memory stores:
 * its preview counts what the next sync run really sends again, its real rewind runs once for every stream, and
 * a preview or a bad setting changes nothing.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { SOURCE_PARAMETERS } from '../../nodes/Contracting/actions/countChanges.operation';
import { localReadingOf, zoneNamed } from '../../nodes/shared/core/timeZone';
import { restoreAllSeams } from '../../nodes/shared/seams';
import { REWIND_WORKFLOW_FILE, SYNC_WORKFLOW_FILE, SyncWorld, onDay } from '../support/syncWorld';
import type { RunResult } from '../support/workflowRunner';
import { readWorkflow } from '../support/workflowRunner';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

describe('shipped rewind workflow', () => {
	it('counts each stream with the source settings the sync reads it with (table, key, marker, filter)', () => {
		const parametersOf = (file: string, node: string) => {
			const found = readWorkflow(file).nodes.find((candidate) => candidate.name === node);
			assert.ok(found, `${file} has a node "${node}"`);
			return found.parameters;
		};
		for (const stream of ['customers', 'orders']) {
			const read = parametersOf(SYNC_WORKFLOW_FILE, `Read ${stream}`);
			const count = parametersOf(REWIND_WORKFLOW_FILE, `Count ${stream}`);
			assert.equal(count.operation, 'countChanges');
			for (const name of SOURCE_PARAMETERS) {
				assert.deepEqual(count[name], read[name], `${stream}: ${name} as in the sync's "Read ${stream}"`);
			}
			const nullMarkers = (parameters: typeof read) => (parameters.options as { nullMarkers?: string } | undefined)?.nullMarkers;
			assert.equal(nullMarkers(count), nullMarkers(read));
		}
	});


	let world: SyncWorld;
	beforeEach(() => {
		world = new SyncWorld();
	});
	afterEach(restoreAllSeams);

	/** Everything a rewind could change: each stream's watermark, generation, lease and history. */
	async function watermarks() {
		const names = await world.watermarks.streamNames();
		return await Promise.all(names.map(async (name) => ({ state: await world.watermarks.read(name), history: await world.watermarks.history(name, 100) })));
	}

	/** 20 customers, one a day (1–20 November), and 10 orders, one a day (1–10 November), all synced once. */
	async function syncedWorld() {
		for (const day of range(1, 20)) world.addCustomer(day, onDay(day));
		for (const day of range(1, 10)) world.addOrder(100 + day, day, onDay(day, '09:00:00.000'));
		const first = await world.runSync();
		assert.equal(first.errorMessage, undefined);
		assert.equal(world.companies().length, 20);
		assert.equal(world.salesOrders().length, 10);
	}

	it('two days back for customers: the preview counts 3, the rewind says so in plain words, and the next sync sends those 3 unchanged', async () => {
		await syncedWorld();
		const rewind = await world.runRewind({ streams: 'customers' });
		assert.equal(rewind.errorMessage, undefined);
		assert.deepEqual(
			rewind.output('Summary').map((item) => item.json),
			[
				{
					stream: 'customers',
					rewound: true,
					from: JSON.stringify({ kind: 'datetime', marker: onDay(20), key: ['20'] }),
					to: JSON.stringify({ kind: 'datetime', marker: onDay(18), key: null }),
					rowsToSendAgain: 3,
					message: 'customers: rewound 2 days to 2024-11-18 08:00 (Europe/Oslo); the next sync run sends 3 rows again; nothing is doubled in CRM.',
				},
			],
		);
		assert.deepEqual(rewind.output('Count customers').map((item) => item.json.rows), [3]);
		assert.deepEqual(rewind.runsOf('Count orders'), [], 'only the stream asked for is counted');

		const next = await world.runSync();
		const customers = next.summary('customers');
		assert.deepEqual([customers?.rowsRead, customers?.unchanged, customers?.inserted, customers?.updated], [3, 3, 0, 0]);
		assert.equal(next.summary('orders')?.rowsRead, 0, 'orders were not rewound');
		assert.equal(new Set(world.companies().map((row) => row.CustomerNo)).size, 20);
	});

	it('all streams: one summary per stream, each count equal to what the next sync sends, and the rewind runs once', async () => {
		await syncedWorld();
		const rewind = await world.runRewind({ streams: 'all', days: 3 });
		assert.equal(rewind.errorMessage, undefined);
		assert.equal(rewind.runsOf('Rewind').length, 1);
		for (const stream of ['customers', 'orders']) {
			assert.deepEqual(
				(await world.watermarks.history(stream, 100)).filter((entry) => entry.action === 'rewind').length,
				1,
				`${stream} is rewound once, not once per preview item`,
			);
		}
		const summary = rewind.output('Summary').map((item) => item.json);
		assert.deepEqual(
			summary.map((item) => [item.stream, item.rewound, item.rowsToSendAgain]),
			[
				['customers', true, 4],
				['orders', true, 4],
			],
		);
		assert.equal(summary[1].message, 'orders: rewound 3 days to 2024-11-07 09:00 (Europe/Oslo); the next sync run sends 4 rows again; nothing is doubled in CRM.');

		const next = await world.runSync();
		assert.deepEqual(
			(['customers', 'orders'] as const).map((stream) => [next.summary(stream)?.rowsRead, next.summary(stream)?.unchanged]),
			[
				[4, 4],
				[4, 4],
			],
			'the preview\'s counts are what the sync sent again',
		);
		assert.equal(world.companies().length, 20);
		assert.equal(world.salesOrders().length, 10);
	});

	/**
	 * Customers changed every 10 minutes (server clock, UTC) from `fromUtc` for `count` changes, stamped on Oslo's wall
	 * clock, each synced when made; then the next sync after rewinding by `hours` must send every customer changed
	 * within those elapsed hours again. `clockNotMovedForward`: the stamps come from a clock still on the offset of the
	 * day before (as a machine whose clock is changed later writes them).
	 */
	async function rewindByHoursAcross(fromUtc: string, count: number, hours: number, clockNotMovedForward = false) {
		const oslo = zoneNamed('Europe/Oslo');
		const stamp = (instant: number) =>
			clockNotMovedForward ? `${new Date(instant + oslo.offset(instant - 86_400_000) * 60_000).toISOString().slice(0, 23)}0000` : `${localReadingOf(instant, oslo)}0000`;
		const changedAt: number[] = [];
		for (let index = 0; index < count; index++) {
			const instant = Date.parse(fromUtc) + index * 600_000;
			changedAt.push(instant);
			world.nowUtc = new Date(instant + 120_000).toISOString();
			world.addCustomer(index + 1, stamp(instant));
			const run = await world.runSync();
			assert.equal(run.errorMessage, undefined);
		}
		world.nowUtc = new Date(changedAt[count - 1] + 4 * 3_600_000).toISOString();
		assert.equal((await world.runSync()).summary('customers')?.rowsRead, 0, 'caught up before the rewind');
		const lastChange = changedAt[count - 1];
		const rewind = await world.runRewind({ streams: 'customers', rewindBy: 'duration', days: 0, hours });
		assert.equal(rewind.errorMessage, undefined);
		const next = await world.runSync();
		const withinHours = changedAt.filter((instant) => instant >= lastChange - hours * 3_600_000).length;
		assert.ok((next.summary('customers')?.rowsRead as number) >= withinHours, `${String(next.summary('customers')?.rowsRead)} rows sent again, ${withinHours} changed within ${hours} hours`);
	}

	it('two hours back across the autumn hour re-sends every row changed in those two elapsed hours (the second 02:00-02:29 included)', async () => {
		// Oslo, 27 October 2024: 02:00-02:59 happens twice (00:00-00:59 and 01:00-01:59 UTC); the last change is at 03:30 CET.
		await rewindByHoursAcross('2024-10-26T23:30:00.000Z', 19, 2);
	});

	it('half an hour back across the spring change re-sends the rows a clock not yet moved forward stamped (02:10-02:40)', async () => {
		// Oslo, 31 March 2024: 01:00 UTC is 03:00 CEST; a clock not moved forward reads 02:40 at 01:40 UTC.
		await rewindByHoursAcross('2024-03-31T00:00:00.000Z', 11, 0.5, true);
	});

	it('two hours back across the spring change re-sends every row changed in those two elapsed hours', async () => {
		await rewindByHoursAcross('2024-03-30T23:40:00.000Z', 11, 2);
	});

	it('to the beginning: the preview counts every row, rows changed since the last run included', async () => {
		await syncedWorld();
		world.changeCustomer(5, onDay(25), { Name: 'Kunde 5 Nytt Navn AS' });
		const rewind = await world.runRewind({ streams: 'all', rewindBy: 'beginning', reason: 'Full re-send after restore' });
		assert.equal(rewind.errorMessage, undefined);
		assert.deepEqual(
			rewind.output('Summary').map((item) => [item.json.stream, item.json.rowsToSendAgain, item.json.message]),
			[
				['customers', 20, 'customers: rewound to the beginning; the next sync run sends 20 rows again; nothing is doubled in CRM.'],
				['orders', 10, 'orders: rewound to the beginning; the next sync run sends 10 rows again; nothing is doubled in CRM.'],
			],
		);
		const next = await world.runSync();
		assert.deepEqual([next.summary('customers')?.rowsRead, next.summary('customers')?.updated, next.summary('customers')?.unchanged], [20, 1, 19]);
		assert.equal(next.summary('orders')?.rowsRead, 10);
	});

	it('previewOnly: the same counts, nothing changed, the rewind never runs', async () => {
		await syncedWorld();
		const before = await watermarks();
		const preview = await world.runRewind({ streams: 'all', previewOnly: true });
		assert.equal(preview.errorMessage, undefined);
		assert.ok(!preview.executedNodes.includes('Rewind'));
		assert.deepEqual(await watermarks(), before, 'watermarks, leases and history untouched');
		assert.deepEqual(
			preview.output('Preview summary').map((item) => item.json),
			[
				{
					stream: 'customers',
					rewound: false,
					from: JSON.stringify({ kind: 'datetime', marker: onDay(20), key: ['20'] }),
					to: JSON.stringify({ kind: 'datetime', marker: onDay(18), key: null }),
					rowsToSendAgain: 3,
					message: 'customers: would be rewound 2 days to 2024-11-18 08:00 (Europe/Oslo); the next sync run would send 3 rows again; nothing was changed (preview only).',
				},
				{
					stream: 'orders',
					rewound: false,
					from: JSON.stringify({ kind: 'datetime', marker: onDay(10, '09:00:00.000'), key: ['110'] }),
					to: JSON.stringify({ kind: 'datetime', marker: onDay(8, '09:00:00.000'), key: null }),
					rowsToSendAgain: 3,
					message: 'orders: would be rewound 2 days to 2024-11-08 09:00 (Europe/Oslo); the next sync run would send 3 rows again; nothing was changed (preview only).',
				},
			],
		);
		const next = await world.runSync();
		assert.equal(next.summary('customers')?.rowsRead, 0, 'nothing is sent again after a preview');
	});

	it('a stream not behind the date is left alone and said so; nothing is sent again for it', async () => {
		await syncedWorld();
		const rewind = await world.runRewind({ streams: 'all', rewindBy: 'dateTime', toDateTime: '2024-11-15 00:00' });
		assert.equal(rewind.errorMessage, undefined);
		const [customers, orders] = rewind.output('Summary').map((item) => item.json);
		assert.deepEqual([customers.rewound, customers.rowsToSendAgain], [true, 6]);
		assert.equal(orders.rewound, false);
		assert.equal(orders.rowsToSendAgain, 0);
		assert.match(String(orders.message), /^orders: not moved: 2024-11-15T00:00:00 \(Europe\/Oslo\) is after where the stream is now .*; nothing is sent again\.$/);
		const next = await world.runSync();
		assert.deepEqual([next.summary('customers')?.rowsRead, next.summary('orders')?.rowsRead], [6, 0]);
	});

	it('a stream this workflow has no Count node for is rewound too, and its summary says it was not counted', async () => {
		await syncedWorld();
		await world.watermarks.acquire({
			stream: 'projects',
			owner: 'own sync',
			leaseSeconds: 1,
			startingCursor: JSON.stringify({ kind: 'datetime', marker: '2024-11-20T10:00:00', key: ['7'] }),
			startingReason: 'a stream of the partner\'s own',
			timeZone: 'Europe/Oslo',
			location: { kind: 'packageTable' },
			audit: { workflowId: 'own', executionId: '1' },
		});
		const rewind = await world.runRewind({ streams: 'all' });
		assert.equal(rewind.errorMessage, undefined);
		const projects = rewind.output('Summary').find((item) => item.json.stream === 'projects')?.json;
		assert.equal(projects?.rewound, true);
		assert.equal(projects?.rowsToSendAgain, null);
		assert.equal(
			projects?.message,
			'projects: rewound 2 days to 2024-11-18 10:00 (Europe/Oslo); rows to send again: not counted (this workflow counts customers and orders); nothing is doubled in CRM.',
		);
		assert.deepEqual(rewind.output('Count orders').map((item) => item.json.stream), ['orders'], 'projects is not counted as orders');
	});

	it('a count that fails stops the workflow before the rewind: nothing changed', async () => {
		await syncedWorld();
		const before = await watermarks();
		const rewind = await world.runRewind({ streams: 'all', safetyLagSeconds: -5 });
		assert.match(rewind.errorMessage ?? '', /safety lag must be from 0/);
		assert.ok(!rewind.executedNodes.includes('Rewind'));
		assert.deepEqual(await watermarks(), before);
	});

	it('a bad date in Settings stops at the preview with a clear error and changes nothing', async () => {
		await syncedWorld();
		const before = await watermarks();
		const rewind = await world.runRewind({ streams: 'all', rewindBy: 'dateTime', toDateTime: '31.11.2024' });
		assert.match(rewind.errorMessage ?? '', /"31\.11\.2024" is not a date and time; write it like 2025-03-31 08:00/);
		assert.ok(!rewind.executedNodes.includes('Rewind'));
		assert.ok(!rewind.executedNodes.includes('Count customers'));
		assert.deepEqual(await watermarks(), before);
	});

	describe('from the form support fills in', () => {
		const twoDaysOfCustomers = {
			streams: 'Customers',
			rewindBy: 'Days and hours back',
			days: '2',
			hours: '0',
			reason: 'CRM restored from Monday\'s backup',
		};
		const settingsOf = (run: RunResult) => run.output('Rewind settings').map((item) => item.json);

		it('Preview only first: the same counts as the manual preview and nothing changed; then "rewind now" moves the stream with the reason in its history', async () => {
			await syncedWorld();
			const before = await watermarks();
			const preview = await world.runRewindFromForm({ ...twoDaysOfCustomers, previewOnly: 'Yes: only show what would happen' });
			assert.equal(preview.errorMessage, undefined);
			assert.ok(!preview.executedNodes.includes('Rewind'));
			assert.deepEqual(await watermarks(), before, 'a preview from the form changes nothing');
			assert.deepEqual(
				preview.output('Preview summary').map((item) => item.json.message),
				['customers: would be rewound 2 days to 2024-11-18 08:00 (Europe/Oslo); the next sync run would send 3 rows again; nothing was changed (preview only).'],
			);

			const rewind = await world.runRewindFromForm({ ...twoDaysOfCustomers, previewOnly: 'No: rewind now' });
			assert.equal(rewind.errorMessage, undefined);
			assert.deepEqual(
				rewind.output('Summary').map((item) => item.json.message),
				['customers: rewound 2 days to 2024-11-18 08:00 (Europe/Oslo); the next sync run sends 3 rows again; nothing is doubled in CRM.'],
			);
			const [latest] = await world.watermarks.history('customers', 1);
			assert.deepEqual([latest.action, latest.reason], ['rewind', "CRM restored from Monday's backup"]);
			const next = await world.runSync();
			assert.deepEqual([next.summary('customers')?.rowsRead, next.summary('customers')?.unchanged], [3, 3]);
			assert.equal(next.summary('orders')?.rowsRead, 0, 'orders were not chosen');
		});

		it('the form and the manual run meet in one node with the same values, so both paths run the same rewind', async () => {
			await syncedWorld();
			const fromForm = await world.runRewindFromForm({ ...twoDaysOfCustomers, previewOnly: 'Yes: only show what would happen' });
			const byHand = await world.runRewind({ streams: 'customers', reason: "CRM restored from Monday's backup", previewOnly: true });
			assert.deepEqual(settingsOf(fromForm), settingsOf(byHand));
			assert.deepEqual(settingsOf(byHand), [
				{ streams: 'customers', rewindBy: 'duration', days: 2, hours: 0, toDateTime: '', reason: "CRM restored from Monday's backup", previewOnly: true, safetyLagSeconds: 60 },
			]);
			assert.deepEqual(fromForm.output('Preview summary').map((item) => item.json), byHand.output('Preview summary').map((item) => item.json));
		});

		it('to a date and time: the date picker\'s date and the typed time of day; no time means midnight', async () => {
			await syncedWorld();
			const toTheFifteenth = { rewindBy: 'To a date and time', toDate: '2024-11-15', reason: 'Re-send since the 15th' };
			const atEight = await world.runRewindFromForm({ ...toTheFifteenth, streams: 'Customers and orders', toTime: '08:00', previewOnly: 'Yes: only show what would happen' });
			assert.equal(atEight.errorMessage, undefined);
			assert.deepEqual(settingsOf(atEight)[0].toDateTime, '2024-11-15 08:00');
			assert.deepEqual(
				atEight.output('Preview summary').map((item) => [item.json.stream, item.json.rowsToSendAgain]),
				[
					['customers', 6],
					['orders', 0],
				],
			);
			const midnight = await world.runRewindFromForm({ ...toTheFifteenth, streams: 'Customers', previewOnly: 'No: rewind now' });
			assert.equal(midnight.errorMessage, undefined);
			assert.match(String(midnight.output('Summary')[0].json.message), /^customers: rewound to 2024-11-15 00:00 \(Europe\/Oslo\); the next sync run sends 6 rows again/);
		});

		it('to the beginning, every stream: everything is counted and sent again, nothing doubled', async () => {
			await syncedWorld();
			const rewind = await world.runRewindFromForm({
				streams: 'Customers and orders',
				rewindBy: 'To the beginning (send everything again)',
				reason: 'Full re-send',
				previewOnly: 'No: rewind now',
			});
			assert.equal(rewind.errorMessage, undefined);
			assert.deepEqual(
				rewind.output('Summary').map((item) => [item.json.stream, item.json.rowsToSendAgain]),
				[
					['customers', 20],
					['orders', 10],
				],
			);
			const next = await world.runSync();
			assert.deepEqual([next.summary('customers')?.rowsRead, next.summary('orders')?.rowsRead], [20, 10]);
			assert.equal(world.companies().length, 20);
		});

		it('an answer the workflow does not know stops before anything moves, naming the field', async () => {
			await syncedWorld();
			const before = await watermarks();
			const run = await world.runRewindFromForm({ ...twoDaysOfCustomers, previewOnly: 'Maybe' });
			assert.match(run.errorMessage ?? '', /previewOnly/);
			assert.ok(!run.executedNodes.includes('Preview'));
			assert.deepEqual(await watermarks(), before);
		});
	});

	it('the canvas: one Switch sends each stream to its count, two ways in, and notes that explain it', () => {
		const rewind = readWorkflow(REWIND_WORKFLOW_FILE);
		const types = rewind.nodes.map((node) => node.type);
		assert.equal(types.filter((type) => type === 'n8n-nodes-base.if').length, 1, 'only "Preview only?" is an If');
		assert.equal(types.filter((type) => type === 'n8n-nodes-base.switch').length, 1);
		assert.ok(types.includes('n8n-nodes-base.formTrigger') && types.includes('n8n-nodes-base.manualTrigger'));
		assert.ok(types.filter((type) => type === 'n8n-nodes-base.stickyNote').length >= 2);
	});
});

