/**
 * The retry list: rows CRM refused, kept per stream so that a refused row is neither skipped silently nor blocks
 * the rows behind it. Set puts a failed row in the list in the same transaction as it moves the watermark past
 * it; the next run's Get hands the list's keys to the read, which reads their CURRENT rows first; Set then takes a
 * row that was written off the list, and counts another attempt for one that failed again. After "Max Attempts"
 * a row stays in the list as parked: it is no longer retried, and it is reported. No I/O here; both watermark
 * stores apply these rules (the SQL Server adapter states them in T-SQL).
 */
import type { Condition, DecisionTable } from './decisionTable';
import { any, atLeast, decide, holds, isTrue } from './decisionTable';
import type { QualifiedName } from './identifiers';
import { ChangeSourceError } from './markers';
import { isWritten } from './syncItem';
import type { WrittenItem, WrittenProgress } from './watermark';
import { errorText } from './watermark';

export const DEFAULT_MAX_ATTEMPTS = 5;
export const MAX_ATTEMPTS_LIMIT = 100;
/**
 * Keys Get hands to one run at most; the rest are due at the next run. Well above a whole batch of the shipped sync
 * (4,000): rows refused together (a CRM constraint refusing every row until someone fixes it) come back in one run
 * once it is fixed, and a list filled faster than it is retried can still drain. The read fetches them in chunks of
 * 2,000 parameters, so 10,000 one-column keys cost 5 round trips.
 */
export const MAX_RETRY_KEYS_PER_RUN = 10_000;

/** A row of the retry list as stored. Times are ISO 8601 UTC. */
export interface RetryEntry {
	stream: string;
	/** The row's key, column name to value, as the source gave it. */
	key: Record<string, unknown>;
	/** The cursor just past the row when it was first passed over (null when it failed as a retried row only). */
	cursor: string | null;
	attempts: number;
	lastError: string;
	firstFailedAt: string;
	lastTriedAt: string;
	/** Reached Max Attempts: kept and shown, no longer retried until "Retry Parked Rows Again". */
	parked: boolean;
}

/** What Get outputs under `retry`, and what the read takes under "Retry Keys". */
export interface DueRetry {
	key: Record<string, unknown>;
	attempts: number;
	lastError: string;
}

/** What one Set does to one key of the list. */
export type RetryChange =
	| { kind: 'written'; key: Record<string, unknown> }
	| { kind: 'failed'; key: Record<string, unknown>; cursor: string | null; error: string };

/** The options of Set that rule the list. */
export interface RetryRules {
	maxAttempts: number;
	/** Give the lease up when a row is parked: Set then fails the execution, and no batch of this run follows. */
	releaseLeaseWhenParked: boolean;
}

/**
 * Whether this Set's parking ends the run: a row reached Max Attempts and the rules give the lease up for it
 * (Set then fails the execution after storing, so no batch of this run follows). The SQL Server store states the
 * same rule in commitSql.
 */
export function parkingEndsTheRun(rules: RetryRules, newlyParked: readonly unknown[]): boolean {
	return rules.releaseLeaseWhenParked && newlyParked.length > 0;
}

/** The retry list table; defaults to the watermark table's name followed by "Retry". */
export function retryTableOf(tables: { state: QualifiedName; retry?: QualifiedName }): QualifiedName {
	return tables.retry ?? { schema: tables.state.schema, name: `${tables.state.name}Retry` };
}

/** A key's identity in the list: its columns and values as JSON, columns in name order (so the order never matters). */
export function retryKeyText(key: Record<string, unknown>): string {
	const names = Object.keys(key).sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
	return JSON.stringify(Object.fromEntries(names.map((name) => [name, key[name]])));
}

/**
 * What Set does to the list, key by key, from the items it was given:
 * - a row read again from the list: written → off the list; refused for its own data → another attempt; not
 *   taken for another reason (the batch refused as a whole, an outage) → nothing: that attempt says nothing of
 *   the row, and counting it would park a whole list during an outage;
 * - a batch row the watermark moves past although it failed (`passedFailures`): into the list (or another attempt);
 * - a batch row that failed but that the watermark does not move past: nothing (it is read again anyway);
 * - a batch row that was written: off the list, when the list is in use (its latest version is in CRM now).
 * A key that both failed and was written in one Set (the same row twice) counts as failed: nothing is lost by
 * trying it once more.
 */
export function retryListChanges(items: WrittenItem[], progress: WrittenProgress, listInUse: boolean): RetryChange[] {
	const changes = new Map<string, RetryChange>();
	const note = (change: RetryChange) => {
		const text = retryKeyText(change.key);
		const earlier = changes.get(text);
		if (earlier?.kind === 'failed' && change.kind === 'written') return;
		if (earlier?.kind === 'failed' && change.kind === 'failed') {
			changes.set(text, { ...change, cursor: change.cursor ?? earlier.cursor });
			return;
		}
		changes.set(text, change);
	};
	for (const item of items) {
		const { sync, status } = item;
		if (!sync || status === undefined) continue;
		if (sync.retry) {
			if (isWritten(status)) note({ kind: 'written', key: sync.key });
			else if (item.rowRefusal === true) note({ kind: 'failed', key: sync.key, cursor: null, error: errorText(item.error) });
		} else if (listInUse && isWritten(status)) {
			note({ kind: 'written', key: sync.key });
		}
	}
	for (const failure of progress.passedFailures) note({ kind: 'failed', key: failure.key, cursor: failure.cursor, error: failure.error });
	return [...changes.values()];
}

/**
 * What one change does to the list: a written key leaves it, a failed key already listed counts another attempt,
 * a failed key not listed enters it. Also rendered as the WHERE of the SQL Server store's DELETE, UPDATE and
 * INSERT (watermarkSql.ts), so each key takes exactly one of them there too.
 */
export const RETRY_ACTIONS: DecisionTable<'written' | 'listed', 'leave' | 'count another attempt' | 'enter'> = {
	rules: [
		{ outcome: 'leave', when: isTrue('written') },
		{ outcome: 'count another attempt', when: isTrue('listed') },
	],
	otherwise: 'enter',
};

/** When an entry is parked after an attempt; also rendered as the Parked value the SQL Server store writes. */
export const PARKS_THE_ENTRY: Condition<'wasParked' | 'attemptsAfter' | 'maxAttempts'> = any(isTrue('wasParked'), atLeast('attemptsAfter', 'maxAttempts'));

/** The entry after one change: undefined when it leaves the list; `newlyParked` when this attempt parked it. */
export function nextRetryEntry(
	stream: string,
	existing: RetryEntry | undefined,
	change: RetryChange,
	maxAttempts: number,
	now: string,
): { entry?: RetryEntry; newlyParked: boolean } {
	const action = decide(RETRY_ACTIONS, { written: change.kind === 'written', listed: existing !== undefined });
	if (action === 'leave') return { newlyParked: false };
	const listed = action === 'count another attempt' ? existing : undefined;
	const attempts = (listed?.attempts ?? 0) + 1;
	const wasParked = listed?.parked === true;
	const parked = holds(PARKS_THE_ENTRY, { wasParked, attemptsAfter: attempts, maxAttempts });
	return {
		entry: {
			stream,
			key: listed?.key ?? change.key,
			cursor: ('cursor' in change ? change.cursor : null) ?? listed?.cursor ?? null,
			attempts,
			lastError: 'error' in change ? change.error : '',
			firstFailedAt: listed?.firstFailedAt ?? now,
			lastTriedAt: now,
			parked,
		},
		newlyParked: parked && !wasParked,
	};
}

/**
 * The keys Get hands out: those not parked, least recently tried first, at most MAX_RETRY_KEYS_PER_RUN, and
 * only to a run that has just taken the lease (a run's later batches renew it and retry nothing, so a row gets
 * one attempt per run, not one per batch).
 */
export function dueRetries(entries: RetryEntry[], freshLease: boolean): RetryEntry[] {
	if (!freshLease) return [];
	return entries
		.filter((entry) => !entry.parked)
		.sort((a, b) => Date.parse(a.lastTriedAt) - Date.parse(b.lastTriedAt))
		.slice(0, MAX_RETRY_KEYS_PER_RUN);
}

/** An entry as Get and Set output it. */
export function dueRetryOf(entry: RetryEntry): DueRetry {
	return { key: entry.key, attempts: entry.attempts, lastError: entry.lastError };
}

export function checkMaxAttempts(value: unknown): number {
	const attempts = Number(value ?? DEFAULT_MAX_ATTEMPTS);
	if (!Number.isInteger(attempts) || attempts < 1 || attempts > MAX_ATTEMPTS_LIMIT) {
		throw new RetryListError(
			`Max Attempts must be a whole number from 1 to ${MAX_ATTEMPTS_LIMIT}, not ${String(value)}`,
			`Use the default of ${DEFAULT_MAX_ATTEMPTS}: a refused row is tried once per run, so 5 attempts take about 5 scheduled runs.`,
		);
	}
	return attempts;
}

export class RetryListError extends Error {
	constructor(
		message: string,
		readonly advice: string,
	) {
		super(message);
		this.name = 'RetryListError';
	}
}

/** The error that fails the execution after a Set parked rows (the watermark is stored by then). */
export function parkedRowsMessage(stream: string, parked: DueRetry[]): string {
	const shown = parked.slice(0, 5).map((row) => `${JSON.stringify(row.key)} (${row.lastError})`);
	const more = parked.length > shown.length ? ` and ${parked.length - shown.length} more` : '';
	return `Stream "${stream}": ${parked.length} row(s) were refused by CRM ${parked[0]?.attempts ?? 0} times and are parked in the retry list: ${shown.join('; ')}${more}`;
}

/**
 * The first row CRM did not take for a reason that is not the row's own: the batch row the watermark stopped
 * before, else a row read again from the list. Set fails the execution for it (after storing what was written),
 * because the cause (CRM unreachable, a refused batch, a setting) stops every row alike until someone acts.
 */
export function firstRowNotTaken(items: WrittenItem[], progress: WrittenProgress): { key: Record<string, unknown>; error: string } | undefined {
	if (progress.stoppedBy?.kind === 'not taken') return progress.stoppedBy.failure;
	const retried = items.find((item) => item.sync?.retry === true && item.status === 'failed' && item.rowRefusal !== true);
	return retried?.sync ? { key: retried.sync.key, error: errorText(retried.error) } : undefined;
}

/** The error that fails the execution for the row firstRowNotTaken names. */
export function rowsNotTakenMessage(stream: string, failure: { key: Record<string, unknown>; error: string }): string {
	return `Stream "${stream}": CRM did not take the rows from ${JSON.stringify(failure.key)} on: ${failure.error}`;
}

export const ROWS_NOT_TAKEN_ADVICE =
	'This is not a fault of the rows (CRM could not be reached, refused the whole batch, or a setting or permission is wrong), so no row was parked: the watermark stays before them and the next run sends them again. Fix what the message names (see the CRM node of this execution), or wait for CRM to be back.';

export const PARKED_ROWS_ADVICE =
	'The watermark was stored and the other rows were written. Correct the row in Contracting (the change is read and written normally and leaves the list), or fix the cause in CRM and run the Watermark node\'s "Retry Parked Rows Again". The Watermark node\'s "Retry List" shows every row with its error.';

/**
 * The "Retry Keys" parameter of the read: Get's `retry` output (a list of { key, attempts, lastError }), or
 * plain key objects, as a list or JSON text. Each key must name exactly the stream's key columns; the keys come
 * back with the columns spelled as the source spells them.
 */
export function retryKeysOf(value: unknown, keyColumns: string[]): Array<Record<string, unknown>> {
	if (value === undefined || value === null || value === '') return [];
	let list: unknown = value;
	if (typeof value === 'string') {
		try {
			list = JSON.parse(value);
		} catch {
			list = undefined;
		}
	}
	const advice = 'Leave "Retry Keys" at {{ $json.retry }} with the Watermark node\'s Get right before this node, or empty to retry nothing.';
	if (!Array.isArray(list)) throw new ChangeSourceError('Retry Keys is not a list of keys', advice);
	return list.map((entry: unknown, index) => {
		const candidate = entry && typeof entry === 'object' && 'key' in entry ? (entry as { key: unknown }).key : entry;
		if (!candidate || typeof candidate !== 'object' || Array.isArray(candidate)) {
			throw new ChangeSourceError(`Retry key ${index} is not an object of key columns`, advice);
		}
		const given = candidate as Record<string, unknown>;
		const names = Object.keys(given);
		const missing = keyColumns.filter((column) => !names.some((name) => name.toLowerCase() === column.toLowerCase()));
		const unknown = names.filter((name) => !keyColumns.some((column) => column.toLowerCase() === name.toLowerCase()));
		if (missing.length > 0 || unknown.length > 0) {
			throw new ChangeSourceError(
				`Retry key ${index} (${JSON.stringify(given)}) does not match the key of the stream (${keyColumns.join(', ')})`,
				`The key columns changed since the row was put in the retry list. Remove its rows with the Watermark node's "Retry Parked Rows Again" (Action: Remove From the List), and rewind the stream if they must be sent again. ${advice}`,
			);
		}
		return Object.fromEntries(keyColumns.map((column) => [column, given[names.find((name) => name.toLowerCase() === column.toLowerCase()) as string]]));
	});
}
