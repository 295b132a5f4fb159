/**
 * The ordering terms of a change read (see ordering.ts): the change marker's terms, then the key columns, each
 * with its T-SQL and the value the in-memory twin computes for it. A date + time marker is read through a
 * CROSS APPLY that turns a NULL, zero or impossible date (or an impossible time) into a NULL marker, so such a
 * row is read with the NULL-marker rows and never reaches DATEFROMPARTS / TIMEFROMPARTS, which would raise an
 * error and stop the stream. No I/O here.
 */
import type { CatalogColumn } from '../catalog';
import { quoteIdentifier } from './identifiers';
import { decodeLegacyTime, decodeLegacyTimeSql, encodeLegacyTime, encodeLegacyTimeSql, legacyTimeIsTimeOfDay, legacyTimeIsTimeOfDaySql } from './legacyTime';
import type { ResolvedMarker } from './markers';
import { isBinary, isTemporal, typeOf } from './markers';
import type { OrderingTerm, RowValues, TermValue } from './ordering';
import { sqlTypeText } from './sqlTypes';

export const column = (alias: string, catalogColumn: CatalogColumn): string => `${alias}.${quoteIdentifier(catalogColumn.name)}`;

/** Date and date-time types take style 126 (ISO 8601); time's default style is already ISO (hh:mm:ss.fffffff). */
export const usesIsoStyle = (catalogColumn: CatalogColumn): boolean => isTemporal(catalogColumn) && typeOf(catalogColumn) !== 'time';

const EXACT_NUMBER_TYPES = new Set(['decimal', 'numeric', 'money', 'smallmoney']);

/** Whether a column's values travel as text so that no digit is lost: decimal, numeric and money (a double has 15-16). */
export const isExactNumber = (catalogColumn: CatalogColumn): boolean => EXACT_NUMBER_TYPES.has(typeOf(catalogColumn));

/**
 * T-SQL turning a text parameter back into a date, time, binary or exact-number column's own type without losing a
 * digit: date and date-time by style 126, time by its default (already ISO) style, binary from 0x… by style 1,
 * decimal / numeric / money by the plain conversion (exact). Undefined for the other types, whose values travel as
 * parameters of the column's own type.
 */
export function exactFromText(catalogColumn: CatalogColumn, parameter: string): string | undefined {
	const type = sqlTypeText(catalogColumn.sqlType ?? { name: 'nvarchar', length: 4000 });
	if (usesIsoStyle(catalogColumn)) return `CONVERT(${type}, ${parameter}, 126)`;
	if (isTemporal(catalogColumn) || isExactNumber(catalogColumn)) return `CONVERT(${type}, ${parameter})`;
	if (isBinary(catalogColumn)) return `CONVERT(${type}, ${parameter}, 1)`;
	return undefined;
}

function keyValueExpression(key: CatalogColumn, parameter: string): string {
	return exactFromText(key, parameter) ?? `CONVERT(${sqlTypeText(key.sqlType ?? { name: 'nvarchar', length: 4000 })}, ${parameter})`;
}

const TEXT_TYPES = new Set(['char', 'varchar', 'nchar', 'nvarchar', 'text', 'ntext']);
const NUMBER_TYPES = new Set(['tinyint', 'smallint', 'int', 'bigint', 'bit', 'float', 'real']);

/** ISO date-times and times with their fraction padded to 7 digits, so they order as text the way SQL Server orders them. */
function paddedIso(text: string): string {
	const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}|\d{2}:\d{2}:\d{2})(?:\.(\d{1,7}))?$/.exec(text);
	return match ? `${match[1]}.${(match[2] ?? '').padEnd(7, '0')}` : text;
}

/** The twin's value of a column: numbers as numbers (decimals too: the twin holds no more digits than a double), date-times as padded ISO text. */
export function twinValue(catalogColumn: CatalogColumn, value: unknown): TermValue | null {
	if (value === null || value === undefined) return null;
	const type = typeOf(catalogColumn);
	if (typeof value === 'boolean') return Number(value);
	if (typeof value === 'number' || typeof value === 'bigint') return value;
	if (NUMBER_TYPES.has(type) || isExactNumber(catalogColumn)) return Number(value);
	if (isBinary(catalogColumn)) return String(value).toUpperCase();
	if (isTemporal(catalogColumn)) return paddedIso(String(value));
	return String(value);
}

/** How SQL Server compares a column's values: text under the (case-insensitive) collation, everything else exactly. */
export const collationOf = (catalogColumn: CatalogColumn) => (TEXT_TYPES.has(typeOf(catalogColumn)) ? 'caseInsensitiveText' : 'exact') as OrderingTerm['collation'];

/** A key column as an ordering term; its cursor text goes back to the column's own type in T-SQL. */
export function keyTerm(key: CatalogColumn, alias: string): OrderingTerm {
	return {
		sql: column(alias, key),
		fromText: (parameter) => keyValueExpression(key, parameter),
		nullable: false,
		collation: collationOf(key),
		valueOf: (row) => twinValue(key, row[key.name]),
		valueOfText: (text) => twinValue(key, text) as TermValue,
	};
}

/** The local date-time text of a varchar parameter, as datetime2(7). */
const localDateTimeOf = (parameter: string) => `CONVERT(datetime2(7), ${parameter}, 126)`;

/** The alias of the CROSS APPLY that computes a date + time marker once per row. */
const MARKER_APPLY = 'mk';

type DateAndTimeMarker = Extract<ResolvedMarker, { kind: 'dateAndTime' }>;

/** Whether an integer yyyymmdd holds a real date (year 1–9999, month 1–12, a day the month has); arithmetic only, so it cannot raise an error. */
function validYyyymmddSql(d: string): string {
	const year = `${d} / 10000`;
	const month = `${d} / 100 % 100`;
	const leap = `((${year}) % 4 = 0 AND (${year}) % 100 <> 0 OR (${year}) % 400 = 0)`;
	const days = `CASE ${month} WHEN 2 THEN CASE WHEN ${leap} THEN 29 ELSE 28 END WHEN 4 THEN 30 WHEN 6 THEN 30 WHEN 9 THEN 30 WHEN 11 THEN 30 ELSE 31 END`;
	return `${d} BETWEEN 10000101 AND 99991231 AND ${month} BETWEEN 1 AND 12 AND ${d} % 100 BETWEEN 1 AND ${days}`;
}

function validYyyymmdd(value: number): boolean {
	if (!Number.isInteger(value) || value < 10000101 || value > 99991231) return false;
	const year = Math.floor(value / 10000);
	const month = Math.floor(value / 100) % 100;
	const day = value % 100;
	if (month < 1 || month > 12) return false;
	const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
	const days = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
	return day >= 1 && day <= days;
}

/** Whether an integer time (hhmmss or hhmm) is a time of day; NULL counts as 00:00. */
function validTimeSql(marker: DateAndTimeMarker, t: string): string {
	if (marker.time.encoding === 'time') return '1 = 1';
	return `(${t} IS NULL OR ${legacyTimeIsTimeOfDaySql(marker.time.encoding, t)})`;
}

function validTime(marker: DateAndTimeMarker, value: unknown): boolean {
	if (marker.time.encoding === 'time' || value === null || value === undefined) return true;
	return legacyTimeIsTimeOfDay(marker.time.encoding, Number(value));
}

/** Whether a row's date + time pair is a marker at all: a real date, and a real time or none. Otherwise it is read as a NULL marker. */
function markerIsValidSql(marker: DateAndTimeMarker): string {
	const d = column('src', marker.date.column);
	const date = marker.date.encoding === 'yyyymmdd' ? validYyyymmddSql(d) : `${d} IS NOT NULL`;
	return `${date} AND ${validTimeSql(marker, column('src', marker.time.column))}`;
}

function markerIsValid(marker: DateAndTimeMarker, row: RowValues): boolean {
	const date = row[marker.date.column.name];
	if (date === null || date === undefined) return false;
	if (marker.date.encoding === 'yyyymmdd' && !validYyyymmdd(Number(date))) return false;
	return validTime(marker, row[marker.time.column.name]);
}

/**
 * `CROSS APPLY`s that compute a date + time marker once per row: whether it is valid, then its date term, time
 * term and text, each NULL unless valid (CASE evaluates DATEFROMPARTS only for a valid pair). Empty for the other kinds.
 */
export function markerApplySql(marker: ResolvedMarker): string {
	if (marker.kind !== 'dateAndTime') return '';
	const d = column('src', marker.date.column);
	const t = column('src', marker.time.column);
	const dateValue = marker.date.encoding === 'datetime' ? `CONVERT(date, ${d})` : d;
	const timeValue = marker.time.encoding === 'time' ? `ISNULL(${t}, '00:00:00')` : `ISNULL(${t}, 0)`;
	const asDate = marker.date.encoding === 'yyyymmdd' ? `DATEFROMPARTS(${d} / 10000, ${d} / 100 % 100, ${d} % 100)` : `CONVERT(date, ${d})`;
	const asTime = marker.time.encoding === 'time' ? `CONVERT(time(7), ${timeValue})` : decodeLegacyTimeSql(marker.time.encoding, timeValue);
	const text = `CONVERT(varchar(33), DATEADD(day, DATEDIFF(day, CONVERT(date, '19000101'), ${asDate}), CONVERT(datetime2(7), ${asTime})), 126)`;
	const valid = `${MARKER_APPLY}v`;
	return `
CROSS APPLY (SELECT CASE WHEN ${markerIsValidSql(marker)} THEN 1 ELSE 0 END AS valid) AS ${valid}
CROSS APPLY (SELECT CASE WHEN ${valid}.valid = 1 THEN ${dateValue} END AS changeDate,
                    CASE WHEN ${valid}.valid = 1 THEN ${timeValue} END AS changeTime,
                    CASE WHEN ${valid}.valid = 1 THEN ${text} END AS changeText) AS ${MARKER_APPLY}`;
}

/** The marker as the exact text the cursor carries (CONVERT(varchar(33), m, 126)); NULL when the marker is NULL. */
export function markerTextSql(marker: ResolvedMarker): string {
	switch (marker.kind) {
		case 'datetime':
			return `CONVERT(varchar(33), ${column('src', marker.column)}, 126)`;
		case 'dateAndTime':
			return `${MARKER_APPLY}.changeText`;
		case 'rowversion':
			return `CONVERT(varchar(18), ${column('src', marker.column)}, 1)`;
		case 'changeTracking':
			return 'CONVERT(varchar(20), ct.SYS_CHANGE_VERSION)';
	}
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** The twin's marker text of a row, as markerTextSql gives it; null for a NULL (or invalid) marker. */
export function twinMarkerText(marker: ResolvedMarker, row: RowValues): string | null {
	switch (marker.kind) {
		case 'datetime':
		case 'rowversion': {
			const value = row[marker.column.name];
			return value === null || value === undefined ? null : String(value);
		}
		case 'dateAndTime': {
			if (!markerIsValid(marker, row)) return null;
			const date = row[marker.date.column.name];
			const dateText = marker.date.encoding === 'yyyymmdd' ? `${pad(Math.floor(Number(date) / 10000), 4)}-${pad(Math.floor(Number(date) / 100) % 100)}-${pad(Number(date) % 100)}` : String(date).slice(0, 10);
			const time = row[marker.time.column.name] ?? (marker.time.encoding === 'time' ? '00:00:00' : 0);
			if (marker.time.encoding === 'time') return `${dateText}T${paddedIso(String(time))}`;
			const [hours, minutes, seconds] = decodeLegacyTime(marker.time.encoding, Number(time));
			return `${dateText}T${pad(hours)}:${pad(minutes)}:${pad(seconds)}.0000000`;
		}
		case 'changeTracking':
			throw new Error('A Change Tracking marker is the change version, not a column');
	}
}

/** The date + time terms of a local date-time cursor text, as the T-SQL's CONVERTs of it compute them. */
function dateAndTimeOfText(marker: DateAndTimeMarker, text: string): [TermValue, TermValue] {
	const [date, time] = text.split('T');
	const dateValue = marker.date.encoding === 'yyyymmdd' ? Number(date.replace(/-/g, '')) : date;
	const timeValue =
		marker.time.encoding === 'time'
			? paddedIso(time)
			: encodeLegacyTime(
					marker.time.encoding,
					time.split(':').map((part) => Math.floor(Number(part))),
				);
	return [dateValue, timeValue];
}

/**
 * The change marker's ordering terms. Every term of a marker is NULL exactly when the marker is, so the first
 * term stands for "the marker is NULL". Change Tracking's one term is the change version (never NULL).
 */
export function markerTerms(marker: ResolvedMarker): OrderingTerm[] {
	switch (marker.kind) {
		case 'datetime': {
			// datetime and smalldatetime cannot read 7 fractional digits from text: go through datetime2(7)
			// (rounding to the nearest value the column can hold, which leaves no value of the column between).
			const sql = column('src', marker.column);
			return [
				{
					sql,
					fromText: (parameter) =>
						marker.type.name === 'datetime2' ? `CONVERT(${sqlTypeText(marker.type)}, ${parameter}, 126)` : `CONVERT(${sqlTypeText(marker.type)}, ${localDateTimeOf(parameter)})`,
					nullable: marker.column.nullable,
					collation: 'exact',
					seek: sql,
					valueOf: (row) => twinValue(marker.column, row[marker.column.name]),
					valueOfText: (text) => paddedIso(text),
				},
			];
		}
		case 'dateAndTime': {
			const dateFrom = (parameter: string) => {
				const local = localDateTimeOf(parameter);
				return marker.date.encoding === 'yyyymmdd' ? `CONVERT(int, CONVERT(char(8), ${local}, 112))` : `CONVERT(date, ${local})`;
			};
			const timeFrom = (parameter: string) => {
				const local = localDateTimeOf(parameter);
				if (marker.time.encoding === 'time') return `CONVERT(time(${marker.time.scale}), ${local})`;
				return encodeLegacyTimeSql(marker.time.encoding, local);
			};
			const parts = (row: RowValues) => (markerIsValid(marker, row) ? dateAndTimeOfText(marker, twinMarkerText(marker, row) as string) : null);
			return [
				{
					sql: `${MARKER_APPLY}.changeDate`,
					fromText: dateFrom,
					nullable: true,
					collation: 'exact',
					seek: column('src', marker.date.column),
					valueOf: (row) => parts(row)?.[0] ?? null,
					valueOfText: (text) => dateAndTimeOfText(marker, text)[0],
				},
				{
					sql: `${MARKER_APPLY}.changeTime`,
					fromText: timeFrom,
					nullable: true,
					collation: 'exact',
					valueOf: (row) => parts(row)?.[1] ?? null,
					valueOfText: (text) => dateAndTimeOfText(marker, text)[1],
				},
			];
		}
		case 'rowversion': {
			const sql = column('src', marker.column);
			return [
				{
					sql,
					fromText: (parameter) => `CONVERT(binary(8), ${parameter}, 1)`,
					nullable: false,
					collation: 'exact',
					seek: sql,
					valueOf: (row) => twinValue(marker.column, row[marker.column.name]),
					valueOfText: (text) => text.toUpperCase(),
				},
			];
		}
		case 'changeTracking':
			return [
				{
					sql: 'ct.SYS_CHANGE_VERSION',
					fromText: (parameter) => `CONVERT(bigint, ${parameter})`,
					nullable: false,
					collation: 'exact',
					valueOf: (row) => BigInt(row.SYS_CHANGE_VERSION as string | bigint),
					valueOfText: (text) => BigInt(text),
				},
			];
	}
}
