import type { IDataObject } from 'n8n-workflow';

import type { ReadWindow, SourceBatch } from '../../shared/core/changeQuery';
import { MAX_BATCH_SIZE, cursorForSource, windowHandedOn } from '../../shared/core/changeQuery';
import type { Cursor } from '../../shared/core/cursor';
import { CursorFormatError, beginningCursor, parseCursor, serializeCursor } from '../../shared/core/cursor';
import type { MarkerKind, SourcePlan, SourceSpec } from '../../shared/core/markers';
import { ChangeSourceError, isLocalTimeMarker } from '../../shared/core/markers';
import { retryKeysOf } from '../../shared/core/retryList';
import type { KeyedRow } from '../../shared/core/retryQuery';
import type { SyncInfo } from '../../shared/core/syncItem';
import { SYNC_FIELD } from '../../shared/core/syncItem';
import { changedAtInZone } from '../../shared/core/timeZone';
import type { ChangeSource } from '../stores/changeSource';

export const DEFAULT_BATCH_SIZE = 1000;
export const DEFAULT_MAX_ROWS = 10_000;
export const MAX_ROWS_PER_EXECUTION = 1_000_000;

export interface ReadLimits {
	batchSize: number;
	maxRows: number;
}

function wholeNumberIn(value: number, min: number, max: number, what: string, advice: string): number {
	if (!Number.isInteger(value) || value < min || value > max) {
		throw new ChangeSourceError(`${what} must be a whole number from ${min.toLocaleString('en')} to ${max.toLocaleString('en')}, not ${value}`, advice);
	}
	return value;
}

/** Refuses a batch size or cap that is not a sane whole number, rather than sending it to SQL Server. */
export function checkReadLimits(limits: ReadLimits): ReadLimits {
	return {
		batchSize: wholeNumberIn(limits.batchSize, 1, MAX_BATCH_SIZE, 'Batch Size', 'Use the default of 1,000; larger batches make each CRM write bigger, not the sync safer.'),
		maxRows: wholeNumberIn(limits.maxRows, 1, MAX_ROWS_PER_EXECUTION, 'Max Rows per Execution', 'Use the default of 10,000: the workflow loops while hasMore is true, so a smaller cap loses nothing.'),
	};
}

/**
 * The "Since" parameter as a cursor: empty means from the beginning; otherwise the text (or object) the
 * Watermark node gives. A cursor that does not parse is refused, never read as "from the beginning".
 */
export function cursorFromSince(since: unknown, kind: MarkerKind): Cursor {
	if (since === undefined || since === null || (typeof since === 'string' && since.trim() === '')) return beginningCursor(kind);
	if (typeof since === 'string') return parseCursor(since.trim());
	if (typeof since === 'object') return parseCursor(JSON.stringify(since));
	throw new CursorFormatError(String(since), 'it is neither the text nor the object this package writes');
}

/** The row's key columns, as `_sync.key` carries them. */
function keyOf(plan: SourcePlan, values: Record<string, unknown>): Record<string, unknown> {
	const key: Record<string, unknown> = {};
	for (const { name } of plan.keys) key[name] = values[name] ?? null;
	return key;
}

/**
 * The row's columns, then `_sync`: the row's own values object becomes the item (the source made it for this read),
 * since a copy per row is, for a full re-send, one more object per row for the garbage collector to move.
 */
function itemOf(values: Record<string, unknown>, sync: SyncInfo): IDataObject {
	const item = values as IDataObject;
	item[SYNC_FIELD] = sync as unknown as IDataObject;
	return item;
}

function syncItemsOf(plan: SourcePlan, batch: SourceBatch, batchStart: Cursor, window: ReadWindow): IDataObject[] {
	const { stream } = plan;
	const batchStartCursor = serializeCursor(batchStart);
	const batchRows = batch.rows.length;
	const { hasMore } = batch;
	const localTime = isLocalTimeMarker(plan.marker.kind);
	return batch.rows.map((row, position) => {
		const { operation, values, marker } = row;
		const key = keyOf(plan, values);
		const cursor = serializeCursor(row.cursor);
		// Two literals rather than changedAt added afterwards: the added field moved every row's _sync to another shape
		// and gave it a second block of storage (a fifth of the time spent building the read's items).
		const sync: SyncInfo =
			localTime && marker !== null
				? { stream, operation, key, cursor, batchStartCursor, position, batchRows, hasMore, window, changedAt: changedAtInZone(marker, plan.zone) }
				: { stream, operation, key, cursor, batchStartCursor, position, batchRows, hasMore, window };
		return itemOf(values, sync);
	});
}

/** Rows read again from the retry list: outside the batch (position -1, no rows), starting where the batch starts. */
function retryItemsOf(plan: SourcePlan, rows: KeyedRow[], batchStart: Cursor): IDataObject[] {
	const start = serializeCursor(batchStart);
	return rows.map((row) => {
		const sync: SyncInfo = {
			stream: plan.stream,
			operation: row.operation,
			key: keyOf(plan, row.values),
			cursor: start,
			batchStartCursor: start,
			position: -1,
			batchRows: 0,
			hasMore: false,
			retry: true,
		};
		return itemOf(row.values, sync);
	});
}

/**
 * One execution's read: check the source and the cursor, read the current rows of the retry keys (first, outside
 * the batches), fix the window, then read batches (one round trip each) until the source has no more or the cap
 * is reached. Every problem is thrown before any item exists. Zero rows gives zero items.
 */
export async function readChanges(
	source: ChangeSource,
	spec: SourceSpec,
	since: unknown,
	limits: ReadLimits,
	retryKeys?: unknown,
	handedWindow?: unknown,
): Promise<IDataObject[]> {
	const { batchSize, maxRows } = checkReadLimits(limits);
	const plan = await source.describe(spec);
	const from = cursorForSource(plan, cursorFromSince(since, plan.marker.kind));
	const keys = retryKeysOf(retryKeys, plan.keys.map((key) => key.name));
	const retried = keys.length > 0 ? retryItemsOf(plan, await source.readKeys(plan, keys), from) : [];
	const window = windowHandedOn(handedWindow, plan) ?? (await source.openWindow(plan, from));
	const items: IDataObject[] = [];
	let after = from;
	for (;;) {
		const limit = Math.min(batchSize, maxRows - items.length);
		const batch = await source.readBatch(plan, window, after, limit);
		items.push(...syncItemsOf(plan, batch, after, window));
		if (!batch.hasMore || batch.rows.length === 0 || items.length >= maxRows) return [...retried, ...items];
		after = batch.rows[batch.rows.length - 1].cursor;
	}
}
