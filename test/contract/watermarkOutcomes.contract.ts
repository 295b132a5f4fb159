/**
 * The watermark store's Set (commitSql) and Rewind/Undo (replaceSql) as tables of (stored row, request) → outcome.
 * Run against the in-memory store in `npm test` (test/unit/watermarkOutcomes.test.ts) and against the SQL Server
 * adapter when MSSQL_URL is set (test/integration/outcomes.test.ts), so the T-SQL is tested by what it decides,
 * not by its text. Each statement's branches (every WHEN and IF it sends) are listed below with the rows that reach
 * them; the unit test counts the WHENs and IFs in the rendered T-SQL, so a new branch without a row fails there.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { serializeCursor } from '../../nodes/shared/core/cursor';
import type { RetryChange } from '../../nodes/shared/core/retryList';
import type { CommitVerdict } from '../../nodes/shared/core/watermark';
import type { WatermarkStore } from '../../nodes/Watermark/stores/watermarkStore';
import { acquireRequest, acquired } from './watermarkStore.contract';

const at = (second: number, kind: 'datetime' | 'dateAndTime' = 'datetime') =>
	serializeCursor({ kind, marker: `2025-03-01T10:00:${String(second).padStart(2, '0')}`, key: [String(second)] });
export const C1 = at(1);
export const C2 = at(2);
export const C3 = at(3);
/** C1's position written by a date + time marker: the same place, in the other local-time kind. */
const C1_AS_DATE_AND_TIME = at(1, 'dateAndTime');

const audit = { workflowId: 'wf-outcomes', executionId: 'ex-outcomes' };
const OWNER = 'run-1';

/** What the stream's row holds when Set arrives, built through the store's own operations. */
export interface StoredRow {
	/** false: Set names a stream that was never created. */
	exists?: boolean;
	cursor: string | null;
	/** Who holds the lease: this run, nobody (released), or another run that took it over. */
	lease?: 'this run' | 'released' | 'another run';
	/** A rewind replaced the cursor (by `cursor` itself) after this run's Get. */
	rewoundAfterGet?: boolean;
	/** Retry list entries before Set: customer number, attempts, parked. */
	listed?: Array<{ no: number; attempts: number; parked?: boolean }>;
}

export interface SetRequest {
	/** Default: this run's owner. */
	tokenOwner?: string;
	/** The batch's start and the cursor to store; undefined: nothing to store. */
	move?: { from: string | null; to: string };
	allowBackwards?: boolean;
	releaseLease?: boolean;
	retry?: { failed?: number[]; written?: number[]; maxAttempts: number; releaseWhenParked?: boolean };
}

export interface SetExpected {
	verdict: CommitVerdict;
	cursor: string | null;
	leaseOwner: string | null;
	retry?: { removed: number; failing: number; newlyParked: number[] };
	/** The list after Set: customer number, attempts, parked (sorted by number). */
	listed?: Array<[number, number, boolean]>;
}

export interface SetRow {
	name: string;
	reaches: CommitBranch[];
	stored: StoredRow;
	request: SetRequest;
	expected: SetExpected;
}

/** Every branch commitSql sends (with the retry list), in its order; `keyword` is how it is written in the T-SQL. */
export const COMMIT_BRANCHES = [
	{ branch: 'comparable: a date + time cursor compares as a date-time', keyword: 'WHEN' },
	{ branch: 'verdict: unknown stream', keyword: 'WHEN' },
	{ branch: 'verdict: lease lost', keyword: 'WHEN' },
	{ branch: 'verdict: nothing to store', keyword: 'WHEN' },
	{ branch: 'verdict: rewound meanwhile', keyword: 'WHEN' },
	{ branch: 'verdict: not where the batch started', keyword: 'WHEN' },
	{ branch: 'verdict: store', keyword: 'ELSE' },
	{ branch: 'store: write the cursor and the history', keyword: 'IF' },
	{ branch: 'store: the exact cursor kept beside an existing date + time pair', keyword: 'WHEN' },
	{ branch: 'retry: applied only after store or nothing to store', keyword: 'IF' },
	{ branch: 'retry: another attempt parks the entry', keyword: 'WHEN' },
	{ branch: 'retry: a first failure parks at once', keyword: 'WHEN' },
	{ branch: 'retry: the failed key is listed already', keyword: 'WHEN' },
	{ branch: 'lease: released', keyword: 'IF' },
	{ branch: 'lease: renewed', keyword: 'IF' },
] as const;
export type CommitBranch = (typeof COMMIT_BRANCHES)[number]['branch'];

const failedOnly = (numbers: number[]) => numbers.map((no) => ({ no, attempts: 1 }));

export const SET_ROWS: SetRow[] = [
	{
		// The SQL Server store answers this before it sends Set; the WHEN guards a stream deleted in between.
		name: 'a stream never created',
		reaches: ['verdict: unknown stream'],
		stored: { exists: false, cursor: null },
		request: { move: { from: null, to: C1 } },
		expected: { verdict: 'unknown stream', cursor: null, leaseOwner: null },
	},
	{
		name: 'another run took the lease over: nothing stored, its lease untouched, the list untouched',
		reaches: ['verdict: lease lost', 'retry: applied only after store or nothing to store'],
		stored: { cursor: C1, lease: 'another run' },
		request: { move: { from: C1, to: C2 }, releaseLease: true, retry: { failed: [7], maxAttempts: 5 } },
		expected: { verdict: 'lease lost', cursor: C1, leaseOwner: 'run-2', listed: [] },
	},
	{
		name: 'the lease was released meanwhile (NULL owner)',
		reaches: ['verdict: lease lost'],
		stored: { cursor: C1, lease: 'released' },
		request: { move: { from: C1, to: C2 } },
		expected: { verdict: 'lease lost', cursor: C1, leaseOwner: null },
	},
	{
		name: 'a token whose owner differs by a trailing space only is another owner',
		reaches: ['verdict: lease lost'],
		stored: { cursor: C1 },
		request: { tokenOwner: `${OWNER} `, move: { from: C1, to: C2 } },
		expected: { verdict: 'lease lost', cursor: C1, leaseOwner: OWNER },
	},
	{
		name: 'no move: nothing stored, the lease renewed',
		reaches: ['verdict: nothing to store', 'lease: renewed'],
		stored: { cursor: C1 },
		request: {},
		expected: { verdict: 'nothing to store', cursor: C1, leaseOwner: OWNER },
	},
	{
		name: 'no move, release asked: the lease is given up',
		reaches: ['verdict: nothing to store', 'lease: released'],
		stored: { cursor: C1 },
		request: { releaseLease: true },
		expected: { verdict: 'nothing to store', cursor: C1, leaseOwner: null },
	},
	{
		name: 'rewound after Get: the rewind wins, and the lease is given up',
		reaches: ['verdict: rewound meanwhile', 'lease: released'],
		stored: { cursor: C1, rewoundAfterGet: true },
		request: { move: { from: C1, to: C2 } },
		expected: { verdict: 'rewound meanwhile', cursor: C1, leaseOwner: null },
	},
	{
		name: 'rewound after Get, but Allow Moving Backwards: stored',
		reaches: ['verdict: store', 'store: write the cursor and the history'],
		stored: { cursor: C1, rewoundAfterGet: true },
		request: { move: { from: C1, to: C2 }, allowBackwards: true },
		expected: { verdict: 'store', cursor: C2, leaseOwner: OWNER },
	},
	{
		name: 'the batch was read from another cursor (the same batch stored twice)',
		reaches: ['verdict: not where the batch started', 'lease: released'],
		stored: { cursor: C2 },
		request: { move: { from: C1, to: C2 } },
		expected: { verdict: 'not where the batch started', cursor: C2, leaseOwner: null },
	},
	{
		name: 'the stored cursor is the beginning (NULL) but the batch was read from a cursor',
		reaches: ['verdict: not where the batch started'],
		stored: { cursor: null },
		request: { move: { from: C1, to: C2 } },
		expected: { verdict: 'not where the batch started', cursor: null, leaseOwner: null },
	},
	{
		name: 'the batch was read from the beginning (NULL) but a cursor is stored',
		reaches: ['verdict: not where the batch started'],
		stored: { cursor: C1 },
		request: { move: { from: null, to: C2 } },
		expected: { verdict: 'not where the batch started', cursor: C1, leaseOwner: null },
	},
	{
		name: 'read from another cursor, but Allow Moving Backwards: stored (backwards)',
		reaches: ['verdict: store'],
		stored: { cursor: C3 },
		request: { move: { from: C1, to: C2 }, allowBackwards: true },
		expected: { verdict: 'store', cursor: C2, leaseOwner: OWNER },
	},
	{
		name: 'read from the beginning, stored from the beginning',
		reaches: ['verdict: store', 'store: write the cursor and the history', 'lease: renewed'],
		stored: { cursor: null },
		request: { move: { from: null, to: C1 } },
		expected: { verdict: 'store', cursor: C1, leaseOwner: OWNER },
	},
	{
		name: 'a date + time cursor stored, the batch read from the same place as a date-time cursor',
		reaches: ['comparable: a date + time cursor compares as a date-time', 'verdict: store'],
		stored: { cursor: C1_AS_DATE_AND_TIME },
		request: { move: { from: C1, to: C2 }, releaseLease: true },
		expected: { verdict: 'store', cursor: C2, leaseOwner: null },
	},
	{
		name: 'retry: a failed key not listed enters with 1 attempt; a written key not listed removes nothing',
		reaches: ['retry: applied only after store or nothing to store', 'retry: the failed key is listed already'],
		stored: { cursor: C1 },
		request: { move: { from: C1, to: C2 }, retry: { failed: [7], written: [8], maxAttempts: 5 } },
		expected: { verdict: 'store', cursor: C2, leaseOwner: OWNER, retry: { removed: 0, failing: 1, newlyParked: [] }, listed: [[7, 1, false]] },
	},
	{
		name: 'retry: with Max Attempts 1 a first failure is parked at once',
		reaches: ['retry: a first failure parks at once'],
		stored: { cursor: C1 },
		request: { retry: { failed: [7], maxAttempts: 1 } },
		expected: { verdict: 'nothing to store', cursor: C1, leaseOwner: OWNER, retry: { removed: 0, failing: 1, newlyParked: [7] }, listed: [[7, 1, true]] },
	},
	{
		name: 'retry: a listed key fails again below Max Attempts: one more attempt, not parked',
		reaches: ['retry: the failed key is listed already', 'retry: another attempt parks the entry'],
		stored: { cursor: C1, listed: [{ no: 7, attempts: 3 }] },
		request: { retry: { failed: [7], maxAttempts: 5 } },
		expected: { verdict: 'nothing to store', cursor: C1, leaseOwner: OWNER, retry: { removed: 0, failing: 1, newlyParked: [] }, listed: [[7, 4, false]] },
	},
	{
		name: 'retry: a listed key reaches Max Attempts: parked, and the lease given up when asked',
		reaches: ['retry: another attempt parks the entry', 'lease: released'],
		stored: { cursor: C1, listed: [{ no: 7, attempts: 4 }] },
		request: { move: { from: C1, to: C2 }, retry: { failed: [7], maxAttempts: 5, releaseWhenParked: true } },
		expected: { verdict: 'store', cursor: C2, leaseOwner: null, retry: { removed: 0, failing: 1, newlyParked: [7] }, listed: [[7, 5, true]] },
	},
	{
		name: 'retry: a parked key that fails again stays parked and is not reported again',
		reaches: ['retry: another attempt parks the entry'],
		stored: { cursor: C1, listed: [{ no: 7, attempts: 2, parked: true }] },
		request: { retry: { failed: [7], maxAttempts: 5, releaseWhenParked: true } },
		expected: { verdict: 'nothing to store', cursor: C1, leaseOwner: OWNER, retry: { removed: 0, failing: 1, newlyParked: [] }, listed: [[7, 3, true]] },
	},
	{
		name: 'retry: a written key leaves the list; a failed key of the same Set stays',
		reaches: ['retry: applied only after store or nothing to store'],
		stored: { cursor: C1, listed: failedOnly([7, 8]) },
		request: { retry: { written: [7], failed: [8], maxAttempts: 5 } },
		expected: { verdict: 'nothing to store', cursor: C1, leaseOwner: OWNER, retry: { removed: 1, failing: 1, newlyParked: [] }, listed: [[8, 2, false]] },
	},
	{
		name: 'retry: a Set refused by the verdict changes nothing in the list',
		reaches: ['retry: applied only after store or nothing to store', 'verdict: not where the batch started'],
		stored: { cursor: C2, listed: failedOnly([7]) },
		request: { move: { from: C1, to: C3 }, retry: { written: [7], failed: [9], maxAttempts: 1 } },
		expected: { verdict: 'not where the batch started', cursor: C2, leaseOwner: null, listed: [[7, 1, false]] },
	},
];

/** replaceSql's branch: the cursor is replaced only at the generation the rewind or undo was worked out from. */
export const REPLACE_BRANCHES = [
	{ branch: 'replace: still at the expected generation', keyword: 'IF' },
	{ branch: 'store: the exact cursor kept beside an existing date + time pair', keyword: 'WHEN' },
] as const;

/**
 * Branches these rows (all in this package's own table) do not reach, and where they are reached instead: the
 * exact cursor beside an existing date + time pair is the existing-table location's (watermark store contract).
 */
export const BRANCHES_REACHED_ELSEWHERE: readonly CommitBranch[] = ['store: the exact cursor kept beside an existing date + time pair'];

let streams = 0;
const newStream = () => `outcome-${process.pid}-${Date.now()}-${++streams}`;
const failed = (no: number): RetryChange => ({ kind: 'failed', key: { CustomerNo: no }, cursor: null, error: `refused ${no}` });
const written = (no: number): RetryChange => ({ kind: 'written', key: { CustomerNo: no } });

/** Brings a new stream to the stored row through the store's own operations; answers the token Set will carry. */
async function arrange(store: WatermarkStore, stream: string, stored: StoredRow): Promise<{ generation: number }> {
	if (stored.exists === false) return { generation: 0 };
	const lease = stored.lease ?? 'this run';
	let state = acquired(await store.acquire(acquireRequest(stream, OWNER, { audit }))).state;
	const keep = { token: { stream, generation: state.generation, owner: OWNER }, allowBackwards: true, releaseLease: false, audit };
	if (stored.cursor !== null) state = (await store.commit({ ...keep, move: { from: null, to: stored.cursor } })).state ?? state;
	for (const entry of stored.listed ?? []) {
		for (let attempt = 1; attempt <= entry.attempts; attempt++) {
			const rules = { maxAttempts: entry.parked && attempt === entry.attempts ? attempt : 100, releaseLeaseWhenParked: false };
			await store.commit({ ...keep, token: { ...keep.token, generation: state.generation }, retry: { changes: [failed(entry.no)], rules } });
		}
	}
	const generation = (await store.read(stream))?.generation ?? 0;
	if (stored.rewoundAfterGet) {
		await store.replaceCursor({ stream, expectedGeneration: generation, cursor: stored.cursor, action: 'rewind', reason: 'outcome table', audit });
	}
	if (lease === 'released') await store.commit({ ...keep, token: { ...keep.token, generation }, releaseLease: true });
	if (lease === 'another run') {
		// This run's lease is renewed for 0 seconds, so it ends now, and another run takes the stream over.
		acquired(await store.acquire(acquireRequest(stream, OWNER, { leaseSeconds: 0, audit })));
		acquired(await store.acquire(acquireRequest(stream, 'run-2', { audit })));
	}
	return { generation };
}

const byNumber = (a: [number, number, boolean], b: [number, number, boolean]) => a[0] - b[0];

export function watermarkOutcomeTables(name: string, factory: () => Promise<WatermarkStore>): void {
	describe(`Watermark Set outcome table: ${name}`, () => {
		for (const row of SET_ROWS) {
			it(row.name, async () => {
				const store = await factory();
				const stream = newStream();
				const { generation } = await arrange(store, stream, row.stored);
				const { request } = row;
				const result = await store.commit({
					token: { stream, generation, owner: request.tokenOwner ?? OWNER },
					move: request.move,
					allowBackwards: request.allowBackwards ?? false,
					releaseLease: request.releaseLease ?? false,
					audit,
					retry: request.retry && {
						changes: [...(request.retry.written ?? []).map(written), ...(request.retry.failed ?? []).map(failed)],
						rules: { maxAttempts: request.retry.maxAttempts, releaseLeaseWhenParked: request.retry.releaseWhenParked ?? false },
					},
				});
				assert.equal(result.verdict, row.expected.verdict);
				const after = await store.read(stream);
				assert.equal(after?.cursor ?? null, row.expected.cursor, 'the stored cursor');
				assert.equal(after?.leaseOwner ?? null, row.expected.leaseOwner, 'who holds the lease');
				if (row.expected.retry) {
					assert.deepEqual(
						result.retry && { ...result.retry, newlyParked: result.retry.newlyParked.map((entry) => Number(entry.key.CustomerNo)) },
						row.expected.retry,
					);
				} else {
					assert.equal(result.retry, undefined, 'no retry outcome');
				}
				if (row.expected.listed) {
					const listed = (await store.retryList(stream)).map((entry): [number, number, boolean] => [Number(entry.key.CustomerNo), entry.attempts, entry.parked]);
					assert.deepEqual(listed.sort(byNumber), row.expected.listed);
				}
			});
		}

		it('replace (rewind, undo): only at the expected generation', async () => {
			const store = await factory();
			const stream = newStream();
			const { generation } = await arrange(store, stream, { cursor: C2 });
			const stale = await store.replaceCursor({ stream, expectedGeneration: generation - 1, cursor: C1, action: 'rewind', reason: 'stale', audit });
			assert.equal(stale.replaced, false);
			assert.equal((await store.read(stream))?.cursor, C2);
			const current = await store.replaceCursor({ stream, expectedGeneration: generation, cursor: C1, action: 'rewind', reason: 'current', audit });
			assert.equal(current.replaced, true);
			assert.equal((await store.read(stream))?.cursor, C1);
			assert.equal((await store.replaceCursor({ stream: newStream(), expectedGeneration: 0, cursor: C1, action: 'undo', reason: 'none', audit })).replaced, false);
		});
	});
}
