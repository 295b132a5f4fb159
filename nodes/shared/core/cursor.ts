/**
 * The cursor: where a stream stopped, exactly as SQL Server gave it. The Contracting node emits it, the
 * Watermark node stores it unchanged, and the next read compares with it in T-SQL. It is never turned into a
 * JavaScript Date (which keeps milliseconds only, while datetime2 keeps 100 ns).
 */

/**
 * - `datetime`: one datetime/datetime2/smalldatetime marker column; `marker` is CONVERT(varchar(33), m, 126).
 * - `dateAndTime`: a date column plus a time column (also integer yyyymmdd + hhmm/hhmmss); `marker` is the
 *   combined local date-time in the same ISO form.
 * - `rowversion`: `marker` is the 8-byte value as 0x followed by 16 hex digits.
 * - `changeTracking`: `marker` is the Change Tracking version (a bigint, as decimal text).
 */
export type CursorKind = 'datetime' | 'dateAndTime' | 'rowversion' | 'changeTracking';

export interface Cursor {
	kind: CursorKind;
	/**
	 * null with a null key: from the beginning (nothing read yet). null with a key: part-way through the rows
	 * that come before every marker value: rows whose marker is NULL (SQL Server sorts NULL first), or, for
	 * Change Tracking, the initial full read of the table (see `snapshotVersion`).
	 */
	marker: string | null;
	/**
	 * The key of the last row read at `marker`, as text, one entry per key column; null when every row at
	 * `marker` is still to come (so the next read takes marker >= @m rather than > (@m, @k)).
	 */
	key: string[] | null;
	/**
	 * Change Tracking only, while the initial full read is in progress (marker null): the Change Tracking
	 * version captured when that read began. Changes since it are read once the full read is done.
	 * Absent from every other cursor, so their text is unchanged.
	 */
	snapshotVersion?: string;
}

export class CursorFormatError extends Error {
	readonly advice =
		"The stored watermark was not written by this package or was edited by hand. Use the Watermark node's Rewind (to a date) to set a valid one.";

	constructor(text: string, reason: string) {
		super(`The watermark "${text.length > 200 ? `${text.slice(0, 200)}…` : text}" cannot be read: ${reason}`);
		this.name = 'CursorFormatError';
	}
}

const KINDS: readonly CursorKind[] = ['datetime', 'dateAndTime', 'rowversion', 'changeTracking'];
const ISO_LOCAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?$/;
const ROWVERSION = /^0x[0-9A-Fa-f]{16}$/;
const VERSION = /^\d{1,19}$/;

/** Whether `marker` has the form its kind requires. */
export function markerProblem(kind: CursorKind, marker: string): string | undefined {
	switch (kind) {
		case 'datetime':
		case 'dateAndTime':
			return ISO_LOCAL.test(marker) ? undefined : 'its date-time is not of the form 2024-03-31T02:30:00.1234567';
		case 'rowversion':
			return ROWVERSION.test(marker) ? undefined : 'its rowversion is not 0x followed by 16 hex digits';
		case 'changeTracking':
			return VERSION.test(marker) ? undefined : 'its Change Tracking version is not a whole number';
	}
}

export function serializeCursor(cursor: Cursor): string {
	const base = { kind: cursor.kind, marker: cursor.marker, key: cursor.key };
	return JSON.stringify(cursor.snapshotVersion === undefined ? base : { ...base, snapshotVersion: cursor.snapshotVersion });
}

function parsedJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}

export function parseCursor(text: string): Cursor {
	const parsed = parsedJson(text);
	if (parsed === undefined) throw new CursorFormatError(text, 'it is not the JSON text this package writes');
	if (typeof parsed !== 'object' || parsed === null) throw new CursorFormatError(text, 'it is not an object');
	const { kind, marker, key, snapshotVersion } = parsed as Record<string, unknown>;
	if (!KINDS.includes(kind as CursorKind)) {
		throw new CursorFormatError(text, `its kind must be one of ${KINDS.join(', ')}`);
	}
	if (marker !== null && typeof marker !== 'string') throw new CursorFormatError(text, 'its marker must be text or null');
	if (typeof marker === 'string') {
		const problem = markerProblem(kind as CursorKind, marker);
		if (problem) throw new CursorFormatError(text, problem);
	}
	if (key !== null && !(Array.isArray(key) && key.every((part) => typeof part === 'string'))) {
		throw new CursorFormatError(text, 'its key must be a list of texts or null');
	}
	if (snapshotVersion === undefined) return { kind: kind as CursorKind, marker, key: key as string[] | null };
	if (kind !== 'changeTracking' || marker !== null || typeof snapshotVersion !== 'string' || !VERSION.test(snapshotVersion)) {
		throw new CursorFormatError(text, 'its snapshotVersion must be a whole number, on a Change Tracking cursor without a marker');
	}
	return { kind, marker, key: key as string[] | null, snapshotVersion };
}

export function beginningCursor(kind: CursorKind): Cursor {
	return { kind, marker: null, key: null };
}

/** Whether nothing has been read yet: the cursor is where a first run or a rewind to the beginning starts. */
export function isBeginning(cursor: Cursor): boolean {
	return cursor.marker === null && cursor.key === null && cursor.snapshotVersion === undefined;
}
