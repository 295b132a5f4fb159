/**
 * What every WatermarkStore must do. Runs against the in-memory store in `npm test`
 * (test/unit/watermarkStore.memory.test.ts) and against SQL Server when MSSQL_URL is set:
 * `watermarkStoreContract('SQL Server', async () => new SqlServerWatermarkStore(transport, freshTables()))`.
 * No test waits for time to pass: an expired lease is one taken with 0 seconds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { serializeCursor } from '../../nodes/shared/core/cursor';
import { PACKAGE_TABLE } from '../../nodes/shared/core/watermarkLocation';
import type { RetryChange } from '../../nodes/shared/core/retryList';
import type { AcquireRequest, AcquireResult, StreamState, WatermarkStore } from '../../nodes/Watermark/stores/watermarkStore';

export type WatermarkStoreFactory = () => Promise<WatermarkStore>;

const audit = { workflowId: 'wf-1', executionId: 'ex-1' };
const at = (marker: string, key: string[] | null = null) => serializeCursor({ kind: 'datetime', marker, key });
const C1 = at('2025-03-01T10:00:00.1234567', ['17']);
const C2 = at('2025-03-02T11:00:00', ['18']);
const C3 = at('2025-03-03T12:00:00', ['19']);

let streamCounter = 0;
const newStream = () => `contract-${process.pid}-${Date.now()}-${++streamCounter}`;

export function acquireRequest(stream: string, owner: string, overrides: Partial<AcquireRequest> = {}): AcquireRequest {
	return {
		stream,
		owner,
		leaseSeconds: 600,
		startingCursor: null,
		startingReason: 'Starting point: from the beginning',
		timeZone: 'Europe/Oslo',
		location: PACKAGE_TABLE,
		audit,
		...overrides,
	};
}

export function acquired(result: AcquireResult): Extract<AcquireResult, { kind: 'acquired' }> {
	assert.equal(result.kind, 'acquired', `expected the lease, got ${JSON.stringify(result)}`);
	return result as Extract<AcquireResult, { kind: 'acquired' }>;
}

function tokenOf(state: StreamState, owner: string) {
	return { stream: state.stream, generation: state.generation, owner };
}

export function watermarkStoreContract(name: string, factory: WatermarkStoreFactory): void {
	describe(`WatermarkStore contract: ${name}`, () => {
		it('creates a stream at its starting point the first time, and records the first use', async () => {
			const store = await factory();
			const stream = newStream();
			const first = acquired(await store.acquire(acquireRequest(stream, 'run-1', { startingCursor: at('2025-01-01T00:00:00'), startingReason: 'Starting point: 2025-01-01' })));
			assert.equal(first.firstUse, true);
			assert.equal(first.state.cursor, at('2025-01-01T00:00:00'));
			assert.equal(first.state.generation, 0);
			assert.equal(first.state.leaseOwner, 'run-1');
			assert.equal(first.state.timeZone, 'Europe/Oslo');
			assert.ok(Date.parse(first.state.leaseExpiresAt as string) >= Date.parse(first.state.cursorChangedAt) + 599_000);
			const again = acquired(await store.acquire(acquireRequest(stream, 'run-1', { startingCursor: at('2030-01-01T00:00:00') })));
			assert.equal(again.firstUse, false);
			assert.equal(again.state.cursor, at('2025-01-01T00:00:00'), 'the starting point is used the first time only');
			const history = await store.history(stream, 10);
			assert.deepEqual(
				history.map((entry) => [entry.action, entry.oldCursor, entry.newCursor, entry.reason, entry.workflowId, entry.executionId]),
				[['first use', null, at('2025-01-01T00:00:00'), 'Starting point: 2025-01-01', 'wf-1', 'ex-1']],
			);
		});

		it('starts from the beginning when told so', async () => {
			const store = await factory();
			const first = acquired(await store.acquire(acquireRequest(newStream(), 'run-1')));
			assert.equal(first.state.cursor, null);
		});

		it('stores what Set hands it and gives it back on the next Get (round trip)', async () => {
			const store = await factory();
			const stream = newStream();
			const got = acquired(await store.acquire(acquireRequest(stream, 'run-1')));
			const set = await store.commit({
				token: tokenOf(got.state, 'run-1'),
				move: { from: got.state.cursor, to: C1 },
				allowBackwards: false,
				releaseLease: true,
				audit,
			});
			assert.equal(set.verdict, 'store');
			assert.equal(set.previousCursor, null);
			assert.equal(set.state?.cursor, C1);
			assert.equal(set.state?.generation, 1);
			assert.equal(set.state?.leaseOwner, null, 'Release Lease gives the stream up');
			const next = acquired(await store.acquire(acquireRequest(stream, 'run-2')));
			assert.equal(next.state.cursor, C1);
			assert.equal(next.takenOverFrom, undefined);
			const history = await store.history(stream, 10);
			assert.deepEqual(history.map((entry) => [entry.action, entry.oldCursor, entry.newCursor]), [
				['set', null, C1],
				['first use', null, null],
			]);
		});

		it('gives the lease to one of two runs started together; the other learns who holds it until when', async () => {
			const store = await factory();
			const stream = newStream();
			const [a, b] = await Promise.all([store.acquire(acquireRequest(stream, 'run-a')), store.acquire(acquireRequest(stream, 'run-b'))]);
			const winners = [a, b].filter((result) => result.kind === 'acquired');
			const losers = [a, b].filter((result) => result.kind === 'held');
			assert.equal(winners.length, 1);
			assert.equal(losers.length, 1);
			const winner = acquired(winners[0]);
			const loser = losers[0] as Extract<AcquireResult, { kind: 'held' }>;
			assert.equal(loser.owner, winner.state.leaseOwner);
			assert.equal(loser.until, winner.state.leaseExpiresAt);
		});

		it('renews the lease for the same owner', async () => {
			const store = await factory();
			const stream = newStream();
			acquired(await store.acquire(acquireRequest(stream, 'run-1')));
			const renewed = acquired(await store.acquire(acquireRequest(stream, 'run-1')));
			assert.equal(renewed.state.leaseOwner, 'run-1');
			assert.equal(renewed.takenOverFrom, undefined);
		});

		it('takes over an expired lease, records it, and the old run can no longer store', async () => {
			const store = await factory();
			const stream = newStream();
			const old = acquired(await store.acquire(acquireRequest(stream, 'run-old', { leaseSeconds: 0 })));
			const taken = acquired(await store.acquire(acquireRequest(stream, 'run-new')));
			assert.equal(taken.takenOverFrom?.owner, 'run-old');
			assert.equal(taken.takenOverFrom?.expiredAt, old.state.leaseExpiresAt);
			assert.equal(taken.state.leaseOwner, 'run-new');
			const late = await store.commit({ token: tokenOf(old.state, 'run-old'), move: { from: null, to: C1 }, allowBackwards: false, releaseLease: true, audit });
			assert.equal(late.verdict, 'lease lost');
			assert.equal(late.state?.cursor, null, 'the cursor is unchanged');
			assert.equal(late.state?.leaseOwner, 'run-new', "a run never releases a lease it lost");
			const history = await store.history(stream, 10);
			assert.equal(history[0].action, 'takeover');
			assert.match(history[0].reason ?? '', /run-old/);
		});

		it('lets a rewind made during a run win over that run\'s Set, and releases the refused run\'s lease', async () => {
			const store = await factory();
			const stream = newStream();
			const setup = acquired(await store.acquire(acquireRequest(stream, 'run-0')));
			await store.commit({ token: tokenOf(setup.state, 'run-0'), move: { from: null, to: C2 }, allowBackwards: false, releaseLease: true, audit });
			const run = acquired(await store.acquire(acquireRequest(stream, 'run-1')));
			assert.equal(run.state.cursor, C2);
			const rewind = await store.replaceCursor({ stream, expectedGeneration: run.state.generation, cursor: C1, action: 'rewind', reason: 'Rewound by support', audit });
			assert.equal(rewind.replaced, true);
			assert.equal(rewind.state?.cursor, C1);
			const set = await store.commit({ token: tokenOf(run.state, 'run-1'), move: { from: C2, to: C3 }, allowBackwards: false, releaseLease: false, audit });
			assert.equal(set.verdict, 'rewound meanwhile');
			assert.equal(set.state?.cursor, C1, 'the rewind survives');
			assert.equal(set.state?.leaseOwner, null);
			const next = acquired(await store.acquire(acquireRequest(stream, 'run-2')));
			assert.equal(next.state.cursor, C1);
		});

		it('takes a batch read from a beginning cursor of any kind as read from a stream at the beginning', async () => {
			const store = await factory();
			const stream = newStream();
			const run = acquired(await store.acquire(acquireRequest(stream, 'run-1')));
			const beginning = serializeCursor({ kind: 'rowversion', marker: null, key: null });
			const set = await store.commit({ token: tokenOf(run.state, 'run-1'), move: { from: beginning, to: C1 }, allowBackwards: false, releaseLease: true, audit });
			assert.equal(set.verdict, 'store');
			assert.equal(set.state?.cursor, C1);
		});

		it('takes a batch read by a date + time source from a starting date as read from the stored cursor', async () => {
			const store = await factory();
			const stream = newStream();
			const run = acquired(await store.acquire(acquireRequest(stream, 'run-1', { startingCursor: at('2025-01-01T00:00:00') })));
			const asTheSourceGaveIt = serializeCursor({ kind: 'dateAndTime', marker: '2025-01-01T00:00:00', key: null });
			const next = serializeCursor({ kind: 'dateAndTime', marker: '2025-01-02T08:00:00', key: ['7'] });
			const set = await store.commit({ token: tokenOf(run.state, 'run-1'), move: { from: asTheSourceGaveIt, to: next }, allowBackwards: false, releaseLease: true, audit });
			assert.equal(set.verdict, 'store');
			assert.equal(set.state?.cursor, next, 'stored exactly as the source gave it');
			const other = await store.commit({ token: tokenOf(run.state, 'run-1'), move: { from: serializeCursor({ kind: 'dateAndTime', marker: '2025-01-01T00:00:01', key: null }), to: next }, allowBackwards: false, releaseLease: true, audit });
			assert.equal(other.verdict, 'lease lost');
		});

		it('stores consecutive batches and refuses the same batch twice', async () => {
			const store = await factory();
			const stream = newStream();
			const run = acquired(await store.acquire(acquireRequest(stream, 'run-1', { startingCursor: C1 })));
			const token = tokenOf(run.state, 'run-1');
			const first = await store.commit({ token, move: { from: C1, to: C2 }, allowBackwards: false, releaseLease: false, audit });
			const second = await store.commit({ token, move: { from: C2, to: C3 }, allowBackwards: false, releaseLease: false, audit });
			assert.deepEqual([first.verdict, second.verdict], ['store', 'store']);
			assert.equal(second.previousCursor, C2);
			assert.equal(second.state?.generation, 2);
			assert.equal(second.state?.leaseOwner, 'run-1', 'the lease is kept between batches');
			const replay = await store.commit({ token, move: { from: C2, to: C3 }, allowBackwards: false, releaseLease: true, audit });
			assert.equal(replay.verdict, 'not where the batch started');
			assert.equal(replay.state?.cursor, C3);
			assert.equal(replay.state?.generation, 2);
		});

		it('extends the lease by the lease seconds of Get at every Set that keeps it, so a long run keeps the stream', async () => {
			const store = await factory();
			const stream = newStream();
			const run = acquired(await store.acquire(acquireRequest(stream, 'run-1', { leaseSeconds: 60 })));
			const kept = await store.commit({ token: tokenOf(run.state, 'run-1'), move: { from: null, to: C1 }, allowBackwards: false, releaseLease: false, audit });
			assert.equal(kept.state?.leaseOwner, 'run-1');
			const renewed = acquired(await store.acquire(acquireRequest(stream, 'run-1', { leaseSeconds: 3600 })));
			const extended = await store.commit({ token: tokenOf(run.state, 'run-1'), move: { from: C1, to: C2 }, allowBackwards: false, releaseLease: false, audit });
			assert.ok(Date.parse(extended.state?.leaseExpiresAt as string) >= Date.parse(renewed.state.leaseExpiresAt as string));
			assert.ok(Date.parse(extended.state?.leaseExpiresAt as string) >= Date.parse(extended.state?.cursorChangedAt as string) + 3_599_000);
			const other = await store.acquire(acquireRequest(stream, 'run-2'));
			assert.equal(other.kind, 'held');
		});

		it('a Set after its lease ended stores nothing, even when no other run took the stream', async () => {
			const store = await factory();
			const stream = newStream();
			const run = acquired(await store.acquire(acquireRequest(stream, 'run-1', { leaseSeconds: 0 })));
			const late = await store.commit({ token: tokenOf(run.state, 'run-1'), move: { from: null, to: C1 }, allowBackwards: true, releaseLease: true, audit });
			assert.equal(late.verdict, 'lease lost');
			assert.equal(late.state?.cursor, null);
		});

		it('puts the keys a run wrote after losing its lease into the retry list once, to be read again', async () => {
			const store = await factory();
			const stream = newStream();
			const reason = 'written after the lease ended';
			assert.equal(await store.readAgain(stream, [{ key: { CustomerNo: 1 }, cursor: C1 }, { key: { CustomerNo: 2 }, cursor: C2 }], reason), 2);
			assert.equal(await store.readAgain(stream, [{ key: { CustomerNo: 2 }, cursor: C2 }, { key: { CustomerNo: 3 }, cursor: C3 }], reason), 1);
			const list = await store.retryList(stream);
			assert.deepEqual(list.map((entry) => [entry.key.CustomerNo, entry.attempts, entry.parked, entry.lastError]).sort(), [
				[1, 0, false, reason],
				[2, 0, false, reason],
				[3, 0, false, reason],
			]);
		});

		it('with Allow Moving Backwards, stores even after a rewind, but never without the lease', async () => {
			const store = await factory();
			const stream = newStream();
			const run = acquired(await store.acquire(acquireRequest(stream, 'run-1', { startingCursor: C2 })));
			await store.replaceCursor({ stream, expectedGeneration: 0, cursor: C3, action: 'rewind', reason: 'test', audit });
			const set = await store.commit({ token: tokenOf(run.state, 'run-1'), move: { from: C2, to: C1 }, allowBackwards: true, releaseLease: true, audit });
			assert.equal(set.verdict, 'store');
			assert.equal(set.state?.cursor, C1);
			const without = await store.commit({ token: tokenOf(run.state, 'run-1'), move: { from: C1, to: C2 }, allowBackwards: true, releaseLease: true, audit });
			assert.equal(without.verdict, 'lease lost');
			assert.equal(without.state?.cursor, C1);
		});

		it('releases the lease when nothing moved, if asked', async () => {
			const store = await factory();
			const stream = newStream();
			const run = acquired(await store.acquire(acquireRequest(stream, 'run-1')));
			const set = await store.commit({ token: tokenOf(run.state, 'run-1'), allowBackwards: false, releaseLease: true, audit });
			assert.equal(set.verdict, 'nothing to store');
			assert.equal(set.state?.leaseOwner, null);
			assert.equal(set.state?.generation, 0);
			assert.equal((await store.history(stream, 10)).length, 1);
		});

		it('replaces a cursor only at the expected generation, and records rewinds and undos', async () => {
			const store = await factory();
			const stream = newStream();
			acquired(await store.acquire(acquireRequest(stream, 'run-1', { startingCursor: C3 })));
			const stale = await store.replaceCursor({ stream, expectedGeneration: 7, cursor: C1, action: 'rewind', reason: 'r', audit });
			assert.equal(stale.replaced, false);
			assert.equal(stale.state?.cursor, C3);
			const rewind = await store.replaceCursor({ stream, expectedGeneration: 0, cursor: C1, action: 'rewind', reason: 'Rewound by support', audit });
			assert.deepEqual([rewind.replaced, rewind.state?.generation, rewind.state?.rewoundAtGeneration], [true, 1, 1]);
			const undo = await store.replaceCursor({ stream, expectedGeneration: 1, cursor: C3, action: 'undo', reason: 'Undo', audit });
			assert.deepEqual([undo.replaced, undo.state?.cursor, undo.state?.generation], [true, C3, 2]);
			const marks = await store.rewindsAndUndos(stream);
			assert.deepEqual(marks.map((entry) => [entry.action, entry.oldCursor, entry.newCursor, entry.reason]), [
				['undo', C1, C3, 'Undo'],
				['rewind', C3, C1, 'Rewound by support'],
			]);
			assert.ok(marks[0].id > marks[1].id);
		});

		it('lists history newest first, limited, and finds the entry in effect at a time', async () => {
			const store = await factory();
			const stream = newStream();
			const run = acquired(await store.acquire(acquireRequest(stream, 'run-1')));
			const token = tokenOf(run.state, 'run-1');
			await store.commit({ token, move: { from: null, to: C1 }, allowBackwards: false, releaseLease: false, audit });
			await store.commit({ token, move: { from: C1, to: C2 }, allowBackwards: false, releaseLease: false, audit });
			const limited = await store.history(stream, 2);
			assert.deepEqual(limited.map((entry) => entry.newCursor), [C2, C1]);
			assert.ok(limited.every((entry) => !Number.isNaN(Date.parse(entry.changedAt))));
			assert.equal((await store.entryInEffectAt(stream, '2999-01-01T00:00:00.000Z'))?.newCursor, C2);
			assert.equal(await store.entryInEffectAt(stream, '2000-01-01T00:00:00.000Z'), undefined);
		});

		it('knows nothing of a stream never fetched', async () => {
			const store = await factory();
			const stream = newStream();
			assert.equal(await store.read(stream), undefined);
			assert.equal((await store.commit({ token: { stream, generation: 0, owner: 'x' }, move: { from: null, to: C1 }, allowBackwards: false, releaseLease: true, audit })).verdict, 'unknown stream');
			assert.equal((await store.replaceCursor({ stream, expectedGeneration: 0, cursor: null, action: 'rewind', reason: 'r', audit })).replaced, false);
			assert.equal(await store.read(stream), undefined);
		});

		it('lists the streams it keeps', async () => {
			const store = await factory();
			const stream = newStream();
			acquired(await store.acquire(acquireRequest(stream, 'run-1')));
			assert.ok((await store.streamNames()).includes(stream));
			assert.equal((await store.read(stream))?.stream, stream);
		});
		// The retry list (nodes/shared/core/retryList.ts): kept with the watermark, changed only by a Set that holds the lease.
		const failed = (no: number, error = 'too long', cursor: string | null = null): RetryChange => ({ kind: 'failed', key: { CustomerNo: no }, cursor, error });
		const written = (no: number): RetryChange => ({ kind: 'written', key: { CustomerNo: no } });
		const rules = (maxAttempts = 3, releaseLeaseWhenParked = false) => ({ maxAttempts, releaseLeaseWhenParked });

		it('retry list: a Set moves past refused rows and lists them in the same step; attempts count up to parked; written rows leave', async () => {
			const store = await factory();
			const stream = newStream();
			const run = acquired(await store.acquire(acquireRequest(stream, 'run-1')));
			assert.deepEqual(run.retry, { due: [], size: 0 });
			const token = tokenOf(run.state, 'run-1');
			const first = await store.commit({ token, move: { from: null, to: C2 }, allowBackwards: false, releaseLease: true, audit, retry: { changes: [failed(1, 'too long', C1), failed(2, 'it\'s <bad> & "long"\nline two')], rules: rules(2) } });
			assert.equal(first.verdict, 'store');
			assert.deepEqual(first.retry, { removed: 0, failing: 2, newlyParked: [] });
			const listed = await store.retryList(stream);
			assert.deepEqual(
				listed.map((entry) => [entry.stream, entry.key, entry.cursor, entry.attempts, entry.lastError, entry.parked]),
				[
					[stream, { CustomerNo: 1 }, C1, 1, 'too long', false],
					[stream, { CustomerNo: 2 }, null, 1, 'it\'s <bad> & "long"\nline two', false],
				],
			);
			assert.ok(listed.every((entry) => entry.firstFailedAt === entry.lastTriedAt && !Number.isNaN(Date.parse(entry.lastTriedAt))));
			const next = acquired(await store.acquire(acquireRequest(stream, 'run-2')));
			assert.deepEqual(next.retry.due.map((entry) => entry.key).sort((a, b) => Number(a.CustomerNo) - Number(b.CustomerNo)), [{ CustomerNo: 1 }, { CustomerNo: 2 }]);
			assert.equal(next.retry.size, 2);
			const second = await store.commit({ token: tokenOf(next.state, 'run-2'), allowBackwards: false, releaseLease: true, audit, retry: { changes: [written(1), failed(2, 'still too long'), written(9)], rules: rules(2) } });
			assert.equal(second.verdict, 'nothing to store');
			assert.equal(second.retry?.removed, 1, 'a key not in the list leaves nothing to remove');
			assert.equal(second.retry?.failing, 1);
			assert.deepEqual(second.retry?.newlyParked.map((entry) => [entry.key, entry.attempts, entry.lastError, entry.parked]), [[{ CustomerNo: 2 }, 2, 'still too long', true]]);
			const [parked] = await store.retryList(stream);
			assert.deepEqual([parked.key, parked.attempts, parked.parked, parked.firstFailedAt], [{ CustomerNo: 2 }, 2, true, listed[1].firstFailedAt]);
			const third = acquired(await store.acquire(acquireRequest(stream, 'run-3')));
			assert.deepEqual(third.retry, { due: [], size: 1 }, 'a parked row is not handed out');
			const again = await store.commit({ token: tokenOf(third.state, 'run-3'), allowBackwards: false, releaseLease: true, audit, retry: { changes: [failed(2, 'once more')], rules: rules(2) } });
			assert.deepEqual(again.retry?.newlyParked, [], 'parked once, reported once');
		});

		it('retry list: a Set that lost its lease or was refused changes nothing in it', async () => {
			const store = await factory();
			const stream = newStream();
			const old = acquired(await store.acquire(acquireRequest(stream, 'run-old', { leaseSeconds: 0 })));
			acquired(await store.acquire(acquireRequest(stream, 'run-new')));
			const late = await store.commit({ token: tokenOf(old.state, 'run-old'), move: { from: null, to: C1 }, allowBackwards: false, releaseLease: true, audit, retry: { changes: [failed(1)], rules: rules() } });
			assert.equal(late.verdict, 'lease lost');
			assert.equal(late.retry, undefined);
			assert.deepEqual(await store.retryList(stream), []);
			const current = acquired(await store.acquire(acquireRequest(stream, 'run-new')));
			const stale = await store.commit({ token: tokenOf(current.state, 'run-new'), move: { from: C3, to: C1 }, allowBackwards: false, releaseLease: true, audit, retry: { changes: [failed(1)], rules: rules() } });
			assert.equal(stale.verdict, 'not where the batch started');
			assert.deepEqual(await store.retryList(stream), []);
		});

		it('retry list: due keys go to a run that takes the lease, not to the later batches of a run that renews it', async () => {
			const store = await factory();
			const stream = newStream();
			const run = acquired(await store.acquire(acquireRequest(stream, 'run-1')));
			await store.commit({ token: tokenOf(run.state, 'run-1'), move: { from: null, to: C1 }, allowBackwards: false, releaseLease: false, audit, retry: { changes: [failed(5)], rules: rules() } });
			const renewed = acquired(await store.acquire(acquireRequest(stream, 'run-1')));
			assert.deepEqual(renewed.retry, { due: [], size: 1 });
			await store.commit({ token: tokenOf(renewed.state, 'run-1'), allowBackwards: false, releaseLease: true, audit });
			const next = acquired(await store.acquire(acquireRequest(stream, 'run-2', { leaseSeconds: 0 })));
			assert.deepEqual(next.retry.due.map((entry) => entry.key), [{ CustomerNo: 5 }]);
			const takeover = acquired(await store.acquire(acquireRequest(stream, 'run-3')));
			assert.equal(takeover.takenOverFrom?.owner, 'run-2');
			assert.deepEqual(takeover.retry.due.map((entry) => entry.key), [{ CustomerNo: 5 }], 'a run that takes over an expired lease is a new run');
		});

		it('retry list: gives the lease up when a row is parked, if asked, so the next run need not wait', async () => {
			const store = await factory();
			const stream = newStream();
			const run = acquired(await store.acquire(acquireRequest(stream, 'run-1')));
			const kept = await store.commit({ token: tokenOf(run.state, 'run-1'), move: { from: null, to: C1 }, allowBackwards: false, releaseLease: false, audit, retry: { changes: [failed(1)], rules: rules(2, true) } });
			assert.equal(kept.state?.leaseOwner, 'run-1', 'nothing parked: the lease is kept between batches');
			const parked = await store.commit({ token: tokenOf(run.state, 'run-1'), move: { from: C1, to: C2 }, allowBackwards: false, releaseLease: false, audit, retry: { changes: [failed(1)], rules: rules(2, true) } });
			assert.equal(parked.verdict, 'store');
			assert.equal(parked.retry?.newlyParked.length, 1);
			assert.equal(parked.state?.leaseOwner, null);
			assert.equal(parked.state?.cursor, C2, 'the watermark is stored all the same');
		});

		it('retry list: Retry Parked Rows Again puts parked rows back to be retried, or takes them (or one key) off', async () => {
			const store = await factory();
			const stream = newStream();
			const other = newStream();
			for (const name of [stream, other]) {
				const run = acquired(await store.acquire(acquireRequest(name, 'run-1')));
				await store.commit({ token: tokenOf(run.state, 'run-1'), allowBackwards: false, releaseLease: true, audit, retry: { changes: [failed(1), failed(2), failed(3)], rules: rules(1) } });
			}
			const run = acquired(await store.acquire(acquireRequest(stream, 'run-2')));
			await store.commit({ token: tokenOf(run.state, 'run-2'), allowBackwards: false, releaseLease: true, audit, retry: { changes: [written(3), failed(4)], rules: rules(5) } });
			assert.equal(await store.changeRetryEntries(stream, [{ CustomerNo: 1 }], 'retryAgain'), 1);
			assert.equal(await store.changeRetryEntries(stream, [{ CustomerNo: 99 }], 'remove'), 0);
			const afterOne = await store.retryList(stream);
			assert.deepEqual(afterOne.map((entry) => [entry.key.CustomerNo, entry.attempts, entry.parked]).sort(), [[1, 0, false], [2, 1, true], [4, 1, false]]);
			assert.equal(await store.changeRetryEntries(stream, undefined, 'remove'), 1, 'every parked row: only CustomerNo 2');
			assert.deepEqual((await store.retryList(stream)).map((entry) => entry.key.CustomerNo).sort(), [1, 4]);
			assert.equal(await store.changeRetryEntries(other, undefined, 'retryAgain'), 3);
			const due = acquired(await store.acquire(acquireRequest(other, 'run-3')));
			assert.equal(due.retry.due.length, 3, 'rows put back are handed out again');
		});
	});
}
