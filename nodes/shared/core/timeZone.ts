/**
 * Naive local date-times (datetime/datetime2 columns without an offset, and the legacy date + time pair) are
 * wall-clock readings in the stream's time zone. This module relates them to instants, with luxon's IANA zone
 * rules, around the two daylight-saving changes where a wall-clock reading is not one instant:
 * - the autumn overlap (e.g. Oslo, last Sunday of October, 02:00–02:59 happens twice), and
 * - the spring gap (e.g. Oslo, last Sunday of March, 02:00–02:59 never happens).
 * Only the text is used; the digits SQL Server gave are never re-rendered through a JavaScript Date.
 */
import { IANAZone } from 'luxon';

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,7})?$/;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export class TimeZoneError extends Error {
	readonly advice = 'Use an IANA time zone name such as Europe/Oslo, Europe/Stockholm or UTC.';

	constructor(zone: string) {
		super(`"${zone}" is not a time zone this node knows`);
		this.name = 'TimeZoneError';
	}
}

export function zoneNamed(name: string): IANAZone {
	const zone = IANAZone.create(name.trim());
	if (!zone.isValid) throw new TimeZoneError(name);
	return zone;
}

/** The wall-clock reading as if it were UTC, in milliseconds (sub-millisecond digits dropped: offsets are whole minutes). */
function wallClockMs(local: string): number {
	const match = LOCAL.exec(local);
	if (!match) throw new Error(`"${local}" is not a local date-time of the form 2024-03-31T02:30:00`);
	const [, y, mo, d, h, mi, s, fraction] = match;
	const ms = fraction ? Math.floor(Number(`0${fraction}`) * 1000) : 0;
	return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
}

/** The number the decimal digits of `text` from `from` to `to` spell, read without cutting the text into pieces. */
function digitsOf(text: string, from: number, to: number): number {
	let value = 0;
	for (let index = from; index < to; index++) value = value * 10 + text.charCodeAt(index) - 48;
	return value;
}

/** The start of a well-formed reading's wall-clock hour, as if it were UTC: what the steady-hour check needs, without a match array and its parts per row. */
function wallClockHourMs(local: string): number {
	return Date.UTC(digitsOf(local, 0, 4), digitsOf(local, 5, 7) - 1, digitsOf(local, 8, 10), digitsOf(local, 11, 13));
}

export type LocalTimeSituation = 'normal' | 'overlap' | 'gap';

/**
 * Per zone, wall-clock hours known to be far from any change of offset. An hour whose offset is the same a day
 * before its start and a day after its end has no change near it (a zone changes at most a few times a year),
 * so every reading in it is normal, with that offset. A batch of a thousand rows then asks the zone (Intl, a few
 * µs per question) a couple of times per hour it spans, not four times per row.
 */
const steadyHours = new WeakMap<IANAZone, Map<number, number | null>>();
const STEADY_HOURS_KEPT = 10_000;

function steadyOffsetOfHour(hourStart: number, zone: IANAZone): number | undefined {
	let hours = steadyHours.get(zone);
	if (!hours) {
		hours = new Map();
		steadyHours.set(zone, hours);
	}
	let steady = hours.get(hourStart);
	if (steady === undefined) {
		const before = zone.offset(hourStart - DAY_MS);
		steady = before === zone.offset(hourStart + HOUR_MS + DAY_MS) ? before : null;
		if (hours.size >= STEADY_HOURS_KEPT) hours.clear();
		hours.set(hourStart, steady);
	}
	return steady ?? undefined;
}

/** The offset of a reading in a steady hour (see steadyOffsetOfHour); undefined near a change of offset. */
function steadyOffsetOf(local: string, zone: IANAZone): number | undefined {
	return LOCAL.test(local) ? steadyOffsetOfHour(wallClockHourMs(local), zone) : undefined;
}

export interface LocalTimeOffset {
	situation: LocalTimeSituation;
	/** Minutes east of UTC chosen for this reading (see `offsetOfLocalTime`). */
	offsetMinutes: number;
}

/**
 * Which UTC offset a wall-clock reading in `zone` has.
 * - normal: the one offset that makes it a real instant.
 * - overlap (autumn): both offsets are real; the EARLIER instant (the summer offset, e.g. +02:00) is chosen,
 *   so a change time is never later than the change, and an ambiguous marker is never presented as newer than it is.
 * - gap (spring): no offset is real (a clock that was not moved forward, or a hand-typed value); the offset from
 *   before the change (e.g. +01:00) is chosen, which keeps the database's digits and names the instant the
 *   reading would have been on the clock that was not moved yet.
 */
export function offsetOfLocalTime(local: string, zone: IANAZone): LocalTimeOffset {
	const steady = steadyOffsetOf(local, zone);
	return steady === undefined ? offsetNearAChange(local, zone) : { situation: 'normal', offsetMinutes: steady };
}

/** offsetOfLocalTime for a reading whose hour is not steady: the zone asked around it. */
function offsetNearAChange(local: string, zone: IANAZone): LocalTimeOffset {
	const wall = wallClockMs(local);
	const before = zone.offset(wall - DAY_MS);
	const after = zone.offset(wall + DAY_MS);
	const candidates = [...new Set([before, after, zone.offset(wall)])];
	const real = candidates.filter((offset) => zone.offset(wall - offset * 60_000) === offset);
	if (real.length === 0) return { situation: 'gap', offsetMinutes: before };
	if (real.length === 1) return { situation: 'normal', offsetMinutes: real[0] };
	return { situation: 'overlap', offsetMinutes: Math.max(...real) };
}

/** Offsets as text, made once each: a zone has a handful, and every row read in local time carries one. */
const offsetTexts = new Map<number, string>();

function formatOffset(minutes: number): string {
	let text = offsetTexts.get(minutes);
	if (text === undefined) {
		const absolute = Math.abs(minutes);
		text = `${minutes < 0 ? '-' : '+'}${String(Math.floor(absolute / 60)).padStart(2, '0')}:${String(absolute % 60).padStart(2, '0')}`;
		offsetTexts.set(minutes, text);
	}
	return text;
}

/** ISO 8601 with offset, keeping every digit of the local reading: `2024-10-27T02:30:00.1234567+02:00`. */
export function changedAtInZone(local: string, zone: IANAZone): string {
	// The steady hour asked first: every row read in local time carries this, and it needs no object for the answer.
	return `${local}${formatOffset(steadyOffsetOf(local, zone) ?? offsetNearAChange(local, zone).offsetMinutes)}`;
}

function pad(value: number, width = 2): string {
	return String(value).padStart(width, '0');
}

/** The wall-clock reading of an instant in `zone`, to the millisecond, in the ISO form CONVERT(..., 126) reads. */
export function localReadingOf(instantMs: number, zone: IANAZone): string {
	const wall = new Date(instantMs + zone.offset(instantMs) * 60_000);
	return `${pad(wall.getUTCFullYear(), 4)}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}T${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}:${pad(wall.getUTCSeconds())}.${pad(wall.getUTCMilliseconds(), 3)}`;
}

/**
 * The earliest wall-clock reading any instant from `instantMs` on can carry in `zone`: where a rewind by elapsed
 * hours must land so that it re-sends every row changed since that instant.
 * - In the first pass of the autumn overlap, the second pass that follows reads lower (02:00 comes again), so it is
 *   the start of the overlap.
 * - In the hour after the spring change, a clock that was not moved forward still reads the skipped hour (02:xx,
 *   the readings offsetOfLocalTime gives the offset from before the gap), so it is that lower reading.
 * - Everywhere else, the instant's own reading.
 */
export function earliestReadingFrom(instantMs: number, zone: IANAZone): string {
	const reading = localReadingOf(instantMs, zone);
	const { situation } = offsetOfLocalTime(reading, zone);
	if (situation === 'overlap' && zone.offset(instantMs) > zone.offset(instantMs + DAY_MS)) {
		return localReadingOf(startOfOverlapAround(instantMs, zone), zone);
	}
	const offsetBefore = zone.offset(instantMs - DAY_MS);
	const notMovedReading = new Date(instantMs + offsetBefore * 60_000).toISOString().slice(0, 23);
	if (offsetOfLocalTime(notMovedReading, zone).situation === 'gap') return notMovedReading;
	return reading;
}

/** Reads SQL Server's CONVERT(varchar(33), SYSUTCDATETIME(), 126) text as an instant (to the millisecond). */
function instantOfUtcText(utc: string): number {
	return wallClockMs(utc);
}

/**
 * The exclusive upper bound, as a local wall-clock reading, for a marker written in local time: rows with a
 * marker before it are old enough to read. It is the server's clock minus the lag, read in the zone, except
 * while that reading is inside an autumn overlap: then it stays at the start of the overlap until the overlap
 * has passed in full. Otherwise a row written in the second 02:xx hour would carry a marker below a cursor
 * taken in the first one, and be skipped for good. The cost: once a year, rows written in that hour wait
 * about two hours.
 */
export function localUpperBound(serverUtc: string, lagSeconds: number, zone: IANAZone): string {
	const instant = instantOfUtcText(serverUtc) - lagSeconds * 1000;
	const reading = localReadingOf(instant, zone);
	const { situation } = offsetOfLocalTime(reading, zone);
	if (situation !== 'overlap') return reading;
	return localReadingOf(startOfOverlapAround(instant, zone), zone);
}

/**
 * The instant the clocks went back, for an instant inside an overlap (before it, in the first pass of the
 * ambiguous hour, or after it, in the second). Read in the zone, it is the first ambiguous wall-clock reading.
 * An overlap is at most a few hours wide, so the change lies within a day: found by bisection on the offset.
 */
function startOfOverlapAround(instant: number, zone: IANAZone): number {
	const changeIsAhead = zone.offset(instant + DAY_MS) < zone.offset(instant);
	let low = changeIsAhead ? instant : instant - DAY_MS;
	let high = changeIsAhead ? instant + DAY_MS : instant;
	const offsetAfter = zone.offset(high);
	while (high - low > 1) {
		const middle = Math.floor((low + high) / 2);
		if (zone.offset(middle) === offsetAfter) high = middle;
		else low = middle;
	}
	return high;
}
