import type { FieldType, ResourceMapperField } from 'n8n-workflow';

import type { CatalogColumn, CatalogTable } from '../catalog';
import { columnNamed } from '../catalog';
import { SYNC_FIELD } from './syncItem';

/** Types an insert or update cannot set, or that this package does not convert (binary, xml, spatial). */
const UNWRITABLE_TYPES = new Set(['rowversion', 'binary', 'varbinary']);

/** Whether the node may write this column: SQL Server fills identity, computed and rowversion columns itself. */
export function isWritable(column: CatalogColumn): boolean {
	return !column.isIdentity && !column.isComputed && column.sqlType !== undefined && !UNWRITABLE_TYPES.has(column.sqlType.name);
}

/** Whether an insert that leaves the column out fails: NOT NULL, no default, and SQL Server does not fill it. */
export function needsValueOnInsert(column: CatalogColumn): boolean {
	return !column.nullable && !column.hasDefault && isWritable(column);
}

function writableKeys(table: CatalogTable): string[][] {
	return table.uniqueKeys.filter((key) => key.every((name) => isWritable(columnNamed(table, name))));
}

/** The columns a row can be matched on by default: the primary key when the node can write it, else the first unique key it can (the natural key, e.g. CustomerNo next to an IDENTITY CompanyId). */
export function defaultMatchColumns(table: CatalogTable): string[] {
	const keys = writableKeys(table);
	const primary = keys.find((key) => key.length === table.primaryKey.length && key.every((name) => table.primaryKey.includes(name)));
	return primary ?? keys[0] ?? [];
}

/** Whether the columns identify at most one row: they include every column of some unique key. */
export function identifiesOneRow(table: CatalogTable, columns: string[]): boolean {
	const chosen = new Set(columns.map((name) => name.toLowerCase()));
	return table.uniqueKeys.some((key) => key.every((name) => chosen.has(name.toLowerCase())));
}

/** How the n8n editor shows a column's value: a number box, a toggle, a date picker or text. */
export function fieldTypeOf(column: CatalogColumn): FieldType {
	switch (column.sqlType?.name) {
		case 'bit':
			return 'boolean';
		case 'tinyint':
		case 'smallint':
		case 'int':
		case 'bigint':
		case 'decimal':
		case 'numeric':
		case 'money':
		case 'float':
		case 'real':
			return 'number';
		case 'date':
		case 'datetime':
		case 'datetime2':
		case 'smalldatetime':
		case 'datetimeoffset':
			return 'dateTime';
		case 'time':
			return 'time';
		default:
			return 'string';
	}
}

/** The resourceMapper fields for a table: writable columns, their types, which are required and which can match. */
export function resourceMapperFields(table: CatalogTable): ResourceMapperField[] {
	const defaults = new Set(defaultMatchColumns(table));
	const matchable = new Set(writableKeys(table).flat());
	const fields: ResourceMapperField[] = [];
	for (const column of table.columns) {
		if (isWritable(column)) {
			fields.push({
				id: column.name,
				displayName: column.name,
				required: needsValueOnInsert(column),
				defaultMatch: defaults.has(column.name),
				canBeUsedToMatch: matchable.has(column.name),
				display: true,
				type: fieldTypeOf(column),
			});
		} else if (column.notMappable) {
			// Listed with the reason (a NOT NULL one without a default makes every insert fail, and the partner must see why),
			// read-only and removed, so a manual mapping never carries it unless the partner adds it (and is told why not).
			fields.push({
				id: column.name,
				displayName: `${column.name} (${column.notMappable})`,
				required: false,
				defaultMatch: false,
				canBeUsedToMatch: false,
				display: true,
				readOnly: true,
				removed: true,
				type: 'string',
			});
		}
	}
	return fields;
}

/** A top-level field of an item by column name; SQL Server names compare case-insensitively, so the field's may too. */
export function fieldForColumn(source: Record<string, unknown>, columnName: string): unknown {
	if (Object.prototype.hasOwnProperty.call(source, columnName)) return source[columnName];
	// A loop, not find(): a closure over `lower` makes V8 allocate its context on every call, exact matches too,
	// and this runs per column per row.
	const lower = columnName.toLowerCase();
	for (const key of Object.keys(source)) if (key.toLowerCase() === lower) return source[key];
	return undefined;
}

/** The fields for the columns, in their order, each found as fieldForColumn finds it ("map automatically" reads the item itself). */
export function fieldsForColumns(source: Record<string, unknown>, columns: CatalogColumn[]): unknown[] {
	const values = new Array<unknown>(columns.length);
	for (let index = 0; index < columns.length; index++) values[index] = fieldForColumn(source, columns[index].name);
	return values;
}

/**
 * The columns a manual mapping writes: the ones it names, in the table's order. A column the mapping names that
 * the table no longer has is an error naming it (UnknownColumnError); columns added to the table since the
 * mapping was saved are not in it, and so are left alone.
 */
export function manuallyMappedColumns(table: CatalogTable, mappedNames: string[]): CatalogColumn[] {
	const mapped = mappedNames.map((name) => columnNamed(table, name));
	for (const column of mapped) {
		if (!isWritable(column)) throw new UnwritableColumnError(table, column);
	}
	return table.columns.filter((column) => mapped.includes(column));
}

/** The columns "map automatically" writes: each writable column some item has a top-level field for. */
export function autoMappedColumns(table: CatalogTable, sources: Array<Record<string, unknown>>): CatalogColumn[] {
	const fieldNames = new Set<string>();
	for (const source of sources) {
		for (const name of Object.keys(source)) if (name !== SYNC_FIELD) fieldNames.add(name.toLowerCase());
	}
	return table.columns.filter((column) => isWritable(column) && fieldNames.has(column.name.toLowerCase()));
}

/** What a partner does about any configuration error of the CRM node. */
export const CONFIGURATION_ADVICE =
	"Nothing was written. Change the node's settings (columns to match on, mapping, lookups, columns to set on deleted rows) and run again.";

export class UnwritableColumnError extends Error {
	readonly advice = CONFIGURATION_ADVICE;

	constructor(
		table: CatalogTable,
		readonly column: CatalogColumn,
	) {
		const why = column.isIdentity ? 'an IDENTITY column' : column.isComputed ? 'a computed column' : `of type ${column.typeName}`;
		super(`Column "${column.name}" of ${table.name.schema}.${table.name.name} is ${why}, which SQL Server fills itself or this node cannot write`);
		this.name = 'UnwritableColumnError';
	}
}
