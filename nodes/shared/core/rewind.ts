/**
 * The rules of a rewind: where "two days back" or "to 1 March 08:00" lands, in the stream's time zone.
 *
 * Date-time markers are wall-clock times as the source stores them (Contracting keeps local time), so:
 * - Days are calendar days: the date moves, the time of day stays exactly as it was (fraction included).
 *   Two days back from Tuesday 02:30 is Sunday 02:30, even on the Sunday the clocks go forward, when 02:30
 *   never happened; no row can carry that time, so reading from it reads from the first time after the gap.
 * - Hours are elapsed hours: the wall-clock marker is read as an instant, then moved back.
 *   A wall-clock time the autumn overlap makes happen twice is read as its first (earlier) occurrence,
 *   so the rewind never lands later than asked (reading more again is harmless, reading less would skip).
 *   A wall-clock time in the spring gap is read with the offset before the gap (02:30 = 01:30 UTC in Oslo).
 *   It lands on the earliest reading any later instant can carry (earliestReadingFrom): landing in the first
 *   pass of the autumn hour, it goes to the start of that hour, since the second pass reads 02:00 again; landing
 *   just after the spring change, it goes to the reading of a clock not yet moved forward.
 * - Days apply first, then hours.
 * - A date and time typed in is a wall-clock time in the stream's time zone unless it carries an offset.
 * rowversion and Change Tracking markers are not times: the store's history says which cursor was in effect
 * at the target time (see cursorTargetTime).
 */
import { DateTime } from 'luxon';
import type { IANAZone } from 'luxon';

import type { Cursor, CursorKind } from './cursor';
import { CursorFormatError, isBeginning, parseCursor, serializeCursor } from './cursor';
import { earliestReadingFrom, localReadingOf, offsetOfLocalTime, zoneNamed } from './timeZone';

export class RewindInputError extends Error {
	readonly advice = 'Nothing was changed. Correct the rewind settings and run it again; the History operation shows where each stream is.';

	constructor(message: string) {
		super(message);
		this.name = 'RewindInputError';
	}
}

/** The rewind would move a stream forward (or nowhere): for "all streams" that stream is left as it is. */
export class NotBehindError extends RewindInputError {
	constructor(message: string) {
		super(message);
		this.name = 'NotBehindError';
	}
}

/** Back by a duration, or to a date and time: computed in the stream's time zone. */
export type TimedRewind = { by: 'duration'; days: number; hours: number } | { by: 'dateTime'; dateTime: string };

/** To the beginning: everything is sent again, whatever the stored cursor is (even one that cannot be read). */
export type RewindRequest = TimedRewind | { by: 'beginning' };

const WALL_TIME = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d{1,7})?$/;

interface WallTime {
	/** yyyy-MM-ddTHH:mm:ss */
	wholeSeconds: string;
	/** ".1234567" or "" */
	fraction: string;
}

function splitWallTime(marker: string): WallTime {
	const match = WALL_TIME.exec(marker);
	if (!match) throw new RewindInputError(`"${marker}" is not a date-time of the form 2024-03-31T02:30:00`);
	return { wholeSeconds: `${match[1]}T${match[2]}`, fraction: match[3] ?? '' };
}

/**
 * The instant a wall-clock time stands for in `zone` (by the rule of timeZone.ts: in the autumn overlap the
 * earlier of the two, in the spring gap the one with the offset from before the gap), in milliseconds.
 */
function instantOfWallTime(wholeSeconds: string, zone: IANAZone): number {
	const wallMs = Date.parse(`${wholeSeconds}Z`);
	if (Number.isNaN(wallMs)) throw new RewindInputError(`"${wholeSeconds}" is not a date and time that exists`);
	return wallMs - offsetOfLocalTime(wholeSeconds, zone).offsetMinutes * 60_000;
}

function wallTimeOfInstant(instantMs: number, zone: IANAZone): string {
	return localReadingOf(instantMs, zone).slice(0, 19);
}

function calendarDaysBack(wholeSeconds: string, days: number): string {
	return DateTime.fromISO(wholeSeconds, { zone: 'utc' }).minus({ days }).toFormat("yyyy-MM-dd'T'HH:mm:ss");
}

/** A date-time marker moved back by days (calendar, wall-clock) and then hours (elapsed), in `zone`. */
export function markerMovedBack(marker: string, days: number, hours: number, zone: IANAZone): string {
	const { wholeSeconds, fraction } = splitWallTime(marker);
	const afterDays = calendarDaysBack(wholeSeconds, days);
	if (hours === 0) return afterDays + fraction;
	const instant = instantOfWallTime(afterDays, zone) - Math.round(hours * 3_600_000);
	const earliest = earliestReadingFrom(instant, zone).slice(0, 19);
	// Moved to an earlier reading, the landing keeps no fraction: it is the very start of that second.
	return earliest === wallTimeOfInstant(instant, zone) ? earliest + fraction : earliest;
}

/**
 * Reads a date and time typed by a person or given by n8n's date picker: "2025-03-31 08:00", "2025-03-31T08:00:00",
 * "2025-03-31" (midnight), or an ISO text with an offset. Returns the wall-clock time in `zone`.
 */
export function wallTimeOfInput(text: string, zone: IANAZone): string {
	const trimmed = String(text ?? '').trim();
	if (trimmed === '') throw new RewindInputError('No date and time was given to rewind to');
	const normalized = trimmed.replace(' ', 'T');
	const hasOffset = /(Z|[+-]\d{2}:?\d{2})$/i.test(normalized) && normalized.includes('T');
	const parsed = DateTime.fromISO(normalized, hasOffset ? { setZone: true } : { zone: 'utc' });
	if (!parsed.isValid) {
		throw new RewindInputError(`"${trimmed}" is not a date and time; write it like 2025-03-31 08:00`);
	}
	if (parsed.millisecond > 0) throw new RewindInputError(`"${trimmed}" has fractions of a second; give whole seconds`);
	if (hasOffset) return wallTimeOfInstant(parsed.toMillis(), zone);
	return parsed.toFormat("yyyy-MM-dd'T'HH:mm:ss");
}

function isDateTimeKind(kind: CursorKind): boolean {
	return kind === 'datetime' || kind === 'dateAndTime';
}

/** Whether marker `a` comes after marker `b` in the source's order (same kind). */
function isMarkerAfter(kind: CursorKind, a: string, b: string): boolean {
	if (isDateTimeKind(kind)) {
		const pad = (marker: string) => {
			const { wholeSeconds, fraction } = splitWallTime(marker);
			return wholeSeconds + (fraction || '.').padEnd(8, '0');
		};
		return pad(a) > pad(b);
	}
	return BigInt(a) > BigInt(b);
}

/** Whether cursor `a` is after cursor `b`: a later marker, or the same marker with a key read past. */
export function isCursorAfter(a: Cursor, b: Cursor): boolean {
	// The beginning, then the rows without a marker (or Change Tracking's initial full read), then every marker.
	if (a.marker === null) return !isBeginning(a) && isBeginning(b);
	if (b.marker === null) return true;
	if (a.marker === b.marker) return a.key !== null && b.key === null;
	return isMarkerAfter(a.kind, a.marker, b.marker);
}

const AT_THE_BEGINNING = 'The stream is at the beginning already; nothing to rewind';

export interface RewindPlan {
	/** The new cursor text; null: from the beginning. */
	cursor: string | null;
	/** How the new cursor was found, in plain words. */
	how: string;
}

/** For a date-time cursor: the new cursor, computed from its marker. */
function rewindDateTimeCursor(current: Cursor, request: TimedRewind, zoneName: string, now: Date): RewindPlan {
	const zone = zoneNamed(zoneName);
	if (request.by === 'duration') {
		checkDuration(request);
		if (isBeginning(current)) return { cursor: null, how: AT_THE_BEGINNING };
		if (current.marker === null) return { cursor: null, how: 'Back to the beginning (the stream was still reading rows without a change marker)' };
		const marker = markerMovedBack(current.marker, request.days, request.hours, zone);
		return {
			cursor: serializeCursor({ kind: current.kind, marker, key: null }),
			how: `${describeDuration(request)} back from ${current.marker} (${zoneName})`,
		};
	}
	const marker = checkedDateTimeTarget(request, zone, now);
	const target: Cursor = { kind: current.kind, marker, key: null };
	if (isCursorAfter(target, current)) {
		throw new NotBehindError(
			`${marker} (${zoneName}) is after where the stream is now (${current.marker ?? 'the beginning'}); a rewind only moves back`,
		);
	}
	return { cursor: serializeCursor(target), how: `To ${marker} (${zoneName})` };
}

/** The wall-clock time typed in, refused when it does not parse or lies in the future. */
function checkedDateTimeTarget(request: { dateTime: string }, zone: IANAZone, now: Date): string {
	const marker = wallTimeOfInput(request.dateTime, zone);
	checkNotInFuture(marker, zone, now);
	return marker;
}

function checkNotInFuture(wholeSeconds: string, zone: IANAZone, now: Date): void {
	if (instantOfWallTime(wholeSeconds, zone) > now.getTime()) {
		throw new RewindInputError(`${wholeSeconds} (${zone.name}) is in the future; a rewind only moves back`);
	}
}

function checkDuration(request: { days: number; hours: number }): void {
	const { days, hours } = request;
	if (!Number.isInteger(days) || days < 0 || !Number.isFinite(hours) || hours < 0 || days + hours <= 0) {
		throw new RewindInputError(`Rewind by ${days} days and ${hours} hours: give whole days and hours of 0 or more, not both 0`);
	}
}

function describeDuration(request: { days: number; hours: number }): string {
	const parts = [request.days ? `${request.days} day${request.days === 1 ? '' : 's'}` : '', request.hours ? `${request.hours} hour${request.hours === 1 ? '' : 's'}` : ''];
	return parts.filter(Boolean).join(' and ');
}

/**
 * For a rowversion or Change Tracking cursor (or one at the beginning): the time whose cursor to go back to.
 * By a duration, it counts back from when the current cursor was stored (as the date-time rule counts back
 * from the marker); to a date and time, it is that time. Returns ISO 8601 UTC.
 */
export function cursorTargetTime(request: TimedRewind, cursorStoredAt: string, zoneName: string, now: Date): string {
	const zone = zoneNamed(zoneName);
	if (request.by === 'duration') {
		checkDuration(request);
		const storedWall = wallTimeOfInstant(Date.parse(cursorStoredAt), zone);
		const target = markerMovedBack(storedWall, request.days, request.hours, zone);
		return new Date(instantOfWallTime(target, zone)).toISOString();
	}
	return new Date(instantOfWallTime(checkedDateTimeTarget(request, zone, now), zone)).toISOString();
}

export type HistoryAction = 'first use' | 'set' | 'rewind' | 'undo' | 'takeover' | 'repair';

export interface HistoryEntryLike {
	id: number;
	action: HistoryAction;
	oldCursor: string | null;
	newCursor: string | null;
	changedAt: string;
}

/** For a rowversion or Change Tracking cursor: the plan from the history entry in effect at the target time. */
export function rewindFromHistory(current: string | null, inEffect: HistoryEntryLike | undefined, targetTime: string): RewindPlan {
	if (!inEffect) {
		return { cursor: null, how: `The history does not reach back to ${targetTime} (UTC), so the stream starts from the beginning` };
	}
	const cursor = inEffect.newCursor;
	if (current !== null && cursor !== null && isCursorAfter(parseCursor(cursor), parseCursor(current))) {
		return { cursor: current, how: `At ${targetTime} (UTC) the stream was not behind where it is now; nothing to rewind` };
	}
	return { cursor, how: `The watermark stored at ${inEffect.changedAt} (UTC), the last one at or before ${targetTime} (UTC)` };
}

/**
 * The rewind an Undo reverses: the latest one not reversed yet. Each undo cancels the latest rewind before
 * it, so undoing twice reverses the two latest rewinds. `entries` are newest first.
 */
export function rewindToUndo<T extends HistoryEntryLike>(entries: T[]): T | undefined {
	let undone = 0;
	for (const entry of entries) {
		if (entry.action === 'undo') undone++;
		else if (entry.action === 'rewind') {
			if (undone === 0) return entry;
			undone--;
		}
	}
	return undefined;
}

/**
 * What a rewind needs: a plan computed from the cursor itself (date-time markers, or a stream still at the
 * beginning), or the time whose cursor the history must supply (rowversion, Change Tracking).
 */
export function planRewind(
	current: string | null,
	request: RewindRequest,
	zone: string,
	cursorStoredAt: string,
	now: Date,
): { plan: RewindPlan } | { historyAt: string } {
	if (request.by === 'beginning') {
		return { plan: { cursor: null, how: current === null ? AT_THE_BEGINNING : 'To the beginning: everything is sent again' } };
	}
	if (current === null) return { plan: rewindDateTimeCursor({ kind: 'datetime', marker: null, key: null }, request, zone, now) };
	const cursor = readableCursor(current, request);
	if (!cursor) {
		const marker = checkedDateTimeTarget(request as Extract<TimedRewind, { by: 'dateTime' }>, zoneNamed(zone), now);
		return {
			plan: {
				cursor: serializeCursor({ kind: 'datetime', marker, key: null }),
				how: `To ${marker} (${zone}), replacing a stored watermark that could not be read`,
			},
		};
	}
	if (isDateTimeKind(cursor.kind) || isBeginning(cursor)) return { plan: rewindDateTimeCursor(cursor, request, zone, now) };
	return { historyAt: cursorTargetTime(request, cursorStoredAt, zone, now) };
}

/**
 * The stored cursor, or undefined when it cannot be read and the rewind goes to a date and time: then the date
 * replaces it (which is how support repairs a watermark edited by hand). By a duration there is nothing to count
 * back from, so the format error stands.
 */
function readableCursor(current: string, request: TimedRewind): Cursor | undefined {
	let failure: unknown;
	try {
		return parseCursor(current);
	} catch (error) {
		failure = error;
	}
	if (request.by === 'dateTime' && failure instanceof CursorFormatError) return undefined;
	throw failure;
}

/**
 * Where a cursor stands, in words for a summary: "2024-11-18 08:00 (Europe/Oslo)" (seconds shown when not
 * zero, the fraction left to the cursor itself), "the beginning", "rowversion 0x…", "Change Tracking version 42".
 */
export function positionInWords(cursorText: string | null, zone: string): string {
	if (cursorText === null) return 'the beginning';
	let cursor: Cursor;
	try {
		cursor = parseCursor(cursorText);
	} catch {
		return `"${cursorText}"`;
	}
	if (isBeginning(cursor)) return 'the beginning';
	if (cursor.marker === null) return cursor.kind === 'changeTracking' ? 'part-way through the first full read' : 'part-way through the rows without a change marker';
	if (cursor.kind === 'rowversion') return `rowversion ${cursor.marker}`;
	if (cursor.kind === 'changeTracking') return `Change Tracking version ${cursor.marker}`;
	const { wholeSeconds } = splitWallTime(cursor.marker);
	const shown = wholeSeconds.endsWith(':00') ? wholeSeconds.slice(0, 16) : wholeSeconds;
	return `${shown.replace('T', ' ')} (${zone})`;
}

/**
 * A stream's rewind in words, as the rewind workflow's summary says it: "rewound 2 days to 2024-11-18 08:00
 * (Europe/Oslo)", "would be rewound to the beginning", "not moved: <why>".
 */
export function rewindInWords(outcome: { request: RewindRequest; moved: boolean; preview: boolean; cursor: string | null; zone: string; how: string }): string {
	const { request, moved, preview, cursor, zone, how } = outcome;
	if (!moved) return `${preview ? 'would not be moved' : 'not moved'}: ${how.charAt(0).toLowerCase()}${how.slice(1)}`;
	const by = request.by === 'duration' ? ` ${describeDuration(request)}` : '';
	return `${preview ? 'would be rewound' : 'rewound'}${by} to ${positionInWords(cursor, zone)}`;
}
