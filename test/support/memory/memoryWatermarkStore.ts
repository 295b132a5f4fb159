import type { CursorKind } from '../../../nodes/shared/core/cursor';
import { parseCursor } from '../../../nodes/shared/core/cursor';
import { leaseIsLive } from '../../../nodes/shared/core/leaseGuard';
import { decideCommit, decideLease, releasesLease, renewsLease } from '../../../nodes/shared/core/watermark';
import type { CursorLocation } from '../../../nodes/shared/core/watermarkLocation';
import { CursorLocationError, comparableStoredValue, cursorBesidePair, describeLocation, exactBesidePair, storedValueOf } from '../../../nodes/shared/core/watermarkLocation';
import type {
	AcquireRequest,
	AcquireResult,
	AuditInfo,
	CommitRequest,
	CommitResult,
	HistoryEntry,
	ReplaceRequest,
	ReplaceResult,
	RecordedRunEvent,
	RetryListOutcome,
	RunEventRequest,
	StatusAnswer,
	StreamState,
	StreamStatus,
	WatermarkStore,
} from '../../../nodes/Watermark/stores/watermarkStore';
import type { HistoryAction } from '../../../nodes/shared/core/rewind';
import type { RetryEntry, RetryRules, RetryChange } from '../../../nodes/shared/core/retryList';
import { dueRetries, nextRetryEntry, parkingEndsTheRun, retryKeyText } from '../../../nodes/shared/core/retryList';
import { parameterProblem } from '../../../nodes/shared/transport/sendableParameters';

interface Row {
	stream: string;
	/**
	 * The stored value for the package table; for an existing table it lives in `existingRows`, and for a date + time
	 * pair this is the exact cursor kept beside it (cursorBesidePair).
	 */
	value: string | null;
	kind: CursorKind | null;
	generation: number;
	rewoundAtGeneration: number;
	timeZone: string;
	leaseOwner: string | null;
	leaseExpiresAt: string | null;
	leaseSeconds: number;
	cursorChangedAt: string;
	location: CursorLocation;
}

export type Clock = () => Date;

/**
 * A bit parameter as the SQL Server adapter's transport takes it: one that is not true, false, 1, 0 or NULL is refused
 * before anything is sent (parameterProblem, the transport's own rule), so the twin is never kinder than SQL Server.
 */
function asBitParameter(name: string, value: boolean): boolean {
	const problem = parameterProblem({ name, type: { name: 'bit' }, value });
	if (problem) throw new Error(problem);
	return Boolean(value);
}

/**
 * The in-memory watermark store: the same meaning as the SQL Server adapter, each method one synchronous
 * step (so, like one T-SQL transaction, nothing interleaves inside it), with a clock the test controls.
 * Existing tables (the "Store Cursor In" option) are modelled as rows the test seeds with `seedExistingRow`.
 */
export class MemoryWatermarkStore implements WatermarkStore {
	private readonly rows = new Map<string, Row>();
	private readonly entries: HistoryEntry[] = [];
	private readonly existingRows = new Map<string, string | null>();
	/** Per stream: key text -> entry. */
	private readonly retries = new Map<string, Map<string, RetryEntry>>();
	private nextId = 1;
	/** Per stream: the latest recorded run start and finish. */
	private readonly runs = new Map<string, Pick<StreamStatus, 'lastStarted' | 'lastFinished'>>();

	constructor(private readonly clock: Clock = () => new Date()) {}

	seedExistingRow(location: CursorLocation, storedValue: string | null): void {
		this.existingRows.set(describeLocation(location), storedValue);
	}

	/** What someone editing the table by hand would leave: a stored value this package did not write. */
	editByHand(stream: string, storedValue: string): void {
		const row = this.rows.get(stream);
		if (!row) throw new Error(`no stream ${stream}`);
		row.value = storedValue;
	}

	existingRowValue(location: CursorLocation): string | null | undefined {
		return this.existingRows.get(describeLocation(location));
	}

	private leaseEndFrom(now: Date, seconds: number): string {
		return new Date(now.getTime() + seconds * 1000).toISOString();
	}

	private now(): string {
		return this.clock().toISOString();
	}

	private valueOf(row: Row): string | null {
		return row.location.kind === 'packageTable' ? row.value : (this.existingRows.get(describeLocation(row.location)) ?? null);
	}

	/** `exact`: what a Set keeps beside a date + time pair (Rewind, Undo and a first use keep nothing). */
	private write(row: Row, cursor: string | null, exact: string | null = null): void {
		const value = storedValueOf(cursor, row.location);
		row.kind = cursor === null ? row.kind : parseCursor(cursor).kind;
		if (row.location.kind === 'packageTable') row.value = value;
		else this.existingRows.set(describeLocation(row.location), value);
		if (row.location.kind === 'dateAndTimeColumns') row.value = exact;
	}

	private stateOf(row: Row): StreamState {
		return {
			stream: row.stream,
			cursor: cursorBesidePair(this.valueOf(row), row.location, row.kind, row.location.kind === 'dateAndTimeColumns' ? row.value : null),
			generation: row.generation,
			rewoundAtGeneration: row.rewoundAtGeneration,
			timeZone: row.timeZone,
			leaseOwner: row.leaseOwner,
			leaseExpiresAt: row.leaseExpiresAt,
			cursorChangedAt: row.cursorChangedAt,
			location: row.location,
		};
	}

	private record(stream: string, oldCursor: string | null, newCursor: string | null, action: HistoryAction, reason: string | null, audit: AuditInfo) {
		this.entries.push({ id: this.nextId++, stream, oldCursor, newCursor, changedAt: this.now(), ...audit, action, reason });
	}

	async acquire(request: AcquireRequest): Promise<AcquireResult> {
		if (request.location.kind !== 'packageTable' && !this.existingRows.has(describeLocation(request.location))) {
			throw new CursorLocationError(`No row in ${describeLocation(request.location)}`);
		}
		const now = this.clock();
		let row = this.rows.get(request.stream);
		if (row && JSON.stringify(row.location) !== JSON.stringify(request.location)) {
			throw new CursorLocationError(
				`Stream "${request.stream}" keeps its watermark in ${describeLocation(row.location)}, but this node is set to keep it in ${describeLocation(request.location)}. Set "Store Cursor In" as before, or use a new stream name`,
			);
		}
		const firstUse = !row;
		if (!row) {
			row = {
				stream: request.stream,
				value: null,
				kind: null,
				generation: 0,
				rewoundAtGeneration: 0,
				timeZone: request.timeZone,
				leaseOwner: null,
				leaseExpiresAt: null,
				leaseSeconds: request.leaseSeconds,
				cursorChangedAt: this.now(),
				location: request.location,
			};
			if (this.valueOf(row) === null) this.write(row, request.startingCursor);
			else row.kind = request.startingCursor === null ? null : parseCursor(request.startingCursor).kind;
			this.rows.set(request.stream, row);
			this.record(request.stream, null, this.stateOf(row).cursor, 'first use', request.startingReason, request.audit);
		}
		const decision = decideLease({ owner: row.leaseOwner, expiresAt: row.leaseExpiresAt }, request.owner, now);
		if (decision.kind === 'held') return { kind: 'held', owner: decision.owner, until: decision.until };
		row.leaseOwner = request.owner;
		row.leaseSeconds = request.leaseSeconds;
		row.leaseExpiresAt = this.leaseEndFrom(now, row.leaseSeconds);
		row.timeZone = request.timeZone;
		if (decision.kind === 'takeOver') {
			const cursor = this.stateOf(row).cursor;
			this.record(
				request.stream,
				cursor,
				cursor,
				'takeover',
				`The lease of "${decision.previousOwner}" had expired at ${decision.expiredAt} UTC`,
				request.audit,
			);
		}
		const entries = this.retryEntries(request.stream);
		return {
			kind: 'acquired',
			state: this.stateOf(row),
			firstUse,
			takenOverFrom: decision.kind === 'takeOver' ? { owner: decision.previousOwner, expiredAt: decision.expiredAt } : undefined,
			retry: { due: dueRetries(entries, decision.kind !== 'renew'), size: entries.length },
		};
	}

	async commit(request: CommitRequest): Promise<CommitResult> {
		const row = this.rows.get(request.token.stream);
		if (!row) return { verdict: 'unknown stream', previousCursor: null };
		const storedValue = this.valueOf(row);
		const previousCursor = this.stateOf(row).cursor;
		const { move } = request;
		const verdict = decideCommit(
			{ exists: true, storedCursor: comparableStoredValue(storedValue), rewoundAtGeneration: row.rewoundAtGeneration, leaseOwner: row.leaseOwner, leaseExpiresAt: row.leaseExpiresAt },
			request.token,
			move && { fromStored: comparableStoredValue(storedValueOf(move.from, row.location)), to: move.to },
			asBitParameter('allowBackwards', request.allowBackwards),
			this.clock(),
		);
		if (verdict === 'store' && move) {
			this.write(row, move.to, exactBesidePair(move.to, row.location));
			row.generation++;
			row.cursorChangedAt = this.now();
			this.record(row.stream, previousCursor, this.stateOf(row).cursor, 'set', null, request.audit);
		}
		const retry = request.retry && (verdict === 'store' || verdict === 'nothing to store') ? this.applyRetryChanges(row.stream, request.retry) : undefined;
		const releaseForParked = retry !== undefined && request.retry !== undefined && parkingEndsTheRun(request.retry.rules, retry.newlyParked);
		if (releasesLease(verdict, request.releaseLease || releaseForParked)) {
			row.leaseOwner = null;
			row.leaseExpiresAt = null;
		} else if (renewsLease(verdict, request.releaseLease)) {
			row.leaseExpiresAt = this.leaseEndFrom(this.clock(), row.leaseSeconds);
		}
		return { verdict, previousCursor, state: this.stateOf(row), ...(retry ? { retry } : {}) };
	}

	private applyRetryChanges(stream: string, retry: { changes: RetryChange[]; rules: RetryRules }): RetryListOutcome {
		const list = this.retries.get(stream) ?? new Map<string, RetryEntry>();
		this.retries.set(stream, list);
		const outcome: RetryListOutcome = { removed: 0, failing: 0, newlyParked: [] };
		for (const change of retry.changes) {
			const text = retryKeyText(change.key);
			const existing = list.get(text);
			const next = nextRetryEntry(stream, existing, change, retry.rules.maxAttempts, this.now());
			if (!next.entry) {
				if (existing) outcome.removed++;
				list.delete(text);
				continue;
			}
			list.set(text, next.entry);
			outcome.failing++;
			if (next.newlyParked) outcome.newlyParked.push({ ...next.entry });
		}
		return outcome;
	}

	private retryEntries(stream: string): RetryEntry[] {
		return [...(this.retries.get(stream)?.values() ?? [])]
			.sort((a, b) => Date.parse(a.lastTriedAt) - Date.parse(b.lastTriedAt))
			.map((entry) => structuredClone(entry));
	}

	async retryList(stream: string): Promise<RetryEntry[]> {
		return this.retryEntries(stream);
	}

	async changeRetryEntries(stream: string, keys: Array<Record<string, unknown>> | undefined, action: 'retryAgain' | 'remove'): Promise<number> {
		const list = this.retries.get(stream);
		if (!list) return 0;
		const chosen = keys === undefined ? [...list.entries()].filter(([, entry]) => entry.parked).map(([text]) => text) : keys.map(retryKeyText).filter((text) => list.has(text));
		for (const text of chosen) {
			if (action === 'remove') list.delete(text);
			else list.set(text, { ...(list.get(text) as RetryEntry), attempts: 0, parked: false });
		}
		return chosen.length;
	}

	async readAgain(stream: string, rows: Array<{ key: Record<string, unknown>; cursor: string | null }>, reason: string): Promise<number> {
		const list = this.retries.get(stream) ?? new Map<string, RetryEntry>();
		this.retries.set(stream, list);
		let added = 0;
		for (const row of rows) {
			const text = retryKeyText(row.key);
			if (list.has(text)) continue;
			list.set(text, { stream, key: structuredClone(row.key), cursor: row.cursor, attempts: 0, lastError: reason, firstFailedAt: this.now(), lastTriedAt: this.now(), parked: false });
			added++;
		}
		return added;
	}

	/** The lease guard of a CRM write in this database (leaseGuard.ts): the stream's lease is this owner's and live now. */
	holdsLiveLease(stream: string, owner: string): boolean {
		const row = this.rows.get(stream);
		return row !== undefined && leaseIsLive({ owner: row.leaseOwner, expiresAt: row.leaseExpiresAt }, owner, this.clock());
	}

	async read(stream: string): Promise<StreamState | undefined> {
		const row = this.rows.get(stream);
		return row ? this.stateOf(row) : undefined;
	}

	async streamNames(): Promise<string[]> {
		return [...this.rows.keys()].sort();
	}

	async replaceCursor(request: ReplaceRequest): Promise<ReplaceResult> {
		const row = this.rows.get(request.stream);
		if (!row) return { replaced: false };
		if (row.generation !== request.expectedGeneration) return { replaced: false, state: this.stateOf(row) };
		const previous = this.stateOf(row).cursor;
		this.write(row, request.cursor);
		row.generation++;
		row.rewoundAtGeneration = row.generation;
		row.cursorChangedAt = this.now();
		this.record(row.stream, previous, this.stateOf(row).cursor, request.action, request.reason, request.audit);
		return { replaced: true, state: this.stateOf(row) };
	}

	async history(stream: string, limit: number): Promise<HistoryEntry[]> {
		return this.newestFirst(stream).slice(0, limit);
	}

	async entryInEffectAt(stream: string, at: string): Promise<HistoryEntry | undefined> {
		return this.newestFirst(stream).find((entry) => Date.parse(entry.changedAt) <= Date.parse(at) && entry.action !== 'takeover');
	}

	async rewindsAndUndos(stream: string): Promise<HistoryEntry[]> {
		return this.newestFirst(stream).filter((entry) => entry.action === 'rewind' || entry.action === 'undo');
	}

	private newestFirst(stream: string): HistoryEntry[] {
		return this.entries.filter((entry) => entry.stream === stream).sort((a, b) => b.id - a.id).map((entry) => ({ ...entry }));
	}

	async recordRun(request: RunEventRequest): Promise<void> {
		const event: RecordedRunEvent = { at: this.now(), workflowId: request.audit.workflowId, executionId: request.audit.executionId };
		const runs = this.runs.get(request.stream) ?? {};
		if (request.event === 'started') runs.lastStarted = event;
		else runs.lastFinished = { ...event, summary: structuredClone(request.summary ?? {}) };
		this.runs.set(request.stream, runs);
	}

	async status(stream: string | null, retryEntries: number): Promise<StatusAnswer> {
		const names = stream === null ? await this.streamNames() : this.rows.has(stream) ? [stream] : [];
		const streams = names.map((name): StreamStatus => {
			const entries = this.retryEntries(name);
			const parked = entries.filter((entry) => entry.parked);
			const runs = structuredClone(this.runs.get(name) ?? {});
			return {
				state: this.stateOf(this.rows.get(name) as Row),
				retry: {
					waiting: entries.length - parked.length,
					parked: parked.length,
					// Parked first, then least recently tried, as the SQL Server store lists them.
					entries: [...parked, ...entries.filter((entry) => !entry.parked)].slice(0, retryEntries),
				},
				...runs,
			};
		});
		return { now: this.now(), streams };
	}
}
