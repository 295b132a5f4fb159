/**
 * The shipped sync workflow when a run's CRM write is slow: a write that arrives after its run's lease ended, or
 * two n8n instances whose runs carry the same execution id, must never put an older version over a newer one.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import type { UpsertTarget } from '../../nodes/Crm/stores/upsertTarget';
import { upsertTargetSeam } from '../../nodes/Crm/stores/upsertTarget';
import { replaceSeam, restoreAllSeams } from '../../nodes/shared/seams';
import type { SyncRun } from '../support/syncWorld';
import { SyncWorld, onDay } from '../support/syncWorld';

describe('shipped sync workflow: a CRM write that is late', () => {
	let world: SyncWorld;
	beforeEach(() => {
		world = new SyncWorld();
	});
	afterEach(restoreAllSeams);

	/** The CRM as the nodes see it: its first upsert waits for `meanwhile` before it reaches CRM. */
	function delayFirstWrite(meanwhile: () => Promise<void>): void {
		let delayed = false;
		const crm = world.crm;
		const slow = new Proxy(crm, {
			get: (target, property, receiver) =>
				property === 'upsert'
					? async (...args: Parameters<UpsertTarget['upsert']>) => {
							if (!delayed) {
								delayed = true;
								await meanwhile();
							}
							return await target.upsert(...args);
						}
					: (Reflect.get(target, property, receiver) as unknown),
		});
		replaceSeam(upsertTargetSeam, () => slow);
	}

	const companyName = () => world.companies().find((row) => row.CustomerNo === 1)?.Name;

	it('a write delayed past the lease never replaces the newer version the run that took over wrote', async () => {
		world.addCustomer(1, onDay(1), { Name: 'Old AS' });
		let takeover: SyncRun | undefined;
		delayFirstWrite(async () => {
			world.changeCustomer(1, onDay(2), { Name: 'New AS' });
			world.nowUtc = '2024-12-01T12:20:00.000Z';
			takeover = await world.runSync();
		});
		const late = await world.runSync();
		assert.equal(takeover?.errorMessage, undefined);
		assert.equal(takeover?.summary('customers')?.rowsRead, 1);
		assert.equal(companyName(), 'New AS', 'the late write did not land');
		assert.match(String(late.errorMessage ?? late.summary('customers')?.message), /no longer held by this run/);
		world.nowUtc = '2024-12-01T12:30:00.000Z';
		const next = await world.runSync();
		assert.equal(next.errorMessage, undefined);
		assert.equal(companyName(), 'New AS');
		assert.deepEqual(await world.watermarks.retryList('customers'), []);
	});

	it('two n8n instances whose runs have the same execution id do not share a lease: the second waits, and the newest version wins', async () => {
		world.addCustomer(1, onDay(1), { Name: 'Old AS' });
		let other: SyncRun | undefined;
		delayFirstWrite(async () => {
			world.changeCustomer(1, onDay(2), { Name: 'New AS' });
			world.nowUtc = '2024-12-01T12:01:30.000Z';
			other = await world.runSync(undefined, '42');
		});
		const first = await world.runSync(undefined, '42');
		assert.equal(first.errorMessage, undefined);
		assert.equal(other?.summary('customers')?.outcome, 'held by another run', String(other?.summary('customers')?.message));
		world.nowUtc = '2024-12-01T12:05:00.000Z';
		const next = await world.runSync(undefined, '42');
		assert.equal(next.errorMessage, undefined);
		assert.equal(companyName(), 'New AS');
	});
});
