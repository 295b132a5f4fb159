/**
 * The legacy integer times (hhmmss, hhmm) as ONE list of digit groups, decoded and encoded through one shape that
 * is rendered twice: as T-SQL integer arithmetic for the read, and as JavaScript arithmetic for the in-memory change
 * source. A change to a group or to the shape changes both, so the in-memory tests see what the T-SQL means. No I/O.
 */
import type { TimeEncoding } from './markers';

export type TimeUnit = 'hour' | 'minute' | 'second';

/** One pair of decimal digits of the integer: the time unit it holds and its weight (134501: hour × 10000). */
export interface DigitGroup {
	readonly unit: TimeUnit;
	readonly weight: number;
}

/** Every group is two decimal digits, so a group's value is the integer divided by its weight, modulo 100. */
const GROUP_SPAN = 100;

export const DIGIT_GROUPS: Readonly<Record<TimeEncoding, readonly DigitGroup[]>> = {
	hhmmss: [
		{ unit: 'hour', weight: 10000 },
		{ unit: 'minute', weight: 100 },
		{ unit: 'second', weight: 1 },
	],
	hhmm: [
		{ unit: 'hour', weight: 100 },
		{ unit: 'minute', weight: 1 },
	],
};

const TIME_UNITS: readonly TimeUnit[] = ['hour', 'minute', 'second'];

/** Integer arithmetic on values of T: numbers (the twin) or T-SQL expression text (the read). */
interface IntegerArithmetic<T> {
	constant(value: number): T;
	quotient(value: T, divisor: number): T;
	remainder(value: T, divisor: number): T;
	product(value: T, factor: number): T;
	sum(values: T[]): T;
}

const NUMBERS: IntegerArithmetic<number> = {
	constant: (value) => value,
	quotient: (value, divisor) => Math.floor(value / divisor),
	remainder: (value, divisor) => value % divisor,
	product: (value, factor) => value * factor,
	sum: (values) => values.reduce((total, value) => total + value, 0),
};

const TSQL: IntegerArithmetic<string> = {
	constant: (value) => String(value),
	quotient: (value, divisor) => `${value} / ${divisor}`,
	remainder: (value, divisor) => `${value} % ${divisor}`,
	product: (value, factor) => `${value} * ${factor}`,
	sum: (values) => `(${values.join(' + ')})`,
};

/** Hours, minutes and seconds of an integer time; a unit the encoding has no group for is 0. */
function decode<T>(arithmetic: IntegerArithmetic<T>, encoding: TimeEncoding, time: T): T[] {
	const groups = DIGIT_GROUPS[encoding];
	return TIME_UNITS.map((unit) => {
		const group = groups.find((candidate) => candidate.unit === unit);
		if (!group) return arithmetic.constant(0);
		const shifted = group.weight === 1 ? time : arithmetic.quotient(time, group.weight);
		return arithmetic.remainder(shifted, GROUP_SPAN);
	});
}

/** The integer time of hours, minutes and seconds; a unit the encoding has no group for is dropped. */
function encode<T>(arithmetic: IntegerArithmetic<T>, encoding: TimeEncoding, partOf: (unit: TimeUnit) => T): T {
	return arithmetic.sum(DIGIT_GROUPS[encoding].map((group) => (group.weight === 1 ? partOf(group.unit) : arithmetic.product(partOf(group.unit), group.weight))));
}

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
