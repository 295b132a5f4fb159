import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { serializeCursor } from '../../nodes/shared/core/cursor';
import type { SyncInfo, WriteStatus } from '../../nodes/shared/core/syncItem';
import type { StoredForSet, WrittenItem } from '../../nodes/shared/core/watermark';
import {
	WatermarkTokenError,
	WrittenItemsError,
	decideCommit,
	decideLease,
	decodeToken,
	encodeToken,
	furthestWrittenCursor,
	leaseGoesWithThisSet,
	releasesLease,
	renewsLease,
	setOutcome,
} from '../../nodes/shared/core/watermark';
import { CursorLocationError, PACKAGE_TABLE, storedCursorOf, storedValueOf } from '../../nodes/shared/core/watermarkLocation';
import { SYSTEM_CODES_PAIR } from '../support/cursorLocations';

const cursorAt = (n: number) => serializeCursor({ kind: 'datetime', marker: `2025-03-01T10:00:${String(n).padStart(2, '0')}`, key: [String(n)] });

/** A batch of `rows` rows read from cursor `from` (row i ends at cursor from + i + 1), with the given statuses. */
function batch(from: number, statuses: WriteStatus[], options: { rows?: number; hasMore?: boolean; skip?: number[] } = {}): WrittenItem[] {
	const rows = options.rows ?? statuses.length;
	return statuses
		.map((status, position) => ({ status, position }))
		.filter(({ position }) => !options.skip?.includes(position))
		.map(({ status, position }) => {
			const sync: SyncInfo = {
				stream: 'customers',
				operation: 'upsert',
				key: { CustomerNo: from + position + 1 },
				cursor: cursorAt(from + position + 1),
				batchStartCursor: cursorAt(from),
				position,
				batchRows: rows,
				hasMore: options.hasMore ?? false,
			};
			// A refused row as the CRM node reports one SQL Server refused for its data (isRowRefusal).
			return { sync, status, error: status === 'failed' ? { message: 'String or binary data would be truncated' } : undefined, rowRefusal: status === 'failed' };
		});
}

describe('furthestWrittenCursor: how far Set may move', () => {
	it('moves past the whole batch when every row was written', () => {
		const progress = furthestWrittenCursor(batch(0, ['inserted', 'updated', 'unchanged', 'deleted', 'ignored'], { hasMore: true }));
		assert.equal(progress.cursor, cursorAt(5));
		assert.equal(progress.startCursor, cursorAt(0));
		assert.equal(progress.stoppedBy, undefined);
		assert.equal(progress.hasMore, true);
		assert.deepEqual(progress.counts, { read: 5, inserted: 1, updated: 1, unchanged: 1, deleted: 1, ignored: 1, failed: 0 });
	});

	it('stops before a failed row, and reports it', () => {
		const progress = furthestWrittenCursor(batch(0, ['inserted', 'failed', 'inserted'], { hasMore: true }));
		assert.equal(progress.cursor, cursorAt(1));
		assert.deepEqual(progress.stoppedBy, { kind: 'failed', position: 1, failure: { key: { CustomerNo: 2 }, error: 'String or binary data would be truncated' } });
		assert.deepEqual(progress.firstFailure, { key: { CustomerNo: 2 }, error: 'String or binary data would be truncated' });
		assert.equal(progress.hasMore, false, 'the loop must not read on past a failure');
		assert.equal(setOutcome('store', progress), 'stopped at a row that failed');
	});

	it('moves nothing when the first row failed', () => {
		const progress = furthestWrittenCursor(batch(0, ['failed', 'inserted']));
		assert.equal(progress.cursor, undefined);
		assert.equal(setOutcome('nothing to store', progress), 'stopped at a row that failed');
	});

	it('stops before a row that never arrived, whatever came after it', () => {
		const progress = furthestWrittenCursor(batch(0, ['inserted', 'inserted', 'inserted', 'inserted'], { skip: [2] }));
		assert.equal(progress.cursor, cursorAt(2));
		assert.deepEqual(progress.stoppedBy, { kind: 'missing', position: 2 });
		assert.equal(setOutcome('store', progress), 'stopped at a missing row');
	});

	it('stops before the end of a batch whose last rows never arrived', () => {
		const progress = furthestWrittenCursor(batch(0, ['inserted', 'inserted'], { rows: 4 }));
		assert.equal(progress.cursor, cursorAt(2));
		assert.deepEqual(progress.stoppedBy, { kind: 'missing', position: 2 });
	});

	it('orders items by position, not by arrival', () => {
		const progress = furthestWrittenCursor(batch(0, ['inserted', 'updated', 'inserted']).reverse());
		assert.equal(progress.cursor, cursorAt(3));
	});

	it('follows batch after batch, and stops in the second at its failure', () => {
		const items = [...batch(3, ['inserted', 'failed'], { hasMore: true }), ...batch(0, ['inserted', 'inserted', 'inserted'], { hasMore: true })];
		const progress = furthestWrittenCursor(items);
		assert.equal(progress.startCursor, cursorAt(0));
		assert.equal(progress.cursor, cursorAt(4));
		assert.equal(progress.counts.read, 5);
	});

	it('counts a row duplicated on the way as written only if every copy was', () => {
		const [first, second] = batch(0, ['inserted', 'inserted']);
		const progress = furthestWrittenCursor([first, second, { ...second, status: 'failed', error: 'lost' }]);
		assert.equal(progress.cursor, cursorAt(1));
	});

	it('moves nothing for items without _sync (an empty batch)', () => {
		const progress = furthestWrittenCursor([{}, {}]);
		assert.equal(progress.cursor, undefined);
		assert.equal(progress.startCursor, undefined);
		assert.equal(progress.counts.read, 0);
		assert.equal(setOutcome('nothing to store', progress), 'nothing to store');
	});

	it('refuses items without a write status, of two streams, or of batches that do not follow one another', () => {
		const [item] = batch(0, ['inserted']);
		assert.throws(() => furthestWrittenCursor([{ sync: item.sync }]), WrittenItemsError);
		assert.throws(() => furthestWrittenCursor([item, { ...item, sync: { ...(item.sync as SyncInfo), stream: 'orders' } }]), /two streams/);
		assert.throws(() => furthestWrittenCursor([...batch(0, ['inserted']), ...batch(5, ['inserted'])]), WrittenItemsError);
	});
});

describe('decideCommit: the compare-and-set of Set', () => {
	const token = { stream: 'customers', generation: 4, owner: 'run-1' };
	const stored: StoredForSet = { exists: true, storedCursor: 'A', rewoundAtGeneration: 2, leaseOwner: 'run-1', leaseExpiresAt: '2025-01-01T12:10:00.000Z' };
	const NOW = new Date('2025-01-01T12:00:00.000Z');
	const move = { fromStored: 'A', to: 'B' };

	it('stores a batch read from the stored cursor, by the lease holder, with no rewind since Get', () => {
		assert.equal(decideCommit(stored, token, move, false, NOW), 'store');
		assert.equal(decideCommit({ ...stored, rewoundAtGeneration: 4 }, token, move, false, NOW), 'store', "this run's own Sets do not count");
	});

	it('refuses after a rewind or undo made since Get, or a batch read from another cursor', () => {
		assert.equal(decideCommit({ ...stored, rewoundAtGeneration: 5 }, token, move, false, NOW), 'rewound meanwhile');
		assert.equal(decideCommit(stored, token, { fromStored: 'Z', to: 'B' }, false, NOW), 'not where the batch started');
		assert.equal(decideCommit({ ...stored, storedCursor: null }, token, move, false, NOW), 'not where the batch started');
	});

	it('refuses without the lease, even when allowed to move backwards', () => {
		assert.equal(decideCommit({ ...stored, leaseOwner: 'run-2' }, token, move, true, NOW), 'lease lost');
		assert.equal(decideCommit({ ...stored, leaseOwner: null }, token, move, true, NOW), 'lease lost');
		assert.equal(decideCommit({ ...stored, leaseExpiresAt: NOW.toISOString() }, token, move, true, NOW), 'lease lost', 'a lease that ends now has ended');
	});

	it('with Allow Moving Backwards, stores over a rewind and from another cursor', () => {
		assert.equal(decideCommit({ ...stored, rewoundAtGeneration: 9, storedCursor: 'Q' }, token, move, true, NOW), 'store');
	});

	it('has nothing to store without a move, and knows an unknown stream', () => {
		assert.equal(decideCommit(stored, token, undefined, false, NOW), 'nothing to store');
		assert.equal(decideCommit({ ...stored, exists: false }, token, move, false, NOW), 'unknown stream');
	});

	it('releases the lease when asked or when refused, never a lost one', () => {
		assert.deepEqual(
			(['store', 'nothing to store', 'rewound meanwhile', 'not where the batch started', 'lease lost', 'unknown stream'] as const).map((verdict) => [
				releasesLease(verdict, false),
				releasesLease(verdict, true),
			]),
			[[false, true], [false, true], [true, true], [true, true], [false, false], [false, false]],
		);
	});

	it('extends the lease when it keeps it after storing or finding nothing to store', () => {
		assert.deepEqual(
			(['store', 'nothing to store', 'rewound meanwhile', 'not where the batch started', 'lease lost', 'unknown stream'] as const).map((verdict) => [
				renewsLease(verdict, false),
				renewsLease(verdict, true),
			]),
			[[true, false], [true, false], [false, false], [false, false], [false, false], [false, false]],
		);
	});
});

describe('decideLease', () => {
	const now = new Date('2025-03-30T01:00:00.000Z');
	it('is free, renewed, taken over at or after expiry, or held', () => {
		assert.deepEqual(decideLease({ owner: null, expiresAt: null }, 'a', now), { kind: 'free' });
		assert.deepEqual(decideLease({ owner: 'a', expiresAt: '2025-03-30T02:00:00.000Z' }, 'a', now), { kind: 'renew' });
		assert.deepEqual(decideLease({ owner: 'b', expiresAt: '2025-03-30T01:00:00.000Z' }, 'a', now), {
			kind: 'takeOver',
			previousOwner: 'b',
			expiredAt: '2025-03-30T01:00:00.000Z',
		});
		assert.deepEqual(decideLease({ owner: 'b', expiresAt: '2025-03-30T01:00:00.001Z' }, 'a', now), { kind: 'held', owner: 'b', until: '2025-03-30T01:00:00.001Z' });
	});
});

describe('the token', () => {
	it('round-trips stream, generation and owner, whatever characters they hold', () => {
		const token = { stream: 'kunder/ordre æøå', generation: 12, owner: 'exec "42"' };
		assert.deepEqual(decodeToken(encodeToken(token)), token);
	});

	it('refuses anything else with a clear error', () => {
		for (const bad of ['', 'abc', 'wm1.', 'wm1.e30', encodeToken({ stream: 's', generation: 1, owner: 'o' }).slice(0, -3)]) {
			assert.throws(() => decodeToken(bad), WatermarkTokenError, bad);
		}
	});
});

describe('where the cursor is kept', () => {
	const pair = SYSTEM_CODES_PAIR;
	const full = serializeCursor({ kind: 'dateAndTime', marker: '2025-03-30T23:59:59.9999999', key: ['42'] });

	it("keeps the cursor whole in this package's table, and the beginning as null", () => {
		assert.equal(storedValueOf(full, PACKAGE_TABLE), full);
		assert.equal(storedValueOf(serializeCursor({ kind: 'rowversion', marker: null, key: null }), PACKAGE_TABLE), null);
		assert.equal(storedValueOf(null, PACKAGE_TABLE), null);
	});

	it('cuts a date + time pair down to whole seconds (never up), without the key', () => {
		assert.equal(storedValueOf(full, pair), '2025-03-30T23:59:59');
		assert.equal(storedCursorOf(full, pair), serializeCursor({ kind: 'dateAndTime', marker: '2025-03-30T23:59:59', key: null }));
		assert.equal(storedValueOf(serializeCursor({ kind: 'datetime', marker: null, key: ['3'] }), pair), null, 'rows without a date: from the beginning');
	});

	it('refuses to keep a rowversion in a date + time pair', () => {
		assert.throws(() => storedValueOf(serializeCursor({ kind: 'rowversion', marker: '0x0000000000000001', key: null }), pair), CursorLocationError);
	});
});

describe('leaseGoesWithThisSet: whether a Set told to keep the lease still gives it up', () => {
	it('keeps the lease only while another batch of the run follows', () => {
		assert.equal(leaseGoesWithThisSet(false, furthestWrittenCursor(batch(0, ['inserted', 'inserted'], { hasMore: true }))), false);
	});

	it('gives it up when the stream is caught up, nothing was read, or a row failed', () => {
		assert.equal(leaseGoesWithThisSet(false, furthestWrittenCursor(batch(0, ['inserted'], { hasMore: false }))), true);
		assert.equal(leaseGoesWithThisSet(false, furthestWrittenCursor([])), true);
		assert.equal(leaseGoesWithThisSet(false, furthestWrittenCursor(batch(0, ['inserted', 'failed'], { hasMore: true }))), true);
	});

	it('always gives it up when asked', () => {
		assert.equal(leaseGoesWithThisSet(true, furthestWrittenCursor(batch(0, ['inserted'], { hasMore: true }))), true);
	});
});
