/**
 * What the Contracting node reads and how it knows a row changed: the source table checked against the
 * catalogue, its key, its change marker, the columns to output and the filter. Resolving a `SourceSpec` (what
 * the editor says) into a `SourcePlan` (what the catalogue confirms) is where every bad name or type is caught,
 * before any SQL that reads rows is written. No I/O here.
 */
import type { IANAZone } from 'luxon';

import type { CatalogColumn, CatalogTable } from '../catalog';
import { columnNamed } from '../catalog';
import type { CursorKind } from './cursor';
import type { QualifiedName } from './identifiers';
import { displayQualifiedName } from './identifiers';
import { zoneNamed } from './timeZone';
import { isTemporalTypeName } from './sqlTypes';
import type { SqlType } from '../transport/types';

/** An error about the source or the cursor that a partner can act on: `advice` says what to do. */
export class ChangeSourceError extends Error {
	constructor(
		message: string,
		readonly advice: string,
	) {
		super(message);
		this.name = 'ChangeSourceError';
	}
}

export type MarkerKind = CursorKind;
export type TimeEncoding = 'hhmmss' | 'hhmm';

export type MarkerSpec =
	| { kind: 'datetime'; column: string }
	| { kind: 'dateAndTime'; dateColumn: string; timeColumn: string; timeEncoding: TimeEncoding }
	| { kind: 'rowversion'; column: string }
	| { kind: 'changeTracking' };

export type FilterOperator = 'equal' | 'notEqual' | 'less' | 'lessOrEqual' | 'greater' | 'greaterOrEqual' | 'like' | 'isNull' | 'isNotNull';

export interface FilterCondition {
	column: string;
	operator: FilterOperator;
	value?: string | number | boolean | null;
}

/**
 * `firstRunOnly`: rows whose marker is NULL are read once, when reading from the beginning, before every row
 * with a marker; afterwards they are not seen until their marker is set. `never`: they are never read.
 */
export type NullMarkerRule = 'firstRunOnly' | 'never';

export interface SourceSpec {
	stream: string;
	table: QualifiedName;
	/** Empty: the table's primary key. */
	keyColumns: string[];
	marker: MarkerSpec;
	/** 'all', or the columns to output (the key columns are always output). */
	outputColumns: 'all' | string[];
	filters: FilterCondition[];
	timeZone: string;
	lagSeconds: number;
	nullMarkers: NullMarkerRule;
}

export type DateEncoding = 'date' | 'datetime' | 'yyyymmdd';
export type TimePartEncoding = 'time' | TimeEncoding;

export type ResolvedMarker =
	| { kind: 'datetime'; column: CatalogColumn; type: SqlType }
	| {
			kind: 'dateAndTime';
			date: { column: CatalogColumn; encoding: DateEncoding };
			time: { column: CatalogColumn; encoding: TimePartEncoding; scale: number };
	  }
	| { kind: 'rowversion'; column: CatalogColumn }
	| { kind: 'changeTracking' };

export interface ResolvedFilter {
	column: CatalogColumn;
	operator: FilterOperator;
	/** The parameter, typed as the column (temporal and decimal values as varchar, CONVERTed in the statement). */
	parameter?: { type: SqlType; value: string | number | boolean };
}

export interface SourcePlan {
	stream: string;
	table: CatalogTable;
	keys: CatalogColumn[];
	marker: ResolvedMarker;
	output: CatalogColumn[];
	filters: ResolvedFilter[];
	zone: IANAZone;
	lagSeconds: number;
	nullMarkers: NullMarkerRule;
}

const DATETIME_TYPES = new Set(['datetime', 'datetime2', 'smalldatetime']);
const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'int', 'bigint']);
const STRING_TYPES = new Set(['char', 'varchar', 'nchar', 'nvarchar', 'text', 'ntext']);
const BINARY_TYPES = new Set(['binary', 'varbinary', 'timestamp', 'rowversion']);
/** Types whose text form is not exact in SQL Server's default conversion, so they cannot carry a cursor key. */
const INEXACT_KEY_TYPES = new Set(['float', 'real', 'money', 'smallmoney']);

export const typeOf = (column: CatalogColumn): string => column.typeName.toLowerCase();
export const isTemporal = (column: CatalogColumn): boolean => isTemporalTypeName(column.typeName);
export const isBinary = (column: CatalogColumn): boolean => BINARY_TYPES.has(typeOf(column));
export const isRowversion = (column: CatalogColumn): boolean => ['timestamp', 'rowversion'].includes(typeOf(column));

function describeType(column: CatalogColumn): string {
	const type = typeOf(column);
	return type === 'timestamp' ? 'rowversion' : type;
}

function wrongType(
	table: CatalogTable,
	column: CatalogColumn,
	role: string,
	expected: string,
	remedy = 'Pick another column, or another change marker kind.',
): ChangeSourceError {
	return new ChangeSourceError(
		`Column "${column.name}" of ${displayQualifiedName(table.name)} is ${describeType(column)}, which cannot be used as the ${role}`,
		`The ${role} must be ${expected}. ${remedy}`,
	);
}

function resolveMarker(table: CatalogTable, spec: MarkerSpec): ResolvedMarker {
	switch (spec.kind) {
		case 'datetime': {
			const column = columnNamed(table, spec.column);
			if (!DATETIME_TYPES.has(typeOf(column)) || !column.sqlType) {
				throw wrongType(table, column, 'change marker', 'datetime, datetime2 or smalldatetime');
			}
			return { kind: 'datetime', column, type: column.sqlType };
		}
		case 'dateAndTime': {
			const date = columnNamed(table, spec.dateColumn);
			const time = columnNamed(table, spec.timeColumn);
			const dateType = typeOf(date);
			const dateEncoding: DateEncoding | undefined =
				dateType === 'date' ? 'date' : DATETIME_TYPES.has(dateType) ? 'datetime' : ['int', 'bigint'].includes(dateType) ? 'yyyymmdd' : undefined;
			if (!dateEncoding) throw wrongType(table, date, 'change date', 'date, datetime, or an integer holding yyyymmdd');
			const timeType = typeOf(time);
			const timeEncoding: TimePartEncoding | undefined =
				timeType === 'time' ? 'time' : INTEGER_TYPES.has(timeType) ? spec.timeEncoding : undefined;
			if (!timeEncoding) throw wrongType(table, time, 'change time', 'time, or an integer holding hhmmss or hhmm');
			return {
				kind: 'dateAndTime',
				date: { column: date, encoding: dateEncoding },
				time: { column: time, encoding: timeEncoding, scale: timeType === 'time' ? time.scale : 0 },
			};
		}
		case 'rowversion': {
			const column = columnNamed(table, spec.column);
			if (!isRowversion(column)) throw wrongType(table, column, 'change marker', 'a rowversion (timestamp) column');
			return { kind: 'rowversion', column };
		}
		case 'changeTracking':
			if (!table.changeTracking) {
				throw new ChangeSourceError(
					`Change Tracking is not enabled on ${displayQualifiedName(table.name)}`,
					`Ask the database administrator to run ALTER DATABASE … SET CHANGE_TRACKING = ON (once per database) and ALTER TABLE ${displayQualifiedName(table.name)} ENABLE CHANGE_TRACKING, or choose a date-time or rowversion change marker.`,
				);
			}
			return { kind: 'changeTracking' };
	}
}

const KEY_ADVICE =
	'Choose key columns that are NOT NULL and together unique: the primary key, or the columns of a unique index or constraint that has no filter and is enabled. Leave the key columns empty to use the primary key.';

/**
 * A table's key columns must identify one row each: NOT NULL (a NULL key cannot be compared or carried in the
 * cursor) and covering a unique key SQL Server enforces (otherwise rows tied on the key are skipped across
 * batches). A view has no such guarantee; its keys are checked on every batch instead (checkBatchKeys).
 */
function checkKeysIdentifyOneRow(table: CatalogTable, keys: CatalogColumn[]): void {
	const nullable = keys.find((key) => key.nullable);
	if (nullable) {
		throw new ChangeSourceError(
			`Key column "${nullable.name}" of ${displayQualifiedName(table.name)} allows NULL, so a row with an empty key could not be read in order or found again`,
			KEY_ADVICE,
		);
	}
	const chosen = new Set(keys.map((key) => key.name.toLowerCase()));
	if (!table.uniqueKeys.some((unique) => unique.every((name) => chosen.has(name.toLowerCase())))) {
		throw new ChangeSourceError(
			`The key columns ${keys.map((key) => key.name).join(', ')} of ${displayQualifiedName(table.name)} are not unique: no primary key or enabled unique index without a filter covers them, so rows with the same key could be skipped`,
			KEY_ADVICE,
		);
	}
}

function resolveKeys(table: CatalogTable, keyColumns: string[], marker: MarkerSpec): CatalogColumn[] {
	const chosen = keyColumns.length > 0 ? keyColumns : table.primaryKey;
	if (chosen.length === 0) {
		throw new ChangeSourceError(
			`${displayQualifiedName(table.name)} has no primary key, so the node cannot tell its rows apart`,
			'Choose the key columns: one or more columns whose values together are unique for every row.',
		);
	}
	const keys = [...new Set(chosen.map((name) => columnNamed(table, name).name))].map((name) => columnNamed(table, name));
	for (const key of keys) {
		if (INEXACT_KEY_TYPES.has(typeOf(key)) || !key.sqlType || isRowversion(key)) {
			throw wrongType(table, key, 'key column', 'an integer, text, date-time, decimal or uniqueidentifier column', 'Choose other key columns.');
		}
	}
	if (marker.kind === 'changeTracking') {
		const primaryKey = table.primaryKey.map((name) => name.toLowerCase());
		const same = keys.length === primaryKey.length && keys.every((key) => primaryKey.includes(key.name.toLowerCase()));
		if (!same) {
			throw new ChangeSourceError(
				`Change Tracking identifies rows of ${displayQualifiedName(table.name)} by its primary key (${table.primaryKey.join(', ')}), not by ${keys.map((key) => key.name).join(', ')}`,
				'Leave the key columns empty (the primary key) when the change marker is Change Tracking.',
			);
		}
	}
	if (table.kind === 'table') checkKeysIdentifyOneRow(table, keys);
	return keys;
}

/** Whether a column can be output: a type the catalogue maps, or xml (output as text). */
const isOutputable = (column: CatalogColumn): boolean => column.sqlType !== undefined || typeOf(column) === 'xml';

function resolveOutput(table: CatalogTable, outputColumns: 'all' | string[], keys: CatalogColumn[]): CatalogColumn[] {
	if (outputColumns === 'all') return table.columns.filter(isOutputable);
	const selected = outputColumns.map((name) => columnNamed(table, name));
	for (const column of selected) {
		if (!isOutputable(column)) {
			throw new ChangeSourceError(
				`Column "${column.name}" of ${displayQualifiedName(table.name)} is ${typeOf(column)}, which this node cannot output${column.notMappable ? ` (${column.notMappable})` : ''}`,
				'Leave it out of the columns to output, or output it from a view that converts it to text.',
			);
		}
	}
	const names = new Set([...keys, ...selected].map((column) => column.name));
	return table.columns.filter((column) => names.has(column.name));
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_LOCAL = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?$/;
const ISO_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?([+-]\d{2}:\d{2}|Z)$/;
const ISO_TIME = /^\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function filterParameter(table: CatalogTable, column: CatalogColumn, operator: FilterOperator, raw: unknown): ResolvedFilter['parameter'] {
	if (operator === 'isNull' || operator === 'isNotNull') return undefined;
	const type = typeOf(column);
	const text = raw === null || raw === undefined ? '' : String(raw).trim();
	const refuse = (expected: string) =>
		new ChangeSourceError(
			`The filter value "${text}" for column "${column.name}" of ${displayQualifiedName(table.name)} is not ${expected}`,
			`Enter ${expected}, or use "Is Empty" / "Is Not Empty" to filter on NULL.`,
		);
	if (operator === 'like' && !STRING_TYPES.has(type)) {
		throw new ChangeSourceError(
			`"Like" needs a text column, and "${column.name}" is ${type}`,
			'Use Equal, Greater Than or Less Than for this column.',
		);
	}
	if (INTEGER_TYPES.has(type)) {
		const value = Number(text);
		if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value)) throw refuse('a whole number');
		return { type: column.sqlType as SqlType, value };
	}
	if (['decimal', 'numeric', 'money', 'smallmoney'].includes(type)) {
		// As text, converted by SQL Server: every digit of a decimal(38) is kept (a JavaScript number keeps 15-16).
		if (!/^[-+]?(\d+(\.\d*)?|\.\d+)$/.test(text)) throw refuse('a number (with . as decimal separator)');
		return { type: { name: 'varchar', length: 41 }, value: text };
	}
	if (['float', 'real'].includes(type)) {
		const value = Number(text);
		if (text === '' || !Number.isFinite(value)) throw refuse('a number (with . as decimal separator)');
		return { type: column.sqlType as SqlType, value };
	}
	if (type === 'bit') {
		const lowered = text.toLowerCase();
		if (['true', '1', 'yes'].includes(lowered)) return { type: { name: 'bit' }, value: true };
		if (['false', '0', 'no'].includes(lowered)) return { type: { name: 'bit' }, value: false };
		throw refuse('true or false');
	}
	if (STRING_TYPES.has(type)) {
		const unicode = type.startsWith('n');
		// The widest length of the column's type family, so a long value is compared whole, never cut to fit.
		return { type: { name: unicode ? 'nvarchar' : 'varchar', length: unicode ? 4000 : 8000 }, value: text };
	}
	if (type === 'uniqueidentifier') {
		if (!GUID.test(text)) throw refuse('a uniqueidentifier such as 6F9619FF-8B86-D011-B42D-00C04FC964FF');
		return { type: { name: 'uniqueidentifier' }, value: text };
	}
	if (isTemporal(column)) {
		const pattern = type === 'date' ? ISO_DATE : type === 'time' ? ISO_TIME : type === 'datetimeoffset' ? ISO_OFFSET : ISO_LOCAL;
		const valid = pattern.test(text) || (type !== 'time' && type !== 'datetimeoffset' && ISO_DATE.test(text));
		if (!valid) throw refuse(type === 'time' ? 'a time such as 13:45:00' : 'a date or date-time such as 2024-03-31 or 2024-03-31T13:45:00');
		return { type: { name: 'varchar', length: 34 }, value: text.replace(' ', 'T') };
	}
	throw new ChangeSourceError(
		`The node cannot filter on column "${column.name}" of type ${type}`,
		'Filter on another column, or read from a view that filters the rows.',
	);
}

function resolveFilters(table: CatalogTable, filters: FilterCondition[]): ResolvedFilter[] {
	return filters.map((filter) => {
		const column = columnNamed(table, filter.column);
		return { column, operator: filter.operator, parameter: filterParameter(table, column, filter.operator, filter.value) };
	});
}

export const MAX_LAG_SECONDS = 7 * 24 * 3600;

function checkLag(lagSeconds: number): number {
	if (!Number.isFinite(lagSeconds) || lagSeconds < 0 || lagSeconds > MAX_LAG_SECONDS) {
		throw new ChangeSourceError(
			`The safety lag must be from 0 to ${MAX_LAG_SECONDS} seconds, not ${lagSeconds}`,
			'Use the default of 60 seconds unless transactions on the Contracting database can stay open longer.',
		);
	}
	return lagSeconds;
}

/** Checks the editor's choices against the table's catalogue entry; throws a ChangeSourceError, UnknownColumnError or TimeZoneError. */
export function resolveSourcePlan(table: CatalogTable, spec: SourceSpec): SourcePlan {
	const marker = resolveMarker(table, spec.marker);
	const keys = resolveKeys(table, spec.keyColumns, spec.marker);
	return {
		stream: spec.stream,
		table,
		keys,
		marker,
		output: resolveOutput(table, spec.outputColumns, keys),
		filters: resolveFilters(table, spec.filters),
		zone: zoneNamed(spec.timeZone),
		lagSeconds: checkLag(spec.lagSeconds),
		nullMarkers: spec.nullMarkers,
	};
}

/** Whether a marker kind's values are local wall-clock readings (and so have a change time in the zone). */
export function isLocalTimeMarker(kind: MarkerKind): boolean {
	return kind === 'datetime' || kind === 'dateAndTime';
}
