/**
 * The cursor kept in an existing table (the "Store Cursor In" option): its columns are checked against the
 * catalogue before any statement names them, and the filter must pick exactly one row.
 */
import type { CatalogColumn, CatalogTable } from '../../shared/catalog';
import { columnNamed, describeTable } from '../../shared/catalog';
import { displayQualifiedName, quoteIdentifier, quoteQualifiedName } from '../../shared/core/identifiers';
import type { CursorLocation } from '../../shared/core/watermarkLocation';
import { CursorLocationError, describeLocation } from '../../shared/core/watermarkLocation';
import type { SqlParameter, SqlTransport } from '../../shared/transport/types';
import type { LocationSql } from './watermarkSql';

type ExistingLocation = Exclude<CursorLocation, { kind: 'packageTable' }>;

const TEXT_TYPES = ['char', 'varchar', 'nchar', 'nvarchar'];
const DATE_TYPES = ['date', 'datetime', 'datetime2', 'smalldatetime'];
const INTEGER_TYPES = ['int', 'bigint'];
const NUMERIC_TYPES = ['tinyint', 'smallint', 'int', 'bigint', 'decimal', 'numeric'];
const FILTER_TYPES = [...TEXT_TYPES, ...NUMERIC_TYPES, 'uniqueidentifier'];

export interface ResolvedLocation {
	sql: LocationSql;
	parameters: SqlParameter[];
	/** Throws when a stored value does not fit the column, before anything is written. */
	checkFits(value: string | null): void;
}

function requireType(table: CatalogTable, column: CatalogColumn, allowed: string[], role: string): void {
	if (!allowed.includes(column.typeName.toLowerCase())) {
		throw new CursorLocationError(
			`Column ${column.name} of ${displayQualifiedName(table.name)} is ${column.typeName}; as ${role} it must be one of ${allowed.join(', ')}`,
		);
	}
}

function filterParameter(table: CatalogTable, location: ExistingLocation): SqlParameter {
	const column = columnNamed(table, location.filterColumn);
	requireType(table, column, FILTER_TYPES, 'the column that picks the row');
	const numeric = NUMERIC_TYPES.includes(column.typeName.toLowerCase());
	const value = numeric ? Number(location.filterValue) : location.filterValue;
	if (numeric && (location.filterValue.trim() === '' || !Number.isFinite(value))) {
		throw new CursorLocationError(`"${location.filterValue}" is not a number, but ${column.name} holds numbers`);
	}
	return { name: 'filterValue', type: column.sqlType ?? { name: 'nvarchar', length: 4000 }, value };
}

/** yyyy-mm-dd from a date-ish or yyyymmdd integer column. */
function dateTextOf(column: string, typeName: string): string {
	return INTEGER_TYPES.includes(typeName)
		? `STUFF(STUFF(CONVERT(char(8), ${column}), 7, 0, '-'), 5, 0, '-')`
		: `CONVERT(char(10), ${column}, 126)`;
}

/** hh:mm:ss from a time or hhmmss integer column. */
function timeTextOf(column: string, typeName: string): string {
	return INTEGER_TYPES.includes(typeName)
		? `STUFF(STUFF(RIGHT('000000' + CONVERT(varchar(6), ${column}), 6), 5, 0, ':'), 3, 0, ':')`
		: `CONVERT(char(8), ${column}, 108)`;
}

function dateValueOf(variable: string, typeName: string): string {
	return INTEGER_TYPES.includes(typeName)
		? `CONVERT(int, REPLACE(LEFT(${variable}, 10), '-', ''))`
		: `CONVERT(date, LEFT(${variable}, 10), 126)`;
}

function timeValueOf(variable: string, typeName: string): string {
	return INTEGER_TYPES.includes(typeName)
		? `CONVERT(int, REPLACE(SUBSTRING(${variable}, 12, 8), ':', ''))`
		: `CONVERT(time(0), SUBSTRING(${variable}, 12, 8), 108)`;
}

/** Builds the SQL for a location from its catalogue description. Pure: tested without a server. */
function existingLocationSql(table: CatalogTable, location: ExistingLocation): ResolvedLocation {
	const target = quoteQualifiedName(table.name);
	const filter = filterParameter(table, location);
	const where = `WHERE ${quoteIdentifier(columnNamed(table, location.filterColumn).name)} = @filterValue`;
	if (location.kind === 'textColumn') {
		const column = columnNamed(table, location.cursorColumn);
		requireType(table, column, TEXT_TYPES, 'the cursor column');
		const quoted = quoteIdentifier(column.name);
		const characters = column.sqlType?.length ?? -1;
		return {
			parameters: [filter],
			sql: {
				read: (hints) => `SELECT @stored = CONVERT(nvarchar(max), ${quoted}) FROM ${target}${hints} ${where};`,
				write: (value) => `UPDATE ${target} SET ${quoted} = ${value} ${where};`,
				cursorTextOf: (value) => value,
			},
			checkFits(value) {
				if (value !== null && characters !== -1 && value.length > characters) {
					throw new CursorLocationError(
						`The watermark is ${value.length} characters long, but ${column.name} of ${displayQualifiedName(table.name)} holds ${characters}; widen it to nvarchar(max)`,
					);
				}
			},
		};
	}
	const dateColumn = columnNamed(table, location.dateColumn);
	const timeColumn = columnNamed(table, location.timeColumn);
	requireType(table, dateColumn, [...DATE_TYPES, ...INTEGER_TYPES], 'the date column');
	requireType(table, timeColumn, ['time', ...INTEGER_TYPES], 'the time column');
	const date = quoteIdentifier(dateColumn.name);
	const time = quoteIdentifier(timeColumn.name);
	const dateType = dateColumn.typeName.toLowerCase();
	const timeType = timeColumn.typeName.toLowerCase();
	const noDate = INTEGER_TYPES.includes(dateType) ? `${date} IS NULL OR ${date} = 0` : `${date} IS NULL`;
	return {
		parameters: [filter],
		sql: {
			read: (hints) => `SELECT @stored = CASE WHEN ${noDate} THEN NULL ELSE ${dateTextOf(date, dateType)} + 'T' + ISNULL(${timeTextOf(time, timeType)}, '00:00:00') END
FROM ${target}${hints} ${where};`,
			write: (value) => `UPDATE ${target} SET ${date} = ${dateValueOf(value, dateType)}, ${time} = ${timeValueOf(value, timeType)} ${where};`,
			cursorTextOf: (value) =>
				`CASE WHEN ${value} IS NULL THEN NULL ELSE CONCAT(N'{"kind":"', CASE WHEN @kind = 'dateAndTime' THEN 'dateAndTime' ELSE 'datetime' END, N'","marker":"', ${value}, N'","key":null}') END`,
		},
		checkFits() {},
	};
}

const COUNT_ROWS_SQL = (table: CatalogTable, filterColumn: string) =>
	`SELECT COUNT_BIG(*) AS rowsFound FROM ${quoteQualifiedName(table.name)} WHERE ${quoteIdentifier(columnNamed(table, filterColumn).name)} = @filterValue;`;

/** Checks an existing-table location against the catalogue and that its filter picks exactly one row. */
export async function resolveExistingLocation(transport: SqlTransport, location: ExistingLocation): Promise<ResolvedLocation> {
	const table = await describeTable(transport, location.table);
	const resolved = existingLocationSql(table, location);
	const result = await transport.execute({ text: COUNT_ROWS_SQL(table, location.filterColumn), parameters: resolved.parameters });
	const rowsFound = Number(result.recordsets[0]?.[0]?.rowsFound ?? 0);
	if (rowsFound !== 1) {
		throw new CursorLocationError(
			`${describeLocation(location)} picks ${rowsFound === 0 ? 'no row' : `${rowsFound} rows`}; it must pick exactly one row to keep the watermark in`,
		);
	}
	return resolved;
}
