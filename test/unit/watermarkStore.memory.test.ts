import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { serializeCursor } from '../../nodes/shared/core/cursor';
import type { CursorLocation } from '../../nodes/shared/core/watermarkLocation';
import { CursorLocationError, PACKAGE_TABLE } from '../../nodes/shared/core/watermarkLocation';
import { watermarkStatusContract } from '../contract/watermarkStatus.contract';
import { watermarkStoreContract } from '../contract/watermarkStore.contract';
import { MemoryWatermarkStore } from '../support/memory/memoryWatermarkStore';
import { SYSTEM_CODES_PAIR } from '../support/cursorLocations';

watermarkStoreContract('in memory', async () => new MemoryWatermarkStore());
watermarkStatusContract('in memory', async () => new MemoryWatermarkStore());

const audit = { workflowId: 'wf', executionId: 'ex' };
const systemCodes = SYSTEM_CODES_PAIR;
const request = (stream: string, owner: string, location: CursorLocation, leaseSeconds = 600) => ({
	stream,
	owner,
	leaseSeconds,
	startingCursor: null,
	startingReason: 'Starting point: from the beginning',
	timeZone: 'Europe/Oslo',
	location,
	audit,
});

describe('in-memory watermark store: what the contract cannot run on every server', () => {
	it('takes over a lease when its clock passes the expiry, not before', async () => {
		let now = new Date('2025-03-30T00:00:00Z');
		const store = new MemoryWatermarkStore(() => now);
		assert.equal((await store.acquire(request('s', 'a', PACKAGE_TABLE))).kind, 'acquired');
		now = new Date('2025-03-30T00:09:59.999Z');
		assert.deepEqual(await store.acquire(request('s', 'b', PACKAGE_TABLE)), { kind: 'held', owner: 'a', until: '2025-03-30T00:10:00.000Z' });
		now = new Date('2025-03-30T00:10:00Z');
		const taken = await store.acquire(request('s', 'b', PACKAGE_TABLE));
		assert.equal(taken.kind, 'acquired');
	});

	it('keeps a cursor in an existing date + time pair: starts from the value already there, stores whole seconds there and the exact cursor beside it', async () => {
		const store = new MemoryWatermarkStore();
		store.seedExistingRow(systemCodes, '2010-06-04T00:00:00');
		const got = await store.acquire(request('customers', 'run', systemCodes));
		assert.equal(got.kind, 'acquired');
		const state = (got as Extract<typeof got, { kind: 'acquired' }>).state;
		assert.equal(state.cursor, serializeCursor({ kind: 'datetime', marker: '2010-06-04T00:00:00', key: null }));
		const next = serializeCursor({ kind: 'datetime', marker: '2010-06-05T13:14:15.1234567', key: ['42'] });
		const set = await store.commit({
			token: { stream: 'customers', generation: state.generation, owner: 'run' },
			move: { from: serializeCursor({ kind: 'datetime', marker: '2010-06-04T00:00:00', key: null }), to: next },
			allowBackwards: false,
			releaseLease: false,
			audit,
		});
		assert.equal(set.verdict, 'store');
		assert.equal(store.existingRowValue(systemCodes), '2010-06-05T13:14:15');
		assert.equal(set.state?.cursor, next, 'while the pair holds its second, the exact cursor kept beside it is the position');
		store.seedExistingRow(systemCodes, '2010-06-05T13:00:00');
		assert.equal((await store.read('customers'))?.cursor, serializeCursor({ kind: 'datetime', marker: '2010-06-05T13:00:00', key: null }), 'a pair changed by hand wins');
		store.seedExistingRow(systemCodes, '2010-06-05T13:14:15');
		const again = await store.commit({
			token: { stream: 'customers', generation: state.generation, owner: 'run' },
			move: { from: next, to: serializeCursor({ kind: 'datetime', marker: '2010-06-06T08:00:00', key: ['43'] }) },
			allowBackwards: false,
			releaseLease: true,
			audit,
		});
		assert.equal(again.verdict, 'store', 'the next batch, read from the full cursor, matches the stored whole seconds');
	});

	it('refuses a Get that names another place than the stream uses, and a place with no row', async () => {
		const store = new MemoryWatermarkStore();
		await store.acquire(request('customers', 'run', PACKAGE_TABLE));
		store.seedExistingRow(systemCodes, null);
		await assert.rejects(store.acquire(request('customers', 'run', systemCodes)), CursorLocationError);
		await assert.rejects(
			store.acquire(request('orders', 'run', { ...systemCodes, filterValue: 'nope' })),
			/No row in dbo.SystemCodes/,
		);
	});
});
