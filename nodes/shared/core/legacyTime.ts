/**
 * The legacy integer times (hhmmss, hhmm) as ONE list of digit groups, decoded and encoded through one shape that
 * is rendered twice: as T-SQL integer arithmetic for the read, and as JavaScript arithmetic for the in-memory change
 * source. A change to a group or to the shape changes both, so the in-memory tests see what the T-SQL means. No I/O.
 */
import type { TimeEncoding } from './markers';

export type TimeUnit = 'hour' | 'minute' | 'second';

/** One pair of decimal digits of the integer: the time unit it holds, its weight (134501: hour × 10000) and its limit. */
export interface DigitGroup {
	readonly unit: TimeUnit;
	readonly weight: number;
	/** The group's values are below this: 24 hours, 60 minutes, 60 seconds. */
	readonly limit: number;
}

/** Every group is two decimal digits, so a group's value is the integer divided by its weight, modulo 100. */
const GROUP_SPAN = 100;

export const DIGIT_GROUPS: Readonly<Record<TimeEncoding, readonly DigitGroup[]>> = {
	hhmmss: [
		{ unit: 'hour', weight: 10000, limit: 24 },
		{ unit: 'minute', weight: 100, limit: 60 },
		{ unit: 'second', weight: 1, limit: 60 },
	],
	hhmm: [
		{ unit: 'hour', weight: 100, limit: 24 },
		{ unit: 'minute', weight: 1, limit: 60 },
	],
};

const TIME_UNITS: readonly TimeUnit[] = ['hour', 'minute', 'second'];

/** Integer arithmetic and comparison on values of T, giving truths of B: numbers (the twin) or T-SQL text (the read). */
interface IntegerArithmetic<T, B> {
	constant(value: number): T;
	quotient(value: T, divisor: number): T;
	remainder(value: T, divisor: number): T;
	product(value: T, factor: number): T;
	sum(values: T[]): T;
	lessThan(value: T, limit: number): B;
	atLeast(value: T, limit: number): B;
	all(truths: B[]): B;
}

const NUMBERS: IntegerArithmetic<number, boolean> = {
	constant: (value) => value,
	quotient: (value, divisor) => Math.floor(value / divisor),
	remainder: (value, divisor) => value % divisor,
	product: (value, factor) => value * factor,
	sum: (values) => values.reduce((total, value) => total + value, 0),
	lessThan: (value, limit) => value < limit,
	atLeast: (value, limit) => value >= limit,
	all: (truths) => truths.every(Boolean),
};

const TSQL: IntegerArithmetic<string, string> = {
	constant: (value) => String(value),
	quotient: (value, divisor) => `${value} / ${divisor}`,
	remainder: (value, divisor) => `${value} % ${divisor}`,
	product: (value, factor) => `${value} * ${factor}`,
	sum: (values) => `(${values.join(' + ')})`,
	lessThan: (value, limit) => `${value} < ${limit}`,
	atLeast: (value, limit) => `${value} >= ${limit}`,
	all: (truths) => truths.join(' AND '),
};

/** Hours, minutes and seconds of an integer time; a unit the encoding has no group for is 0. */
function decode<T, B>(arithmetic: IntegerArithmetic<T, B>, encoding: TimeEncoding, time: T): T[] {
	const groups = DIGIT_GROUPS[encoding];
	return TIME_UNITS.map((unit) => {
		const group = groups.find((candidate) => candidate.unit === unit);
		if (!group) return arithmetic.constant(0);
		const shifted = group.weight === 1 ? time : arithmetic.quotient(time, group.weight);
		return arithmetic.remainder(shifted, GROUP_SPAN);
	});
}

/** The integer time of hours, minutes and seconds; a unit the encoding has no group for is dropped. */
function encode<T, B>(arithmetic: IntegerArithmetic<T, B>, encoding: TimeEncoding, partOf: (unit: TimeUnit) => T): T {
	return arithmetic.sum(DIGIT_GROUPS[encoding].map((group) => (group.weight === 1 ? partOf(group.unit) : arithmetic.product(partOf(group.unit), group.weight))));
}

/**
 * Whether an integer time is a time of day: not negative, and each group below its limit, the leading group taken
 * whole (so 240000 is no time, rather than 00:00 of a 24th hour).
 */
function isTimeOfDay<T, B>(arithmetic: IntegerArithmetic<T, B>, encoding: TimeEncoding, time: T): B {
	const groups = DIGIT_GROUPS[encoding].map((group, index) => {
		const shifted = group.weight === 1 ? time : arithmetic.quotient(time, group.weight);
		return arithmetic.lessThan(index === 0 ? shifted : arithmetic.remainder(shifted, GROUP_SPAN), group.limit);
	});
	return arithmetic.all([arithmetic.atLeast(time, 0), ...groups]);
}

/** Whether an integer time is a time of day, as the T-SQL's check decides it. */
export const legacyTimeIsTimeOfDay = (encoding: TimeEncoding, time: number): boolean => Number.isInteger(time) && isTimeOfDay(NUMBERS, encoding, time);

/** T-SQL: whether an integer time expression is a time of day. */
export const legacyTimeIsTimeOfDaySql = (encoding: TimeEncoding, time: string): string => isTimeOfDay(TSQL, encoding, time);

/** [hours, minutes, seconds] of an integer time, as the T-SQL's decode computes them. */
export const decodeLegacyTime = (encoding: TimeEncoding, time: number): number[] => decode(NUMBERS, encoding, time);

/** T-SQL: the time(7) of an integer time expression. */
export const decodeLegacyTimeSql = (encoding: TimeEncoding, time: string): string => `TIMEFROMPARTS(${decode(TSQL, encoding, time).join(', ')}, 0, 0)`;

/** The integer time of [hours, minutes, seconds], as the T-SQL's encode computes it. */
export function encodeLegacyTime(encoding: TimeEncoding, [hours, minutes, seconds]: number[]): number {
	const parts: Record<TimeUnit, number> = { hour: hours, minute: minutes, second: seconds };
	return encode(NUMBERS, encoding, (unit) => parts[unit]);
}

/** T-SQL: the integer time of a datetime2 expression. */
export const encodeLegacyTimeSql = (encoding: TimeEncoding, dateTime: string): string => encode(TSQL, encoding, (unit) => `DATEPART(${unit}, ${dateTime})`);
