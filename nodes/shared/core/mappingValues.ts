import type { SqlType } from '../transport/types';
import { isTemporalTypeName, sqlTypeText } from './sqlTypes';

/**
 * What an item's value becomes before it is written to a column: JSON-safe, in the one form SQL Server
 * converts exactly. Temporal values stay text (ISO 8601) so no precision is lost on the way; decimals and money
 * stay text so 0.1 stays 0.1 and 19 digits stay 19; bigints beyond 2^53 stay text.
 */
export type TargetValue = string | number | boolean | null;

/**
 * Why a value cannot go into a column, in plain words. A conversion gives the value itself, or this: every row of
 * a batch is converted column by column, and a wrapper object per value would be most of what a row allocates.
 */
export class Refusal {
	constructor(readonly problem: string) {}
}

export type Conversion = TargetValue | Refusal;

const INTEGER_RANGES: Record<string, [bigint, bigint]> = {
	tinyint: [0n, 255n],
	smallint: [-32768n, 32767n],
	int: [-2147483648n, 2147483647n],
	bigint: [-9223372036854775808n, 9223372036854775807n],
};

const INTEGER_TEXT = /^[+-]?\d+$/;
const DECIMAL_TEXT = /^([+-])?(\d*)(?:\.(\d*))?$/;
const GUID_TEXT = /^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$/;
const DATE_TIME_TEXT =
	/^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const TIME_TEXT = /^(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?$/;

function describeValue(value: unknown): string {
	const text = typeof value === 'string' ? `"${value}"` : JSON.stringify(value) ?? String(value);
	return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function numberText(value: number): string {
	return Number.isInteger(value) && Math.abs(value) < 1e21 ? value.toFixed(0) : String(value);
}

function convertBit(value: unknown): Conversion {
	if (typeof value === 'boolean') return value;
	if (value === 0 || value === 1) return value === 1;
	if (typeof value === 'string') {
		const text = value.trim().toLowerCase();
		if (text === 'true' || text === '1') return true;
		if (text === 'false' || text === '0') return false;
	}
	return new Refusal(`${describeValue(value)} is not a yes/no value (true, false, 1 or 0)`);
}

function convertInteger(typeName: string, value: unknown): Conversion {
	// Indexed, not destructured: array destructuring runs the iterator protocol (an object per value converted).
	const range = INTEGER_RANGES[typeName];
	const min = range[0];
	const max = range[1];
	// The common case without text and BigInt: a whole number JavaScript holds exactly (every one is within bigint's range).
	if (Number.isSafeInteger(value)) {
		const number = value as number;
		if (number < min || number > max) return new Refusal(`${describeValue(value)} is out of range for ${typeName}`);
		return number === 0 ? 0 : number; // -0 as 0, as its text "0" gave
	}
	let text: string;
	if (typeof value === 'number' && Number.isFinite(value)) text = numberText(value);
	else if (typeof value === 'string' && INTEGER_TEXT.test(value.trim())) text = value.trim();
	else if (typeof value === 'bigint') text = value.toString();
	else return new Refusal(`${describeValue(value)} is not a whole number`);
	if (!INTEGER_TEXT.test(text)) return new Refusal(`${describeValue(value)} is not a whole number`);
	const parsed = BigInt(text);
	if (parsed < min || parsed > max) return new Refusal(`${describeValue(value)} is out of range for ${typeName}`);
	return Number.isSafeInteger(Number(parsed)) ? Number(parsed) : parsed.toString();
}

function convertDecimal(type: SqlType, value: unknown): Conversion {
	const text =
		typeof value === 'number' && Number.isFinite(value)
			? Math.abs(value) >= 1e21 || String(value).includes('e')
				? value.toFixed(type.scale ?? 0)
				: String(value)
			: typeof value === 'string'
				? value.trim()
				: undefined;
	const parts = text === undefined ? null : DECIMAL_TEXT.exec(text);
	if (!parts || (parts[2] === '' && (parts[3] ?? '') === '')) return new Refusal(`${describeValue(value)} is not a number`);
	const integerDigits = parts[2].replace(/^0+/, '').length;
	const allowed = (type.precision ?? 18) - (type.scale ?? 0);
	if (integerDigits > allowed) {
		return new Refusal(`${describeValue(value)} has more digits before the decimal point than ${sqlTypeText(type)} allows (${allowed})`);
	}
	return text as string;
}

/** money is a decimal(19,4) in 8 bytes: ±922,337,203,685,477.5808, in units of 1/10,000. */
/** Parsed as a wide decimal; money's own range is checked in its units. */
const MONEY_TEXT = { name: 'decimal' as const, precision: 38, scale: 4 };
const MONEY_UNITS_LIMIT = 9223372036854775807n;

/**
 * money as exact text, like decimal (a double holds 15–16 digits; money has 19), within money's range after SQL
 * Server's rounding to 4 decimals, so an out-of-range value fails its row here rather than the whole batch.
 */
function convertMoney(value: unknown): Conversion {
	const converted = convertDecimal(MONEY_TEXT, value);
	if (converted instanceof Refusal) return converted;
	const [, sign, whole, fraction = ''] = DECIMAL_TEXT.exec(converted as string) as RegExpExecArray;
	const units = BigInt(`${whole || '0'}${fraction.padEnd(4, '0').slice(0, 4)}`) + (Number(fraction[4] ?? '0') >= 5 ? 1n : 0n);
	if (units > MONEY_UNITS_LIMIT + (sign === '-' ? 1n : 0n)) return new Refusal(`${describeValue(value)} is out of range for money`);
	return converted;
}

function convertFloat(value: unknown): Conversion {
	const parsed = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
	if (!Number.isFinite(parsed)) return new Refusal(`${describeValue(value)} is not a number`);
	return parsed;
}

function convertText(type: SqlType, value: unknown): Conversion {
	if (typeof value === 'object' || typeof value === 'function' || typeof value === 'symbol') {
		return new Refusal(`${describeValue(value)} is a list or an object, not text`);
	}
	const text = String(value);
	const length = type.length ?? 1;
	// Characters are counted only for text longer in UTF-16 units than allowed: it has at least as many units as characters.
	if (length !== -1 && text.length > length && [...text].length > length) {
		return new Refusal(`${describeValue(value)} is ${[...text].length} characters, longer than ${sqlTypeText(type)} allows`);
	}
	return text;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

interface WallClock {
	year: number;
	month: number;
	day: number;
	hour: number;
	minute: number;
	second: number;
	/** Fraction of a second as its digits, up to 7 (100 ns). */
	fraction: string;
	/** Minutes east of UTC, when the value said; undefined for a local (offset-less) value. */
	offsetMinutes?: number;
}

function temporalText(value: unknown): string | undefined {
	if (typeof value === 'string') return value.trim();
	if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
	if (typeof value === 'object' && value !== null && typeof (value as { toISO?: unknown }).toISO === 'function') {
		const iso = (value as { toISO: () => string | null }).toISO();
		return iso ?? undefined;
	}
	return undefined;
}

function parseOffset(text: string | undefined): number | undefined {
	if (text === undefined) return undefined;
	if (text.toUpperCase() === 'Z') return 0;
	const digits = text.replace(':', '');
	const minutes = Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5));
	return digits.startsWith('-') ? -minutes : minutes;
}

/** Date.UTC reads years below 100 as 19xx; SQL Server's date and datetime2 start at year 1. */
function utcDate(year: number, month: number, day: number, hour: number, minute: number, second: number): Date {
	const date = new Date(0);
	date.setUTCFullYear(year, month - 1, day);
	date.setUTCHours(hour, minute, second, 0);
	return date;
}

function parseWallClock(text: string): WallClock | undefined {
	const parts = DATE_TIME_TEXT.exec(text);
	if (!parts) return undefined;
	const [year, month, day, hour, minute, second] = parts.slice(1, 7).map((part) => Number(part ?? 0));
	const clock: WallClock = {
		year,
		month,
		day,
		hour,
		minute,
		second,
		fraction: (parts[7] ?? '').slice(0, 7),
		offsetMinutes: parseOffset(parts[8]),
	};
	const probe = utcDate(year, month, day, hour, minute, second);
	const valid =
		probe.getUTCFullYear() === year &&
		probe.getUTCMonth() === month - 1 &&
		probe.getUTCDate() === day &&
		probe.getUTCHours() === hour &&
		probe.getUTCMinutes() === minute &&
		second < 60;
	return valid ? clock : undefined;
}

/**
 * The driver reads datetime columns as UTC (useUTC), so a value with an offset is stored as its UTC wall clock:
 * what this package reads back is then the same instant it was given.
 */
function toUtcWallClock(clock: WallClock): WallClock {
	if (clock.offsetMinutes === undefined || clock.offsetMinutes === 0) return { ...clock, offsetMinutes: undefined };
	const shifted = utcDate(clock.year, clock.month, clock.day, clock.hour, clock.minute - clock.offsetMinutes, clock.second);
	return {
		year: shifted.getUTCFullYear(),
		month: shifted.getUTCMonth() + 1,
		day: shifted.getUTCDate(),
		hour: shifted.getUTCHours(),
		minute: shifted.getUTCMinutes(),
		second: shifted.getUTCSeconds(),
		fraction: clock.fraction,
	};
}

const dateText = (c: WallClock) => `${pad(c.year, 4)}-${pad(c.month)}-${pad(c.day)}`;
const timeText = (c: WallClock, digits: number) =>
	`${pad(c.hour)}:${pad(c.minute)}:${pad(c.second)}${digits > 0 ? `.${c.fraction.padEnd(7, '0').slice(0, digits)}` : ''}`;

function offsetText(minutes: number): string {
	const sign = minutes < 0 ? '-' : '+';
	const absolute = Math.abs(minutes);
	return `${sign}${pad(Math.floor(absolute / 60))}:${pad(absolute % 60)}`;
}

/** Built only when the value fails: its words describe the value, a string per value had they been built up front. */
function notTemporal(type: SqlType, value: unknown): Refusal {
	return new Refusal(`${describeValue(value)} is not a ${type.name === 'time' ? 'time of day' : 'date'} SQL Server can read (use ISO 8601, e.g. 2024-03-31T14:30:00)`);
}

function convertTemporal(type: SqlType, value: unknown): Conversion {
	const text = temporalText(value);
	if (text === undefined) return notTemporal(type, value);
	if (type.name === 'time') {
		const timeParts = TIME_TEXT.exec(text);
		const clock = timeParts
			? { hour: Number(timeParts[1]), minute: Number(timeParts[2]), second: Number(timeParts[3] ?? 0), fraction: (timeParts[4] ?? '').slice(0, 7) }
			: parseWallClock(text);
		if (!clock || clock.hour > 23 || clock.minute > 59 || clock.second > 59) return notTemporal(type, value);
		return timeText({ year: 0, month: 0, day: 0, ...clock }, 7);
	}
	const parsed = parseWallClock(text);
	if (!parsed) return notTemporal(type, value);
	if (type.name === 'datetimeoffset') {
		return `${dateText(parsed)}T${timeText(parsed, 7)}${offsetText(parsed.offsetMinutes ?? 0)}`;
	}
	const clock = toUtcWallClock(parsed);
	switch (type.name) {
		case 'date':
			return dateText(clock);
		case 'datetime':
			if (clock.year < 1753) return new Refusal(`${describeValue(value)} is before 1753, the earliest datetime`);
			return `${dateText(clock)}T${timeText(clock, 3)}`;
		case 'smalldatetime':
			if (clock.year < 1900 || clock.year > 2079) return new Refusal(`${describeValue(value)} is outside 1900–2079, the range of smalldatetime`);
			return `${dateText(clock)}T${timeText(clock, 0)}`;
		default:
			return `${dateText(clock)}T${timeText(clock, 7)}`;
	}
}

/**
 * Converts an item's value for a column the way SQL Server would accept it, or says in plain words why it
 * cannot be (a Refusal). Stricter than SQL Server where SQL Server would lose data silently (1.5 into an int).
 * null stays null; whether the column takes NULL is decided by the caller, which knows the column.
 */
export function convertForColumn(type: SqlType, value: unknown): Conversion {
	if (value === null || value === undefined) return null;
	switch (type.name) {
		case 'bit':
			return convertBit(value);
		case 'tinyint':
		case 'smallint':
		case 'int':
		case 'bigint':
			return convertInteger(type.name, value);
		case 'decimal':
		case 'numeric':
			return convertDecimal(type, value);
		case 'money':
			return convertMoney(value);
		case 'float':
		case 'real':
			return convertFloat(value);
		case 'char':
		case 'varchar':
		case 'nchar':
		case 'nvarchar':
			return convertText(type, value);
		case 'uniqueidentifier':
			return typeof value === 'string' && GUID_TEXT.test(value.trim())
				? value.trim().replace(/[{}]/g, '').toUpperCase()
				: new Refusal(`${describeValue(value)} is not a GUID`);
		case 'date':
		case 'time':
		case 'datetime':
		case 'datetime2':
		case 'smalldatetime':
		case 'datetimeoffset':
			return convertTemporal(type, value);
		default:
			return new Refusal(`columns of type ${type.name} cannot be written by this node`);
	}
}

export function isTemporal(type: SqlType): boolean {
	return isTemporalTypeName(type.name);
}
