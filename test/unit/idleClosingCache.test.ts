import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { IdleClosingCache } from '../../nodes/shared/transport/idleClosingCache';

/** Timers the test fires by hand, so idle closing is shown without waiting. */
class ManualTimers {
	private pending = new Map<number, () => void>();
	private next = 0;

	set = (callback: () => void) => {
		const id = ++this.next;
		this.pending.set(id, callback);
		return { id } as { id: number; unref?: () => void };
	};

	clear = (handle: unknown) => void this.pending.delete((handle as { id: number }).id);

	fireAll() {
		const callbacks = [...this.pending.values()];
		this.pending.clear();
		callbacks.forEach((callback) => callback());
	}

	get count() {
		return this.pending.size;
	}
}

describe('connection pool cache', () => {
	it('reuses one pool per credential across executions', async () => {
		const closed: string[] = [];
		const cache = new IdleClosingCache<string>(async (pool) => void closed.push(pool), 1000, new ManualTimers());
		let opened = 0;
		const open = async () => `pool-${++opened}`;
		assert.equal(await cache.get('crm', open), 'pool-1');
		assert.equal(await cache.get('crm', open), 'pool-1');
		assert.equal(await cache.get('contracting', open), 'pool-2');
		assert.equal(opened, 2);
		assert.equal(cache.size, 2);
	});

	it('closes a pool when it has been idle, and opens a new one on the next use', async () => {
		const timers = new ManualTimers();
		const closed: string[] = [];
		const cache = new IdleClosingCache<string>(async (pool) => void closed.push(pool), 1000, timers);
		let opened = 0;
		const open = async () => `pool-${++opened}`;
		await cache.get('crm', open);
		await cache.get('crm', open);
		assert.equal(timers.count, 1, 'each use restarts the one idle timer');
		timers.fireAll();
		await new Promise((resolve) => setImmediate(resolve));
		assert.deepEqual(closed, ['pool-1']);
		assert.equal(cache.size, 0);
		assert.equal(await cache.get('crm', open), 'pool-2');
	});

	it('forgets a pool that failed to connect, so the next call dials again', async () => {
		const cache = new IdleClosingCache<string>(async () => undefined, 1000, new ManualTimers());
		await assert.rejects(cache.get('crm', async () => await Promise.reject(new Error('ECONNREFUSED'))));
		assert.equal(cache.size, 0);
		assert.equal(await cache.get('crm', async () => 'pool-2'), 'pool-2');
	});
});
