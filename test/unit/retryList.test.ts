/**
 * The retry list's rules (nodes/shared/core/retryList.ts) and Set's "Failed Rows" (furthestWrittenCursor with
 * "park"): what Set does to the list with each kind of item, how an entry counts attempts and is parked, which
 * keys Get hands out, and how the read takes its "Retry Keys".
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { serializeCursor } from '../../nodes/shared/core/cursor';
import { ChangeSourceError } from '../../nodes/shared/core/markers';
import type { RetryChange, RetryEntry } from '../../nodes/shared/core/retryList';
import {
	MAX_RETRY_KEYS_PER_RUN,
	RetryListError,
	checkMaxAttempts,
	dueRetries,
	firstRowNotTaken,
	nextRetryEntry,
	parkedRowsMessage,
	parkingEndsTheRun,
	retryKeyText,
	retryKeysOf,
	retryListChanges,
	retryTableOf,
} from '../../nodes/shared/core/retryList';
import type { SyncInfo, WriteStatus } from '../../nodes/shared/core/syncItem';
import type { WrittenItem } from '../../nodes/shared/core/watermark';
import { WrittenItemsError, decodeToken, encodeToken, explainSetOutcome, furthestWrittenCursor, setOutcome, writtenItemOf } from '../../nodes/shared/core/watermark';

const cursorAt = (n: number) => serializeCursor({ kind: 'datetime', marker: `2025-03-01T10:00:${String(n).padStart(2, '0')}`, key: [String(n)] });
const ERROR = 'String or binary data would be truncated';

/** A batch of rows read from cursor 0: row i has key i + 1 and ends at cursor i + 1. */
function batch(statuses: WriteStatus[], options: { hasMore?: boolean; skip?: number[] } = {}): WrittenItem[] {
	return statuses.flatMap((status, position) => {
		if (options.skip?.includes(position)) return [];
		const sync: SyncInfo = {
			stream: 'customers',
			operation: 'upsert',
			key: { CustomerNo: position + 1 },
			cursor: cursorAt(position + 1),
			batchStartCursor: cursorAt(0),
			position,
			batchRows: statuses.length,
			hasMore: options.hasMore ?? false,
		};
		return [{ sync, status, error: status === 'failed' ? ERROR : undefined, rowRefusal: status === 'failed' }];
	});
}

/** A row read again from the retry list. */
function retried(no: number, status: WriteStatus, stream = 'customers'): WrittenItem {
	const sync: SyncInfo = {
		stream,
		operation: 'upsert',
		key: { CustomerNo: no },
		cursor: cursorAt(0),
		batchStartCursor: cursorAt(0),
		position: -1,
		batchRows: 0,
		hasMore: false,
		retry: true,
	};
	return { sync, status, error: status === 'failed' ? { message: 'still too long' } : undefined, rowRefusal: status === 'failed' };
}

const entry = (overrides: Partial<RetryEntry> = {}): RetryEntry => ({
	stream: 'customers',
	key: { CustomerNo: 7 },
	cursor: cursorAt(7),
	attempts: 1,
	lastError: ERROR,
	firstFailedAt: '2025-03-01T10:00:00.000Z',
	lastTriedAt: '2025-03-01T10:00:00.000Z',
	parked: false,
	...overrides,
});

describe('Set with Failed Rows "park": how far the watermark moves', () => {
	it('moves past failed rows and lists each with the cursor just past it', () => {
		const progress = furthestWrittenCursor(batch(['inserted', 'failed', 'updated', 'failed'], { hasMore: true }), 'park');
		assert.equal(progress.cursor, cursorAt(4));
		assert.equal(progress.stoppedBy, undefined);
		assert.equal(progress.hasMore, true, 'the run goes on to the next batch');
		assert.deepEqual(progress.passedFailures, [
			{ key: { CustomerNo: 2 }, error: ERROR, cursor: cursorAt(2) },
			{ key: { CustomerNo: 4 }, error: ERROR, cursor: cursorAt(4) },
		]);
		assert.equal(progress.counts.failed, 2);
		assert.equal(setOutcome('store', progress), 'advanced');
		assert.equal(
			explainSetOutcome('advanced', 'customers', progress),
			'Stream "customers": 2 of 4 rows written; the 2 that failed are in the retry list (the next runs try them first) and the watermark moved past all of them.',
		);
	});

	it('still stops at a missing row, and lists only the failures before it (the rest are read again)', () => {
		const progress = furthestWrittenCursor(batch(['failed', 'inserted', 'inserted', 'failed'], { skip: [2] }), 'park');
		assert.equal(progress.cursor, cursorAt(2));
		assert.deepEqual(progress.stoppedBy, { kind: 'missing', position: 2 });
		assert.deepEqual(progress.passedFailures.map((failure) => failure.key), [{ CustomerNo: 1 }]);
		assert.equal(progress.hasMore, false);
	});

	it('with "stop" (the behaviour before the retry list) stops before the first failed row and passes none', () => {
		const progress = furthestWrittenCursor(batch(['inserted', 'failed', 'inserted']), 'stop');
		assert.equal(progress.cursor, cursorAt(1));
		assert.equal(progress.stoppedBy?.kind, 'failed');
		assert.deepEqual(progress.passedFailures, []);
	});

	it('never moves for rows read again from the retry list, written or not', () => {
		const onlyRetried = furthestWrittenCursor([retried(7, 'inserted'), retried(8, 'failed')], 'park');
		assert.equal(onlyRetried.cursor, undefined);
		assert.equal(onlyRetried.stream, 'customers');
		assert.equal(onlyRetried.counts.read, 0);
		const mixed = furthestWrittenCursor([retried(7, 'failed'), ...batch(['inserted', 'inserted'])], 'stop');
		assert.equal(mixed.cursor, cursorAt(2), 'a failed retried row does not stop the batch behind it');
		assert.equal(mixed.counts.read, 2);
	});

	it('refuses retried rows of another stream than the batch', () => {
		assert.throws(() => furthestWrittenCursor([retried(7, 'inserted', 'orders'), ...batch(['inserted'])]), WrittenItemsError);
		assert.throws(() => furthestWrittenCursor([retried(7, 'inserted', 'orders'), retried(8, 'inserted')]), WrittenItemsError);
	});
});

describe('Set and rows CRM did not take for a reason not their own (a batch refused whole, an outage)', () => {
	const notTaken = (items: WrittenItem[]) => items.map((item) => (item.status === 'failed' ? { ...item, rowRefusal: false } : item));

	it('stops before such a row even with "park", parks none, and says so', () => {
		const items = notTaken(batch(['inserted', 'failed', 'failed'], { hasMore: true }));
		const progress = furthestWrittenCursor(items, 'park');
		assert.equal(progress.cursor, cursorAt(1));
		assert.deepEqual(progress.stoppedBy, { kind: 'not taken', position: 1, failure: { key: { CustomerNo: 2 }, error: ERROR } });
		assert.deepEqual(progress.passedFailures, []);
		assert.equal(progress.hasMore, false);
		assert.deepEqual(retryListChanges(items, progress, false), []);
		assert.equal(setOutcome('store', progress), 'stopped: CRM did not take the rows');
		assert.deepEqual(firstRowNotTaken(items, progress), { key: { CustomerNo: 2 }, error: ERROR });
	});

	it('parks the row refusals before it, and stops at it', () => {
		const items = batch(['failed', 'inserted', 'failed', 'failed']);
		items[2] = { ...items[2], rowRefusal: false };
		const progress = furthestWrittenCursor(items, 'park');
		assert.equal(progress.cursor, cursorAt(2));
		assert.deepEqual(progress.passedFailures.map((failure) => failure.key), [{ CustomerNo: 1 }]);
		assert.equal(progress.stoppedBy?.kind, 'not taken');
	});

	it('a row read again from the list and not taken counts no attempt, and still fails the execution', () => {
		const items = [{ ...retried(7, 'failed'), rowRefusal: false }, ...batch(['inserted'])];
		const progress = furthestWrittenCursor(items, 'park');
		assert.equal(progress.cursor, cursorAt(1));
		assert.deepEqual(retryListChanges(items, progress, true), [{ kind: 'written', key: { CustomerNo: 1 } }]);
		assert.deepEqual(firstRowNotTaken(items, progress), { key: { CustomerNo: 7 }, error: 'still too long' });
		assert.equal(firstRowNotTaken(batch(['inserted', 'failed']), furthestWrittenCursor(batch(['inserted', 'failed']), 'park')), undefined, 'row refusals are parked, not a reason to stop');
	});

	it('the CRM node\'s items say which failures are row refusals: a SQL Server error number or a column', () => {
		assert.equal(writtenItemOf({ status: 'failed', error: 'x', sqlServerError: 2628 }).rowRefusal, true);
		assert.equal(writtenItemOf({ status: 'failed', error: 'x', errorColumn: 'Name' }).rowRefusal, true);
		assert.equal(writtenItemOf({ status: 'failed', error: 'Connection lost' }).rowRefusal, false);
	});
});

describe('retryListChanges: what Set does to the list', () => {
	it('puts the failed rows the watermark passes in the list, with their cursor and error', () => {
		const items = batch(['inserted', 'failed']);
		const changes = retryListChanges(items, furthestWrittenCursor(items, 'park'), false);
		assert.deepEqual(changes, [{ kind: 'failed', key: { CustomerNo: 2 }, cursor: cursorAt(2), error: ERROR }]);
	});

	it('leaves a failed row the watermark stops before alone: it is read again anyway', () => {
		const items = batch(['inserted', 'failed']);
		assert.deepEqual(retryListChanges(items, furthestWrittenCursor(items, 'stop'), false), []);
	});

	it('takes a retried row that was written off the list, and counts another attempt for one that failed', () => {
		const items = [retried(7, 'updated'), retried(8, 'failed')];
		assert.deepEqual(retryListChanges(items, furthestWrittenCursor(items, 'park'), true), [
			{ kind: 'written', key: { CustomerNo: 7 } },
			{ kind: 'failed', key: { CustomerNo: 8 }, cursor: null, error: 'still too long' },
		]);
	});

	it('takes written batch rows off the list only while the list is in use (so an empty list costs nothing)', () => {
		const items = batch(['inserted']);
		const progress = furthestWrittenCursor(items, 'park');
		assert.deepEqual(retryListChanges(items, progress, false), []);
		assert.deepEqual(retryListChanges(items, progress, true), [{ kind: 'written', key: { CustomerNo: 1 } }]);
	});

	it('counts a key that failed and was written in one Set as failed (trying once more loses nothing)', () => {
		const items = [retried(2, 'inserted'), ...batch(['inserted', 'failed'])];
		const changes = retryListChanges(items, furthestWrittenCursor(items, 'park'), true);
		assert.deepEqual(changes, [
			{ kind: 'failed', key: { CustomerNo: 2 }, cursor: cursorAt(2), error: ERROR },
			{ kind: 'written', key: { CustomerNo: 1 } },
		]);
		const other = [retried(2, 'failed'), ...batch(['inserted', 'failed'])];
		assert.deepEqual(retryListChanges(other, furthestWrittenCursor(other, 'park'), true)[0], { kind: 'failed', key: { CustomerNo: 2 }, cursor: cursorAt(2), error: ERROR });
	});

	it('ignores items without _sync or without a status', () => {
		const items: WrittenItem[] = [{}, { sync: retried(3, 'inserted').sync }];
		assert.deepEqual(retryListChanges(items, { hasMore: false, counts: furthestWrittenCursor([]).counts, passedFailures: [] }, true), []);
	});
});

describe('nextRetryEntry: attempts and parking', () => {
	const failed: RetryChange = { kind: 'failed', key: { CustomerNo: 7 }, cursor: null, error: 'still too long' };
	const now = '2025-03-02T08:00:00.000Z';

	it('a first failure comes in with one attempt, first failed and last tried now', () => {
		const { entry: next, newlyParked } = nextRetryEntry('customers', undefined, { ...failed, cursor: cursorAt(7) }, 5, now);
		assert.deepEqual(next, { stream: 'customers', key: { CustomerNo: 7 }, cursor: cursorAt(7), attempts: 1, lastError: 'still too long', firstFailedAt: now, lastTriedAt: now, parked: false });
		assert.equal(newlyParked, false);
	});

	it('another failure counts an attempt, keeps when it first failed and its cursor, and records the error', () => {
		const { entry: next } = nextRetryEntry('customers', entry({ attempts: 2 }), failed, 5, now);
		assert.deepEqual([next?.attempts, next?.firstFailedAt, next?.cursor, next?.lastError, next?.lastTriedAt], [3, '2025-03-01T10:00:00.000Z', cursorAt(7), 'still too long', now]);
	});

	it('parks at Max Attempts, reports it once, and a parked row stays parked', () => {
		const parking = nextRetryEntry('customers', entry({ attempts: 4 }), failed, 5, now);
		assert.deepEqual([parking.entry?.attempts, parking.entry?.parked, parking.newlyParked], [5, true, true]);
		const again = nextRetryEntry('customers', parking.entry, failed, 5, now);
		assert.deepEqual([again.entry?.attempts, again.entry?.parked, again.newlyParked], [6, true, false]);
		const single = nextRetryEntry('customers', undefined, failed, 1, now);
		assert.deepEqual([single.entry?.parked, single.newlyParked], [true, true], 'Max Attempts 1 parks at the first failure');
	});

	it('a written row leaves the list, parked or not', () => {
		assert.deepEqual(nextRetryEntry('customers', entry({ parked: true }), { kind: 'written', key: { CustomerNo: 7 } }, 5, now), { newlyParked: false });
	});
});

describe('parkingEndsTheRun: when a parked row makes Set give the lease up', () => {
	const parked = [{ key: { CustomerNo: 1 } }];
	it('only when this Set parked a row and "Fail the Execution When a Row Is Parked" is on', () => {
		assert.equal(parkingEndsTheRun({ maxAttempts: 5, releaseLeaseWhenParked: true }, parked), true);
		assert.equal(parkingEndsTheRun({ maxAttempts: 5, releaseLeaseWhenParked: true }, []), false);
		assert.equal(parkingEndsTheRun({ maxAttempts: 5, releaseLeaseWhenParked: false }, parked), false);
	});
});

describe('dueRetries: the keys Get hands out', () => {
	it('the entries not parked, least recently tried first, only to a run that just took the lease', () => {
		const entries = [
			entry({ key: { CustomerNo: 1 }, lastTriedAt: '2025-03-01T12:00:00.000Z' }),
			entry({ key: { CustomerNo: 2 }, lastTriedAt: '2025-03-01T09:00:00.000Z' }),
			entry({ key: { CustomerNo: 3 }, parked: true, lastTriedAt: '2025-03-01T08:00:00.000Z' }),
		];
		assert.deepEqual(dueRetries(entries, true).map((due) => due.key), [{ CustomerNo: 2 }, { CustomerNo: 1 }]);
		assert.deepEqual(dueRetries(entries, false), [], 'a later batch of the same run retries nothing');
	});

	it('a whole refused batch of the shipped sync (4,000 rows, put back with "Retry Parked Rows Again") is retried in one run, not a quarter of it', () => {
		const batchOfRefusals = Array.from({ length: 4000 }, (_, no) => entry({ key: { CustomerNo: no } }));
		assert.equal(dueRetries(batchOfRefusals, true).length, 4000);
	});

	it('hands out at most MAX_RETRY_KEYS_PER_RUN keys; the rest wait for the next run', () => {
		const many = Array.from({ length: MAX_RETRY_KEYS_PER_RUN + 5 }, (_, no) => entry({ key: { CustomerNo: no } }));
		assert.equal(dueRetries(many, true).length, MAX_RETRY_KEYS_PER_RUN);
	});
});

describe('retry list helpers', () => {
	it('a key is the same key whatever the order of its columns', () => {
		assert.equal(retryKeyText({ b: 2, A: 1 }), retryKeyText({ A: 1, b: 2 }));
		assert.equal(retryKeyText({ OrderNo: 5 }), '{"OrderNo":5}');
		assert.notEqual(retryKeyText({ OrderNo: 5 }), retryKeyText({ OrderNo: '5' }), 'a typed value stays typed');
	});

	it('the retry table defaults to the watermark table\'s name followed by "Retry", in its schema', () => {
		assert.deepEqual(retryTableOf({ state: { schema: 'sync', name: 'Marks' } }), { schema: 'sync', name: 'MarksRetry' });
		assert.deepEqual(retryTableOf({ state: { schema: 'dbo', name: 'Marks' }, retry: { schema: 'dbo', name: 'Other' } }), { schema: 'dbo', name: 'Other' });
	});

	it('Max Attempts is a whole number from 1 to 100, 5 when not given', () => {
		assert.equal(checkMaxAttempts(undefined), 5);
		assert.equal(checkMaxAttempts(1), 1);
		for (const bad of [0, -1, 2.5, 101, Number.NaN, 'x']) assert.throws(() => checkMaxAttempts(bad), RetryListError);
	});

	it('the parked-rows error names the stream, the attempts and the rows with their errors, five at most', () => {
		const rows = Array.from({ length: 7 }, (_, no) => ({ key: { CustomerNo: no }, attempts: 5, lastError: 'too long' }));
		const message = parkedRowsMessage('customers', rows);
		assert.match(message, /^Stream "customers": 7 row\(s\) were refused by CRM 5 times and are parked in the retry list: \{"CustomerNo":0\} \(too long\);/);
		assert.match(message, /\{"CustomerNo":4\} \(too long\) and 2 more$/);
	});

	it('the token says whether the list was in use at Get, and old tokens still read', () => {
		const token = { stream: 'customers', generation: 3, owner: '42' };
		assert.deepEqual(decodeToken(encodeToken({ ...token, retryListInUse: true })), { ...token, retryListInUse: true });
		assert.deepEqual(decodeToken(encodeToken(token)), token);
		assert.equal(encodeToken({ ...token, retryListInUse: false }), encodeToken(token));
	});
});

describe('retryKeysOf: the read\'s "Retry Keys"', () => {
	it('takes Get\'s retry output, plain keys or JSON text; nothing when empty', () => {
		assert.deepEqual(retryKeysOf([{ key: { CustomerNo: 7 }, attempts: 1, lastError: 'x' }], ['CustomerNo']), [{ CustomerNo: 7 }]);
		assert.deepEqual(retryKeysOf('[{"customerno": 8}]', ['CustomerNo']), [{ CustomerNo: 8 }], 'columns are matched without case, spelled as the source spells them');
		for (const none of [undefined, null, '', []]) assert.deepEqual(retryKeysOf(none, ['CustomerNo']), []);
	});

	it('refuses what is not a list of keys of the stream, naming the key', () => {
		assert.throws(() => retryKeysOf('not json', ['CustomerNo']), ChangeSourceError);
		assert.throws(() => retryKeysOf({ CustomerNo: 1 }, ['CustomerNo']), /Retry Keys is not a list of keys/);
		assert.throws(() => retryKeysOf([5], ['CustomerNo']), /Retry key 0 is not an object of key columns/);
		assert.throws(() => retryKeysOf([{ key: { OrderNo: 1 } }], ['CustomerNo']), /Retry key 0 \(\{"OrderNo":1\}\) does not match the key of the stream \(CustomerNo\)/);
		assert.throws(() => retryKeysOf([{ CustomerNo: 1, Extra: 2 }], ['CustomerNo']), /does not match the key/);
		assert.throws(() => retryKeysOf([{ A: 1 }], ['A', 'B']), /does not match the key of the stream \(A, B\)/);
	});
});
