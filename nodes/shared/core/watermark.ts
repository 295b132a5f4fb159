/**
 * The rules of the watermark: what Get hands out, how far Set may move it, and who holds a stream's lease.
 * No I/O; the stores apply these decisions (the SQL Server adapter in one atomic T-SQL batch, the in-memory
 * adapter in one synchronous step), so both mean the same.
 */
import type { ReadWindow } from './changeQuery';
import type { DecisionTable } from './decisionTable';
import { all, decide, greater, isNull, isTrue, not, sameText } from './decisionTable';
import type { QualifiedName } from './identifiers';
import type { SyncInfo, WriteStatus } from './syncItem';
import type { LeaseFact } from './leaseGuard';
import { LEASE_IS_LIVE } from './leaseGuard';
import { SYNC_FIELD, isRowRefusal, isWritten } from './syncItem';

// ---------------------------------------------------------------------------------------------------------
// The token Get hands out and Set takes back.
// ---------------------------------------------------------------------------------------------------------

/** What Set compares with the stored state: the stream, the generation Get saw, and the lease owner. */
export interface WatermarkToken {
	stream: string;
	generation: number;
	/** The lease owner Get handed out: unique to the run (see leaseOwnerOfRun), compared binary. */
	owner: string;
	/** Whether the stream's retry list had entries when Get handed the token out (Set then also clears written keys). */
	retryListInUse?: boolean;
	/** Where the lease is kept, so a CRM write through the same credential can check it in its own transaction. */
	leasePlace?: LeasePlace;
}

export interface LeasePlace {
	/** The n8n credential of the database holding the watermark table: its type and id. */
	credentialType: string;
	credentialId: string;
	table: QualifiedName;
}

/**
 * A lease owner no other run has: the execution (for people reading "held by") and a random part, because two n8n
 * instances (a trial beside production, old and new servers during a move) number their executions independently.
 */
export function leaseOwnerOfRun(executionId: string | undefined, randomHex: string): string {
	return `execution ${executionId ?? '(manual)'} · ${randomHex}`;
}

const TOKEN_PREFIX = 'wm1.';

export class WatermarkTokenError extends Error {
	readonly advice =
		"Set \"Token From Get\" to the token the Get operation of this run output, e.g. {{ $('Get Watermark').first().json.token }}. Nothing was stored.";

	constructor(reason: string) {
		super(`The token from Get cannot be read: ${reason}`);
		this.name = 'WatermarkTokenError';
	}
}

/** Opaque to the workflow: it only ever passes the text from Get to Set. */
export function encodeToken(token: WatermarkToken): string {
	const place = token.leasePlace;
	const json = JSON.stringify({
		s: token.stream,
		g: token.generation,
		o: token.owner,
		...(token.retryListInUse ? { r: 1 } : {}),
		...(place ? { p: [place.credentialType, place.credentialId, place.table.schema, place.table.name] } : {}),
	});
	return TOKEN_PREFIX + Buffer.from(json, 'utf8').toString('base64url');
}

export function decodeToken(text: string): WatermarkToken {
	if (typeof text !== 'string' || !text.startsWith(TOKEN_PREFIX)) {
		throw new WatermarkTokenError('it is not the "token" field of a Watermark Get output');
	}
	let parsed: unknown;
	try {
		parsed = JSON.parse(Buffer.from(text.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8'));
	} catch {
		parsed = undefined;
	}
	const { s, g, o, r, p } = (parsed ?? {}) as Record<string, unknown>;
	if (typeof s !== 'string' || s === '' || typeof o !== 'string' || o === '' || !Number.isSafeInteger(g) || (g as number) < 0) {
		throw new WatermarkTokenError('it was cut short or changed');
	}
	if (p !== undefined && !(Array.isArray(p) && p.length === 4 && p.every((part) => typeof part === 'string'))) {
		throw new WatermarkTokenError('it was cut short or changed');
	}
	const token: WatermarkToken = { stream: s, generation: g as number, owner: o };
	if (r === 1) token.retryListInUse = true;
	if (p) {
		const [credentialType, credentialId, schema, name] = p as string[];
		token.leasePlace = { credentialType, credentialId, table: { schema, name } };
	}
	return token;
}

// ---------------------------------------------------------------------------------------------------------
// Leases.
// ---------------------------------------------------------------------------------------------------------

export interface Lease {
	owner: string | null;
	/** ISO 8601 UTC; null when nobody holds the stream. */
	expiresAt: string | null;
}

export type LeaseDecision =
	| { kind: 'free' }
	| { kind: 'renew' }
	| { kind: 'takeOver'; previousOwner: string; expiredAt: string }
	| { kind: 'held'; owner: string; until: string };

/**
 * Who may take the stream now. A lease that ends exactly now counts as expired (so a lease of 0 seconds
 * can be taken over at once). The SQL Server adapter states the same rule in its UPDATE's WHERE clause.
 */
export function decideLease(lease: Lease, owner: string, now: Date): LeaseDecision {
	if (lease.owner === null || lease.expiresAt === null) return { kind: 'free' };
	if (lease.owner === owner) return { kind: 'renew' };
	if (Date.parse(lease.expiresAt) <= now.getTime()) {
		return { kind: 'takeOver', previousOwner: lease.owner, expiredAt: lease.expiresAt };
	}
	return { kind: 'held', owner: lease.owner, until: lease.expiresAt };
}

export function heldByAnotherRunMessage(stream: string, owner: string, until: string): string {
	return `Stream "${stream}" is being synced by another run (lease owner "${owner}") until ${until} (UTC). This run read and wrote nothing; the next scheduled run continues where that one stops.`;
}

// ---------------------------------------------------------------------------------------------------------
// Set: how far the items allow the watermark to move.
// ---------------------------------------------------------------------------------------------------------

export interface WrittenItem {
	sync?: SyncInfo;
	status?: WriteStatus;
	error?: unknown;
	/** A failed row refused for its own data (isRowRefusal): the only failure that may be parked and passed. */
	rowRefusal?: boolean;
}

export interface WriteCounts {
	read: number;
	inserted: number;
	updated: number;
	unchanged: number;
	deleted: number;
	ignored: number;
	failed: number;
}

export interface Failure {
	key: Record<string, unknown>;
	error: string;
}

/** A failed row the watermark moved past because Set parks failed rows in the retry list. */
export interface PassedFailure extends Failure {
	/** The cursor just past the row. */
	cursor: string;
}

/** "Failed Rows" of Set: park them in the retry list and move on, or stop before the first one. */
export type FailedRowsRule = 'park' | 'stop';

export type StopReason =
	| { kind: 'failed'; position: number; failure: Failure }
	/** CRM did not take the row for a reason that is not the row's (the batch was refused as a whole). */
	| { kind: 'not taken'; position: number; failure: Failure }
	| { kind: 'missing'; position: number };

export interface WrittenProgress {
	stream?: string;
	/** The cursor the first batch was read from; undefined when no item carries `_sync`. */
	startCursor?: string;
	/** The cursor just past the last row of the gap-free written prefix; undefined when nothing may move. */
	cursor?: string;
	/** What stopped the prefix before the end of the items, if anything. */
	stoppedBy?: StopReason;
	/** Whether everything was written and the source said there is more to read. */
	hasMore: boolean;
	counts: WriteCounts;
	firstFailure?: Failure;
	/** With "park": the failed rows the cursor moves past (each must go into the retry list with the move). */
	passedFailures: PassedFailure[];
}

export class WrittenItemsError extends Error {
	readonly advice =
		'Connect Set to the output of the CRM node of the same run and stream, without merging in items of other runs or streams. Nothing was stored.';

	constructor(message: string) {
		super(message);
		this.name = 'WrittenItemsError';
	}
}

const STATUSES: readonly WriteStatus[] = ['inserted', 'updated', 'unchanged', 'deleted', 'ignored', 'failed'];

/** The error text of a CRM output item's `error` field. */
export function errorText(error: unknown): string {
	if (typeof error === 'string') return error;
	if (error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string') {
		return (error as { message: string }).message;
	}
	return error === undefined ? 'no error message was given' : JSON.stringify(error);
}

interface BatchRow {
	sync: SyncInfo;
	written: boolean;
	rowRefusal: boolean;
	failure?: Failure;
}

interface Batch {
	start: string;
	rows: number;
	/** The batch's rows by their position: an array rather than a Map, as Set sees every row of a re-send. */
	byPosition: Array<BatchRow | undefined>;
}

function collectBatches(items: WrittenItem[]): { batches: Map<string, Batch>; counts: WriteCounts; stream?: string } {
	const counts: WriteCounts = { read: 0, inserted: 0, updated: 0, unchanged: 0, deleted: 0, ignored: 0, failed: 0 };
	const batches = new Map<string, Batch>();
	let stream: string | undefined;
	for (let index = 0; index < items.length; index++) {
		const item = items[index];
		const { sync, status } = item;
		// Rows read again from the retry list stand outside the batch: they never move the cursor.
		if (!sync || sync.retry) continue;
		if (!STATUSES.includes(status as WriteStatus)) {
			throw new WrittenItemsError(
				`Item ${index} has no write status ("${String(status)}"): Set must receive the items the CRM node output, which say whether each row was written`,
			);
		}
		if (stream !== undefined && sync.stream !== stream) {
			throw new WrittenItemsError(`Items of two streams ("${stream}" and "${sync.stream}") reached one Set; use one Set per stream`);
		}
		stream = sync.stream;
		counts.read++;
		counts[status as WriteStatus]++;
		let batch = batches.get(sync.batchStartCursor);
		if (!batch) {
			batch = { start: sync.batchStartCursor, rows: sync.batchRows, byPosition: [] };
			batches.set(sync.batchStartCursor, batch);
		}
		const written = isWritten(status as WriteStatus);
		const failure = written ? undefined : { key: sync.key, error: errorText(item.error) };
		const earlier = rowAt(batch, sync.position);
		// The same row twice (an item duplicated on the way) counts as written only if every copy was.
		if (isPosition(sync.position) && (!earlier || (earlier.written && !written))) batch.byPosition[sync.position] = { sync, written, rowRefusal: item.rowRefusal === true, failure };
	}
	return { batches, counts, stream };
}

/** A place in a batch's array; anything else an item may carry is no row of the batch, and is never reached by position. */
const isPosition = (position: unknown): position is number => Number.isInteger(position) && (position as number) >= 0;

const rowAt = (batch: Batch, position: number): BatchRow | undefined => (isPosition(position) ? batch.byPosition[position] : undefined);

/** Batches in the order they were read: each batch starts where the previous one ended. */
function chainBatches(batches: Map<string, Batch>): Batch[] {
	const endOf = (batch: Batch) => rowAt(batch, batch.rows - 1)?.sync.cursor;
	const ends = new Set([...batches.values()].map(endOf).filter((end): end is string => end !== undefined));
	const firsts = [...batches.values()].filter((batch) => !ends.has(batch.start));
	if (firsts.length !== 1) {
		throw new WrittenItemsError(
			'The items come from batches that do not follow one another (each batch must start where the previous one ended); give Set the items of one run only',
		);
	}
	const chain: Batch[] = [firsts[0]];
	for (;;) {
		const end = endOf(chain[chain.length - 1]);
		const next = end === undefined ? undefined : batches.get(end);
		if (!next || chain.includes(next)) break;
		chain.push(next);
	}
	return chain;
}

/** The failure of the lowest position in the first batch that has one; a search, not a sort of every row of every batch. */
function firstFailureOf(chain: Batch[]): Failure | undefined {
	for (const batch of chain) {
		for (const row of batch.byPosition) if (row?.failure !== undefined) return row.failure;
	}
	return undefined;
}

/**
 * The furthest the watermark may move: to the cursor of the last item of the longest gap-free prefix of
 * written items (positions 0..k all present, none failed), following batch after batch. A failed or missing
 * position stops it there, so no row that was not written is ever passed over. With `failedRows` "park", a
 * failed row does not stop it: it is listed in `passedFailures`, which Set puts in the retry list in the same
 * transaction as the move (a missing row still stops it, and so does a row CRM did not take for a reason that is
 * not its own: parking a whole batch during an outage would hide it). Items without `_sync` (an empty batch) and
 * rows read again from the retry list move nothing.
 */
export function furthestWrittenCursor(items: WrittenItem[], failedRows: FailedRowsRule = 'stop'): WrittenProgress {
	const { batches, counts, stream } = collectBatches(items);
	if (batches.size === 0) return { hasMore: false, counts, passedFailures: [], stream: retriedStream(items) };
	const chain = chainBatches(batches);
	const firstFailure = firstFailureOf(chain);
	let cursor: string | undefined;
	let stoppedBy: StopReason | undefined;
	let lastSync: SyncInfo | undefined;
	const passedFailures: PassedFailure[] = [];
	outer: for (const batch of chain) {
		for (let position = 0; position < batch.rows; position++) {
			const row = batch.byPosition[position];
			if (!row) {
				stoppedBy = { kind: 'missing', position };
				break outer;
			}
			if (!row.written && !row.rowRefusal) {
				stoppedBy = { kind: 'not taken', position, failure: row.failure as Failure };
				break outer;
			}
			if (!row.written && failedRows === 'stop') {
				stoppedBy = { kind: 'failed', position, failure: row.failure as Failure };
				break outer;
			}
			if (!row.written) passedFailures.push({ ...(row.failure as Failure), cursor: row.sync.cursor });
			cursor = row.sync.cursor;
			lastSync = row.sync;
		}
	}
	const retried = retriedStream(items);
	if (retried !== undefined && retried !== stream) {
		throw new WrittenItemsError(`Items of two streams ("${stream}" and "${retried}") reached one Set; use one Set per stream`);
	}
	if (!stoppedBy && chain.length < batches.size) {
		throw new WrittenItemsError('Some items come from a batch that does not follow the others; give Set the items of one run only');
	}
	return {
		stream,
		startCursor: chain[0].start,
		cursor,
		stoppedBy,
		hasMore: !stoppedBy && lastSync?.hasMore === true,
		counts,
		firstFailure,
		passedFailures,
	};
}

/** The stream of items that are all rows read again from the retry list (no batch row to name it). */
function retriedStream(items: WrittenItem[]): string | undefined {
	const streams = new Set<string>();
	for (const { sync } of items) if (sync?.retry) streams.add(sync.stream);
	if (streams.size > 1) throw new WrittenItemsError(`Items of two streams (${[...streams].map((name) => `"${name}"`).join(' and ')}) reached one Set; use one Set per stream`);
	return [...streams][0];
}

/** Reads `_sync`, `status` and `error` from n8n items as the CRM node outputs them. */
export function writtenItemOf(json: Record<string, unknown>): WrittenItem {
	return {
		sync: json[SYNC_FIELD] as SyncInfo | undefined,
		status: json.status as WriteStatus | undefined,
		error: json.error,
		rowRefusal: isRowRefusal(json),
	};
}

// ---------------------------------------------------------------------------------------------------------
// Set: the compare-and-set.
// ---------------------------------------------------------------------------------------------------------

/** What the store finds when Set arrives, before it writes anything. */
export interface StoredForSet {
	exists: boolean;
	/** The stored cursor, in the form the store keeps it (see watermarkLocation.ts). */
	storedCursor: string | null;
	/** The last generation at which a rewind or an undo replaced the cursor. */
	rewoundAtGeneration: number;
	leaseOwner: string | null;
	/** ISO 8601 UTC; null when nobody holds the stream. */
	leaseExpiresAt: string | null;
}

export type CommitVerdict = 'store' | 'nothing to store' | 'unknown stream' | 'lease lost' | 'rewound meanwhile' | 'not where the batch started';

/**
 * The compare-and-set Set makes. Every cursor Set applies came from reading after a stored cursor, so it is
 * ahead of the stored cursor exactly when the batch was read from that stored cursor and nobody replaced it
 * since the token was handed out:
 * - the lease must still be the token's and not expired (the rule of leaseIsLive, which the CRM write's lease
 *   guard applies too: a run past its lease writes nothing, and stores nothing);
 * - no rewind or undo may have happened after the token's generation (this run's own earlier Sets between
 *   batches bump the generation too, but do not count: they are the run moving forward);
 * - the stored cursor must be the one the batch was read from (compared in stored form, never ordered as
 *   text), which also refuses the same batch stored twice or an old execution's items.
 * "Allow Moving Backwards" waives the last two, never the first.
 */
export function decideCommit(
	stored: StoredForSet,
	token: WatermarkToken,
	move: { fromStored: string | null; to: string } | undefined,
	allowBackwards: boolean,
	now: Date,
): CommitVerdict {
	return decide(COMMIT_VERDICTS, {
		streamRow: stored.exists ? 1 : null,
		leaseOwner: stored.leaseOwner,
		tokenOwner: token.owner,
		leaseExpiresAt: stored.leaseExpiresAt === null ? null : Date.parse(stored.leaseExpiresAt),
		now: now.getTime(),
		hasNewCursor: move !== undefined,
		allowBackwards,
		rewoundAtGeneration: stored.rewoundAtGeneration,
		tokenGeneration: token.generation,
		storedCursor: stored.storedCursor,
		batchStart: move === undefined ? null : move.fromStored,
	});
}

/**
 * What decideCommit looks at. `streamRow` is anything known when the stream has a row; `storedCursor` and
 * `batchStart` are stored forms (comparableStoredValue), compared as text, never ordered.
 */
export type CommitFact =
	| LeaseFact
	| 'streamRow'
	| 'hasNewCursor'
	| 'allowBackwards'
	| 'rewoundAtGeneration'
	| 'tokenGeneration'
	| 'storedCursor'
	| 'batchStart';

/** decideCommit's rules, also rendered as the verdict CASE of the SQL Server store's Set (commitSql). */
export const COMMIT_VERDICTS: DecisionTable<CommitFact, CommitVerdict> = {
	rules: [
		{ outcome: 'unknown stream', when: isNull('streamRow') },
		{ outcome: 'lease lost', when: not(LEASE_IS_LIVE) },
		{ outcome: 'nothing to store', when: not(isTrue('hasNewCursor')) },
		{ outcome: 'rewound meanwhile', when: all(not(isTrue('allowBackwards')), greater('rewoundAtGeneration', 'tokenGeneration')) },
		{ outcome: 'not where the batch started', when: all(not(isTrue('allowBackwards')), not(sameText('storedCursor', 'batchStart'))) },
	],
	otherwise: 'store',
};

/**
 * Whether Set gives the lease up: when asked, and always when the store refused to move (the run has to stop,
 * and holding the stream until the lease expires would only make the next run wait). Never a lease it lost.
 */
export function releasesLease(verdict: CommitVerdict, releaseRequested: boolean): boolean {
	if (verdict === 'lease lost' || verdict === 'unknown stream') return false;
	return releaseRequested || verdict === 'rewound meanwhile' || verdict === 'not where the batch started';
}

/**
 * Whether Set gives the lease up, as asked, or because no batch of this run follows: holding a stream that
 * the run will not read again would only make the next scheduled run wait for the lease to expire.
 */
export function leaseGoesWithThisSet(releaseRequested: boolean, progress: WrittenProgress): boolean {
	return releaseRequested || !progress.hasMore;
}

/**
 * Whether Set extends the lease (by the lease seconds Get asked for): when it keeps the lease between the
 * batches of a run, so a long run (a full re-send after a rewind) never loses the stream between batches.
 */
export function renewsLease(verdict: CommitVerdict, releaseRequested: boolean): boolean {
	return !releaseRequested && (verdict === 'store' || verdict === 'nothing to store');
}

export type SetOutcome =
	| 'advanced'
	| 'nothing to store'
	| 'stopped at a row that failed'
	| 'stopped: CRM did not take the rows'
	| 'stopped at a missing row'
	| 'not stored: rewound meanwhile'
	| 'not stored: lease lost'
	| 'not stored: not where the batch started'
	| 'not stored: unknown stream';

/** The plain-words outcome of a Set, from the store's verdict and what the items allowed. */
export function setOutcome(verdict: CommitVerdict, progress: WrittenProgress): SetOutcome {
	switch (verdict) {
		case 'unknown stream':
			return 'not stored: unknown stream';
		case 'lease lost':
			return 'not stored: lease lost';
		case 'rewound meanwhile':
			return 'not stored: rewound meanwhile';
		case 'not where the batch started':
			return 'not stored: not where the batch started';
		case 'nothing to store':
		case 'store':
			if (progress.stoppedBy?.kind === 'failed') return 'stopped at a row that failed';
			if (progress.stoppedBy?.kind === 'not taken') return 'stopped: CRM did not take the rows';
			if (progress.stoppedBy?.kind === 'missing') return 'stopped at a missing row';
			return verdict === 'store' ? 'advanced' : 'nothing to store';
	}
}

/** One sentence for the Set output that says what happened and what to do. */
export function explainSetOutcome(outcome: SetOutcome, stream: string, progress: WrittenProgress, leaseOwner?: string | null, readAgain = 0): string {
	switch (outcome) {
		case 'advanced':
			if (progress.passedFailures.length > 0) {
				return `Stream "${stream}": ${progress.counts.read - progress.passedFailures.length} of ${progress.counts.read} rows written; the ${progress.passedFailures.length} that failed are in the retry list (the next runs try them first) and the watermark moved past all of them.`;
			}
			return `Stream "${stream}": ${progress.counts.read} rows written, the watermark moved past all of them.`;
		case 'nothing to store':
			return `Stream "${stream}": no rows to store; the watermark stays where it was.`;
		case 'stopped at a row that failed': {
			const stop = progress.stoppedBy as Extract<StopReason, { kind: 'failed' }>;
			return `Stream "${stream}": the row ${JSON.stringify(stop.failure.key)} was not written (${stop.failure.error}). The watermark moved only up to the row before it, so that row and everything after it are read again next time.`;
		}
		case 'stopped: CRM did not take the rows': {
			const stop = progress.stoppedBy as Extract<StopReason, { kind: 'not taken' }>;
			return `Stream "${stream}": CRM did not take the rows from ${JSON.stringify(stop.failure.key)} on (${stop.failure.error}). That is not a fault of the rows, so none was parked: the watermark moved only up to the row before it, and the next run sends them again.`;
		}
		case 'stopped at a missing row':
			return `Stream "${stream}": row ${(progress.stoppedBy as StopReason).position} of its batch never reached Set (filtered out or lost on the way). The watermark moved only up to the row before it.`;
		case 'not stored: rewound meanwhile':
			return `Stream "${stream}" was rewound (or a rewind undone) while this run was working, so this run did not store its position: the rewind wins. The next run starts from the rewound point.`;
		case 'not stored: lease lost':
			return `Stream "${stream}" is no longer held by this run${leaseOwner ? ` (now held by "${leaseOwner}")` : ''}, so this run did not store its position${readAgain > 0 ? `, and the ${readAgain} rows it wrote are in the retry list, so the next run reads them again` : ''}. Its lease expired or was released; raise "Lease Seconds" on Get if a batch takes longer than the lease.`;
		case 'not stored: not where the batch started':
			return `Stream "${stream}": the stored watermark is no longer the one these rows were read from (the same batch was stored already, or the items come from an older run), so nothing was stored. Nothing is lost: the stored watermark stays.`;
		case 'not stored: unknown stream':
			return `Stream "${stream}" has no watermark yet: run Get first.`;
	}
}

// ---------------------------------------------------------------------------------------------------------
// The lease handed from one batch of a run to the next.
// ---------------------------------------------------------------------------------------------------------

/**
 * What a Set that keeps the lease (more rows wait) hands the next batch of the same run: the lease it has just
 * renewed and the cursor it stored, so that batch's Get needs no round trip. Safe without asking the store again:
 * the CRM write checks the lease in its own transaction, and Set stores only if the generation is still this one
 * (a rewind or a takeover in between makes that batch store nothing and end the run).
 */
export interface NextBatchLease {
	stream: string;
	cursor: string | null;
	token: string;
	generation: number;
	leaseOwner: string;
	leaseExpiresAt: string | null;
	timeZone: string;
	retryListInUse: boolean;
	/** The read window of the run's first batch (SyncInfo.window), so later batches read up to the same bound. */
	window?: ReadWindow;
}

/** The handed-on lease, when it is for this stream and this run's lease owner and still reads as one; else undefined (Get asks the store). */
export function nextBatchLeaseFor(handed: unknown, stream: string, owner: string): NextBatchLease | undefined {
	if (typeof handed !== 'object' || handed === null) return undefined;
	const lease = handed as Partial<NextBatchLease>;
	if (lease.stream !== stream || lease.leaseOwner !== owner || typeof lease.token !== 'string') return undefined;
	try {
		const token = decodeToken(lease.token);
		if (token.stream !== stream || token.owner !== owner || token.generation !== lease.generation) return undefined;
	} catch {
		return undefined;
	}
	if (typeof lease.timeZone !== 'string' || (lease.cursor !== null && typeof lease.cursor !== 'string')) return undefined;
	return lease as NextBatchLease;
}
