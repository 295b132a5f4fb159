import type { QualifiedName } from '../../shared/core/identifiers';
import type { RetryChange, RetryEntry, RetryRules } from '../../shared/core/retryList';
import type { HistoryAction } from '../../shared/core/rewind';
import type { CommitVerdict, WatermarkToken } from '../../shared/core/watermark';
import type { CursorLocation } from '../../shared/core/watermarkLocation';
import type { SchemaCache } from '../../shared/schemaCache';
import { defineSeam } from '../../shared/seams';
import type { SqlTransport } from '../../shared/transport/types';
import { SqlServerWatermarkStore } from './sqlServerWatermarkStore';

/** Which workflow and execution made a change; recorded in the history. */
export interface AuditInfo {
	workflowId: string | null;
	executionId: string | null;
}

/** A stream's watermark as stored. Times are ISO 8601 UTC. */
export interface StreamState {
	stream: string;
	/** The stored cursor (in the form its location keeps it, see watermarkLocation.ts); null: from the beginning. */
	cursor: string | null;
	/** Bumped by every Set that stores, every Rewind and every Undo. */
	generation: number;
	/** The generation of the latest Rewind or Undo; a token older than this cannot store. */
	rewoundAtGeneration: number;
	timeZone: string;
	leaseOwner: string | null;
	leaseExpiresAt: string | null;
	/** When the cursor last changed. */
	cursorChangedAt: string;
	location: CursorLocation;
}

export interface AcquireRequest {
	stream: string;
	owner: string;
	leaseSeconds: number;
	/** Used the first time only (and, for an existing table, only when its row holds no value yet). */
	startingCursor: string | null;
	/** Recorded in the history with the first use, e.g. "Starting point: from the beginning". */
	startingReason: string;
	timeZone: string;
	location: CursorLocation;
	audit: AuditInfo;
}

/** The stream's retry list as Get sees it. */
export interface RetryListAtGet {
	/** Entries not parked, least recently tried first, when the lease was just taken (see dueRetries); else empty. */
	due: RetryEntry[];
	/** Every entry of the stream, parked ones included. */
	size: number;
}

export type AcquireResult =
	| {
			kind: 'acquired';
			state: StreamState;
			firstUse: boolean;
			takenOverFrom?: { owner: string; expiredAt: string };
			retry: RetryListAtGet;
	  }
	| { kind: 'held'; owner: string; until: string };

export interface CommitRequest {
	token: WatermarkToken;
	/**
	 * The move the items allow: from the cursor their first batch was read from (null: the beginning) to the
	 * cursor to store. Undefined: nothing may move (the lease may still be released).
	 */
	move?: { from: string | null; to: string };
	allowBackwards: boolean;
	releaseLease: boolean;
	audit: AuditInfo;
	/**
	 * The retry list's changes (see retryListChanges), applied in the same transaction, only when the verdict is
	 * "store" or "nothing to store": a run that lost the lease or was refused changes nothing.
	 */
	retry?: { changes: RetryChange[]; rules: RetryRules };
}

export interface RetryListOutcome {
	/** Keys taken off the list. */
	removed: number;
	/** Keys that failed again (or for the first time) and stay in the list. */
	failing: number;
	/** Entries this Set parked (Max Attempts reached). */
	newlyParked: RetryEntry[];
}

export interface CommitResult {
	verdict: CommitVerdict;
	/** Present when the request had retry changes and they were applied. */
	retry?: RetryListOutcome;
	/** The stored cursor before this Set. */
	previousCursor: string | null;
	/** The state after this Set; undefined for an unknown stream. */
	state?: StreamState;
}

export interface ReplaceRequest {
	stream: string;
	/** Compare-and-set: replaced only if the stream is still at this generation. */
	expectedGeneration: number;
	cursor: string | null;
	/** 'repair': a readable cursor edited by hand, stored again in this package's form (see normalisedCursor). */
	action: 'rewind' | 'undo' | 'repair';
	reason: string;
	audit: AuditInfo;
}

export interface ReplaceResult {
	replaced: boolean;
	state?: StreamState;
}

export interface HistoryEntry {
	id: number;
	stream: string;
	oldCursor: string | null;
	newCursor: string | null;
	changedAt: string;
	workflowId: string | null;
	executionId: string | null;
	action: HistoryAction;
	reason: string | null;
}

/**
 * Where the Watermark node keeps streams. Every method is one atomic step: the SQL Server adapter sends one
 * batch in one transaction, so two runs started together cannot both get a lease, and a Rewind made during
 * a run is never overwritten by that run's Set.
 */
export interface WatermarkStore {
	/** Takes (or renews) the stream's lease, creating the stream at its starting point the first time. */
	acquire(request: AcquireRequest): Promise<AcquireResult>;
	/** Set: stores the cursor if the token still holds (see decideCommit), and releases the lease if asked. */
	commit(request: CommitRequest): Promise<CommitResult>;
	read(stream: string): Promise<StreamState | undefined>;
	streamNames(): Promise<string[]>;
	/** Rewind and Undo: replaces the cursor if the stream is still at the expected generation. */
	replaceCursor(request: ReplaceRequest): Promise<ReplaceResult>;
	/** Newest first. */
	history(stream: string, limit: number): Promise<HistoryEntry[]>;
	/** The latest history entry changed at or before `at` (ISO UTC) that set a cursor. */
	entryInEffectAt(stream: string, at: string): Promise<HistoryEntry | undefined>;
	/** The stream's rewinds and undos, newest first. */
	rewindsAndUndos(stream: string): Promise<HistoryEntry[]>;
	/** The stream's retry list, parked entries included, least recently tried first. */
	retryList(stream: string): Promise<RetryEntry[]>;
	/**
	 * "Retry Parked Rows Again": the given keys (all parked keys when undefined) are retried again from 0 attempts,
	 * or taken off the list. Returns how many entries changed.
	 */
	changeRetryEntries(stream: string, keys: Array<Record<string, unknown>> | undefined, action: 'retryAgain' | 'remove'): Promise<number>;
	/**
	 * Puts keys a run wrote after it lost its lease into the retry list (0 attempts, `reason` as the last error), unless
	 * listed already, so the next run reads their current rows again. Returns how many were added.
	 */
	readAgain(stream: string, rows: Array<{ key: Record<string, unknown>; cursor: string | null }>, reason: string): Promise<number>;
	/** Keeps the stream's latest run start or finish (with its summary), replacing the one before. */
	recordRun(request: RunEventRequest): Promise<void>;
	/**
	 * Status: one stream (or every stream, when null) with its retry list counts, at most `retryEntries` of its
	 * entries (parked first), and its latest recorded run. Read-only: creates no table.
	 */
	status(stream: string | null, retryEntries: number): Promise<StatusAnswer>;
}

/** What the sync workflow records around each stream's run (Watermark → Record Run). */
export interface RunEventRequest {
	stream: string;
	event: 'started' | 'finished';
	/** The run's summary item, for "finished". */
	summary?: Record<string, unknown>;
	audit: AuditInfo;
}

export interface RecordedRunEvent {
	/** ISO UTC, by the store's clock. */
	at: string;
	workflowId: string | null;
	executionId: string | null;
}

/** A stream as the Status operation reports it, read in one step. */
export interface StreamStatus {
	state: StreamState;
	retry: { waiting: number; parked: number; entries: RetryEntry[] };
	lastStarted?: RecordedRunEvent;
	lastFinished?: RecordedRunEvent & { summary: Record<string, unknown> };
}

export interface StatusAnswer {
	/** The store's clock (ISO UTC), which leases and run times are compared with. */
	now: string;
	streams: StreamStatus[];
}

export interface WatermarkTables {
	state: QualifiedName;
	history: QualifiedName;
	/** The retry list; when absent, the state table's name followed by "Retry" (see retryTableOf). */
	retry?: QualifiedName;
}

export const DEFAULT_WATERMARK_TABLES: WatermarkTables = {
	state: { schema: 'dbo', name: 'ContractingCrmWatermark' },
	history: { schema: 'dbo', name: 'ContractingCrmWatermarkHistory' },
};

/** `schema`: what the pool's executions already know of the database (schemaCache.ts). */
export type WatermarkStoreFactory = (transport: SqlTransport, tables: WatermarkTables, schema?: SchemaCache) => WatermarkStore;

/** The store the Watermark node uses: SQL Server in production, the in-memory store in tests. */
export const watermarkStoreSeam = defineSeam<WatermarkStoreFactory>(
	'watermarkStore',
	(transport, tables, schema) => new SqlServerWatermarkStore(transport, tables, schema),
);
