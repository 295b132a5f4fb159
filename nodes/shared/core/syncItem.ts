import type { ReadWindow } from './changeQuery';

/**
 * What travels between the nodes of a sync, on every item, under `_sync`. The Contracting node writes it,
 * the CRM node passes it through and adds `status`, the Watermark node's Set reads it to decide how far the
 * watermark may move. The row's own columns stay at the top level of the item, so they can be mapped by name.
 */
export const SYNC_FIELD = '_sync';

export type ChangeOperation = 'upsert' | 'delete';

export interface SyncInfo {
	stream: string;
	operation: ChangeOperation;
	/** The row's key, column name to value, as the source has it. */
	key: Record<string, unknown>;
	/** The serialized cursor just past this row: storing it means "this row and all before it are written". */
	cursor: string;
	/** The cursor the batch was read from (the same on every item of a batch). */
	batchStartCursor: string;
	/** 0-based place of this row in its batch; rows come in cursor order. */
	position: number;
	/** How many rows the batch had, so that a missing item shows up as a gap. */
	batchRows: number;
	/** Whether the source had more rows after this batch. */
	hasMore: boolean;
	/**
	 * The read window the batch was read in (the same object on every item of a batch): Set hands it on with the
	 * lease, so the run's next batches read up to the same bound without asking the server again.
	 */
	window?: ReadWindow;
	/** When the row changed, ISO 8601 with offset, in the stream's time zone (absent for rowversion/Change Tracking). */
	changedAt?: string;
	/**
	 * A row read again because it is in the stream's retry list (its current version, by key): it stands outside
	 * the batch's positions and never moves the watermark; Set only updates the retry list with its outcome.
	 */
	retry?: boolean;
}

/** What the CRM node did with an item. */
export type WriteStatus = 'inserted' | 'updated' | 'unchanged' | 'deleted' | 'ignored' | 'failed';

export function isWritten(status: WriteStatus): boolean {
	return status !== 'failed';
}

/**
 * Whether a failed CRM item was refused for its own data: SQL Server refused the row itself (found by splitting
 * the batch: `sqlServerError`), or a value of it did not convert or its looked-up row is missing (`errorColumn`).
 * Only such a row may be parked and passed; any other failure (the batch refused as a whole: configuration,
 * permission, CRM unreachable, an outage) says nothing about the row, and the watermark must stop before it.
 */
export function isRowRefusal(item: { sqlServerError?: unknown; errorColumn?: unknown }): boolean {
	return typeof item.sqlServerError === 'number' || (typeof item.errorColumn === 'string' && item.errorColumn !== '');
}

/**
 * Whether the items are what "Always Output Data" gives when the read found nothing: empty items only. The CRM
 * node passes them on unwritten, so the workflow still reaches the Watermark node (which then only releases its
 * lease) without a check node that would cost n8n an expression per row on every full batch.
 */
export function isNothingRead(items: Array<{ json: Record<string, unknown> }>): boolean {
	return items.length > 0 && items.every((item) => Object.keys(item.json).length === 0);
}
