/**
 * The lease from one batch of a run to the next: Set hands the lease it renewed to the next batch's Get, which then
 * needs no round trip; the CRM write's lease check and Set's generation check keep that safe when a rewind or a
 * takeover lands between two batches.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { changeSourceSeam } from '../../nodes/Contracting/stores/changeSource';
import type { WatermarkStore } from '../../nodes/Watermark/stores/watermarkStore';
import { watermarkStoreSeam } from '../../nodes/Watermark/stores/watermarkStore';
import { encodeToken, nextBatchLeaseFor } from '../../nodes/shared/core/watermark';
import { replaceSeam, restoreAllSeams } from '../../nodes/shared/seams';
import { SyncWorld, onDay, withSettings } from '../support/syncWorld';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

describe('the lease handed from batch to batch', () => {
	let world: SyncWorld;
	const calls: string[] = [];
	beforeEach(() => {
		world = new SyncWorld();
		calls.length = 0;
	});
	afterEach(restoreAllSeams);

	/** The watermark store as the nodes see it, noting each acquire and commit; `beforeCommit` runs before the commit numbered `at`. */
	function watchStore(beforeCommit?: { at: number; run: () => Promise<void> }): void {
		const store = world.watermarks;
		const watched = new Proxy(store, {
			get: (target, property, receiver) => {
				const value = Reflect.get(target, property, receiver) as unknown;
				if (property !== 'acquire' && property !== 'commit') return value;
				return async (...args: unknown[]) => {
					calls.push(String(property));
					if (property === 'commit' && beforeCommit && calls.filter((call) => call === 'commit').length === beforeCommit.at) await beforeCommit.run();
					return (await (value as (...parameters: unknown[]) => Promise<unknown>).apply(target, args)) as unknown;
				};
			},
		}) as WatermarkStore;
		replaceSeam(watermarkStoreSeam, () => watched);
	}

	it('a run of four batches asks the store for the lease once per stream; every row arrives once', async () => {
		for (const no of range(1, 10)) world.addCustomer(no, onDay(no));
		watchStore();
		const run = await world.runSync(withSettings(world.sync, { batchSize: 3, transferOrders: false }));
		assert.equal(run.errorMessage, undefined);
		assert.equal(run.summary('customers')?.batches, 4);
		assert.deepEqual([calls.filter((call) => call === 'acquire').length, calls.filter((call) => call === 'commit').length], [1, 4]);
		assert.deepEqual(world.companies().map((row) => row.CustomerNo), range(1, 10));
	});

	it("the run's later batches read up to the first batch's bound: the read window is opened once per stream and run", async () => {
		for (const no of range(1, 10)) world.addCustomer(no, onDay(no));
		let windowsOpened = 0;
		const source = world.contracting;
		const counted = new Proxy(source, {
			get: (target, property, receiver) => {
				const value = Reflect.get(target, property, receiver) as unknown;
				if (property !== 'openWindow') return value;
				return async (...args: unknown[]) => {
					windowsOpened++;
					return (await (value as (...parameters: unknown[]) => Promise<unknown>).apply(target, args)) as unknown;
				};
			},
		});
		replaceSeam(changeSourceSeam, () => counted);
		const run = await world.runSync(withSettings(world.sync, { batchSize: 3, transferOrders: false }));
		assert.equal(run.summary('customers')?.batches, 4);
		assert.equal(windowsOpened, 1);
		assert.deepEqual(world.companies().map((row) => row.CustomerNo), range(1, 10));
	});

	it('a rewind between two batches: the next batch stores nothing and ends the run; the next run starts from the rewound place', async () => {
		for (const no of range(1, 9)) world.addCustomer(no, onDay(no));
		watchStore({
			at: 2,
			run: async () => {
				const state = await world.watermarks.read('customers');
				assert.ok(state);
				const rewound = await world.watermarks.replaceCursor({
					stream: 'customers',
					expectedGeneration: state.generation,
					cursor: null,
					action: 'rewind',
					reason: 'test: support rewinds while the run works',
					audit: { workflowId: 'test', executionId: null },
				});
				assert.equal(rewound.replaced, true);
			},
		});
		const workflow = withSettings(world.sync, { batchSize: 3, transferOrders: false });
		const run = await world.runSync(workflow);
		assert.equal(run.summary('customers')?.batches, 2, 'the batch after the rewind ended the run');
		assert.equal((await world.watermarks.read('customers'))?.cursor, null, 'the rewind stands');
		restoreAllSeams();
		world.plugIn();
		const next = await world.runSync(workflow);
		assert.equal(next.summary('customers')?.rowsRead, 9, 'everything is sent again from the beginning');
		assert.deepEqual(world.companies().map((row) => row.CustomerNo), range(1, 9), 'and nothing is doubled');
	});

	it('takes a handed-on lease only for its own stream and lease owner, with a token that matches it', () => {
		const token = encodeToken({ stream: 'customers', generation: 4, owner: 'execution 7 · aa' });
		const handed = { stream: 'customers', cursor: null, token, generation: 4, leaseOwner: 'execution 7 · aa', leaseExpiresAt: null, timeZone: 'Europe/Oslo', retryListInUse: false };
		assert.deepEqual(nextBatchLeaseFor(handed, 'customers', 'execution 7 · aa'), handed);
		assert.equal(nextBatchLeaseFor(handed, 'orders', 'execution 7 · aa'), undefined, 'another stream');
		assert.equal(nextBatchLeaseFor(handed, 'customers', 'execution 8 · bb'), undefined, 'another run');
		assert.equal(nextBatchLeaseFor({ ...handed, generation: 5 }, 'customers', 'execution 7 · aa'), undefined, 'a token of another generation');
		assert.equal(nextBatchLeaseFor({ ...handed, token: 'wm1.garbage' }, 'customers', 'execution 7 · aa'), undefined, 'a token that does not read');
		assert.equal(nextBatchLeaseFor(null, 'customers', 'execution 7 · aa'), undefined, 'nothing handed on: the first batch');
	});
});
