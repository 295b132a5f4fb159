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
	/** null: from the beginning (nothing read yet). */
	marker: string | null;
	/**
	 * The key of the last row read at `marker`, as text, one entry per key column; null when every row at
	 * `marker` is still to come (so the next read takes marker >= @m rather than > (@m, @k)).
	 */
	key: string[] | null;
}

export class CursorFormatError extends Error {
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
	return JSON.stringify({ kind: cursor.kind, marker: cursor.marker, key: cursor.key });
}

export function parseCursor(text: string): Cursor {
	let parsed: unknown;
	try {
		parsed = JSON.parse(text);
	} catch {
		throw new CursorFormatError(text, 'it is not the JSON text this package writes');
	}
	if (typeof parsed !== 'object' || parsed === null) throw new CursorFormatError(text, 'it is not an object');
	const { kind, marker, key } = parsed as Record<string, unknown>;
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
	if (marker === null && key !== null) throw new CursorFormatError(text, 'a key without a marker means nothing');
	return { kind: kind as CursorKind, marker, key: key as string[] | null };
}

export function beginningCursor(kind: CursorKind): Cursor {
	return { kind, marker: null, key: null };
}
