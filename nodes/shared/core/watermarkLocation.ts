/**
 * Where a stream's cursor is kept: in this package's watermark table (the default), or in an existing table
 * the installation already uses, such as Contracting's system codes with their "last change date" and
 * "last change time". Leases, generations and history always stay in this package's tables.
 *
 * A date + time column pair cannot hold all of a cursor: the key of the last row read and the fraction of a
 * second are lost, and the marker is cut down (never rounded up) to whole seconds. So the exact cursor is kept
 * beside the pair, in this package's watermark table (its cursor column, unused for such a stream): while the pair
 * still holds that cursor's second, the exact cursor is the position (cursorBesidePair); once the pair says
 * something else (a rewind, or someone changed it by hand), the pair is, read from the start of its second. Reading
 * a second again is harmless (every CRM write is an idempotent upsert), but without the exact cursor, more rows in
 * one second than a batch holds (one bulk UPDATE stamping thousands) would be read from that second's start in
 * every batch, and the rows after the first batch would never be reached.
 */
import type { QualifiedName } from './identifiers';
import type { Cursor, CursorKind } from './cursor';
import { isBeginning, parseCursor, serializeCursor } from './cursor';

export type CursorLocation =
	| { kind: 'packageTable' }
	| (ExistingRow & { kind: 'textColumn'; cursorColumn: string })
	| (ExistingRow & { kind: 'dateAndTimeColumns'; dateColumn: string; timeColumn: string });

export interface ExistingRow {
	table: QualifiedName;
	/** The column and value that pick the one row holding the cursor. */
	filterColumn: string;
	filterValue: string;
}

export const PACKAGE_TABLE: CursorLocation = { kind: 'packageTable' };

export class CursorLocationError extends Error {
	readonly advice =
		'Check "Store Cursor In" on the Get node: the table, the column and value that pick its one row, and the cursor columns. The stored watermark was not changed.';

	constructor(message: string) {
		super(message);
		this.name = 'CursorLocationError';
	}
}

const WHOLE_SECONDS = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/;

/**
 * What a location holds for a cursor, as text: the serialized cursor for this package's table and for a text
 * column, the marker cut to whole seconds ("2024-03-31T02:30:00") for a date + time pair. null: from the beginning
 * (a cursor without a marker, of any kind, is stored as null).
 * Comparing these texts for equality is how Set checks that the stored cursor is the one its batch was read from.
 */
export function storedValueOf(cursorText: string | null, location: CursorLocation): string | null {
	if (cursorText === null) return null;
	const cursor = parseCursor(cursorText);
	// The beginning, whatever its kind, is stored as null.
	if (isBeginning(cursor)) return null;
	if (location.kind !== 'dateAndTimeColumns') return serializeCursor(cursor);
	if (cursor.kind !== 'datetime' && cursor.kind !== 'dateAndTime') {
		throw new CursorLocationError(
			`A ${cursor.kind} watermark cannot be kept in a date and a time column; keep it in this package's table or in a text column`,
		);
	}
	// Part-way through the rows without a change date: a date + time pair can only say "from the beginning",
	// which reads those rows again (harmless, see above).
	if (cursor.marker === null) return null;
	const [, date, time] = WHOLE_SECONDS.exec(cursor.marker) as RegExpExecArray;
	return `${date}T${time}`;
}

const DATE_AND_TIME_PREFIX = '{"kind":"dateAndTime",';
const DATETIME_PREFIX = '{"kind":"datetime",';

/**
 * The stored value as Set compares it with the cursor a batch was read from. The two local-time kinds are one
 * for this purpose: the Contracting node reads a cursor of either kind from a source of either kind (both
 * markers are the same wall-clock text) and gives it the source's kind, so a starting date or a cursor read
 * back from a date + time pair comes back from the batch with the other kind. The SQL Server store states the
 * same with the same prefix (see commitSql).
 */
export function comparableStoredValue(value: string | null): string | null {
	return value !== null && value.startsWith(DATE_AND_TIME_PREFIX) ? DATETIME_PREFIX + value.slice(DATE_AND_TIME_PREFIX.length) : value;
}

/** The cursor a location's stored value stands for; `kind` is the cursor kind remembered in this package's table. */
export function cursorOfStoredValue(value: string | null, location: CursorLocation, kind: CursorKind | null): string | null {
	// Not parsed here: a stored value that cannot be read is handed on as it is, so the Contracting node refuses
	// it with a clear error, and Rewind (to a date or to the beginning) can still replace it.
	if (value === null || location.kind !== 'dateAndTimeColumns') return value;
	const cursor: Cursor = { kind: kind === 'dateAndTime' ? 'dateAndTime' : 'datetime', marker: value, key: null };
	return serializeCursor(cursor);
}

/**
 * The position of a stream whose location keeps `value`: for a date + time pair, the exact cursor kept beside it
 * when that cursor is still within the pair's second (else the pair's own cursor); for any other place, the value.
 */
export function cursorBesidePair(value: string | null, location: CursorLocation, kind: CursorKind | null, exact: string | null): string | null {
	const ofValue = cursorOfStoredValue(value, location, kind);
	if (location.kind !== 'dateAndTimeColumns' || exact === null || value === null) return ofValue;
	try {
		return storedValueOf(exact, location) === value ? serializeCursor(parseCursor(exact)) : ofValue;
	} catch {
		return ofValue;
	}
}

/** What a Set keeps beside a date + time pair (see cursorBesidePair): the exact cursor; null for every other place. */
export function exactBesidePair(cursorText: string | null, location: CursorLocation): string | null {
	return location.kind === 'dateAndTimeColumns' && cursorText !== null ? serializeCursor(parseCursor(cursorText)) : null;
}

/** The stored form of a cursor, as a cursor text: what Get hands out after a Set stored `cursorText`. */
export function storedCursorOf(cursorText: string | null, location: CursorLocation): string | null {
	const kind = cursorText === null ? null : parseCursor(cursorText).kind;
	return cursorOfStoredValue(storedValueOf(cursorText, location), location, kind);
}

/**
 * The form this package stores a readable cursor in, when `text` is readable but not in that form (edited by hand,
 * e.g. spaces after the colons); undefined when it is in that form already, or cannot be read (the Contracting node
 * then refuses it with a clear error). Set compares stored cursors as text, so Get stores such a cursor again in
 * this form before handing it out, and never compares loosely.
 */
export function normalisedCursor(text: string | null): string | undefined {
	if (text === null) return undefined;
	let normal: string;
	try {
		normal = serializeCursor(parseCursor(text));
	} catch {
		return undefined;
	}
	return normal === text ? undefined : normal;
}

/** Recorded in this package's table with the stream, so that Set, Rewind and Undo use the place Get used. */
export function serializeLocation(location: CursorLocation): string | null {
	return location.kind === 'packageTable' ? null : JSON.stringify(location);
}

export function parseLocation(text: string | null): CursorLocation {
	if (text === null || text === '') return PACKAGE_TABLE;
	const parsed = JSON.parse(text) as CursorLocation;
	if (parsed.kind !== 'textColumn' && parsed.kind !== 'dateAndTimeColumns') {
		throw new CursorLocationError(`The recorded cursor location ${text} is not one this package writes`);
	}
	return parsed;
}

export function describeLocation(location: CursorLocation): string {
	switch (location.kind) {
		case 'packageTable':
			return "this package's watermark table";
		case 'textColumn':
			return `${location.table.schema}.${location.table.name}.${location.cursorColumn} where ${location.filterColumn} = ${location.filterValue}`;
		case 'dateAndTimeColumns':
			return `${location.table.schema}.${location.table.name}.${location.dateColumn} + ${location.timeColumn} where ${location.filterColumn} = ${location.filterValue}`;
	}
}
