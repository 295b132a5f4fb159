/**
 * What the CRM node is about to write, decided before anything is sent: which columns, which ones match,
 * which are looked up, and each item's values converted and checked. Configuration that cannot work for any
 * row (a match that is not a key, a required column left unmapped) is refused here, naming the column; a value
 * that cannot work for one row fails that row only.
 */
import type { CatalogColumn, CatalogTable } from '../catalog';
import { columnNamed } from '../catalog';
import type { QualifiedName } from './identifiers';
import { displayQualifiedName } from './identifiers';
import type { SqlType } from '../transport/types';
import { CONFIGURATION_ADVICE, fieldForColumn, identifiesOneRow, isWritable, needsValueOnInsert } from './mapping';
import type { TargetValue } from './mappingValues';
import { Refusal, convertForColumn, isTemporal } from './mappingValues';
import { sqlTypeText } from './sqlTypes';
import type { WriteStatus } from './syncItem';

/** A lookup as the editor or a preset gives it: "CompanyId = dbo.Company.CompanyId where dbo.Company.CustomerNo = the item's CustomerNo". */
export interface LookupSpec {
	targetColumn: string;
	fromTable: QualifiedName;
	/** The natural key in `fromTable` the item's value is compared with. */
	keyColumn: string;
	/** The column of `fromTable` written into `targetColumn`; defaults to its one-column primary key. */
	valueColumn?: string;
	/** The item's top-level field holding the natural key. */
	itemField: string;
	/** What the referenced row is called in messages ("Customer"); defaults to the table's name. */
	label?: string;
}

export interface Lookup {
	target: CatalogColumn;
	fromTable: QualifiedName;
	key: CatalogColumn;
	value: CatalogColumn;
	itemField: string;
	label: string;
}

export interface UpsertPlan {
	table: QualifiedName;
	/** Columns whose values come from the item, in the table's order. */
	columns: CatalogColumn[];
	/** The columns rows are matched on, each one of `columns`. */
	matchColumns: CatalogColumn[];
	/** Where each of `matchColumns` is in `columns`: found once per plan, as every row's key needs it. */
	matchPositions: number[];
	lookups: Lookup[];
}

export const NOW = 'now';

export interface Assignment {
	column: CatalogColumn;
	/** A typed value, or NOW for SYSUTCDATETIME() at the moment of writing. */
	value: TargetValue | typeof NOW;
	isNow: boolean;
}

export type DeleteHandling = { kind: 'delete' } | { kind: 'markDeleted'; assignments: Assignment[] } | { kind: 'ignore' };

export interface DeletePlan {
	table: QualifiedName;
	matchColumns: CatalogColumn[];
	handling: DeleteHandling;
}

/** One item to upsert: its place in the batch (`ordinal`), its values aligned with `plan.columns`, its lookup keys aligned with `plan.lookups`. */
export interface UpsertRow {
	ordinal: number;
	values: TargetValue[];
	/** Shared by every row of a plan without lookups, so never changed once prepared. */
	lookupKeys: readonly TargetValue[];
}

/** One item to delete: its match values aligned with `plan.matchColumns`. */
export interface DeleteRow {
	ordinal: number;
	key: TargetValue[];
}

export interface RowError {
	message: string;
	column?: string;
	/** SQL Server's error number when SQL Server refused the row. */
	number?: number;
}

export interface RowOutcome {
	ordinal: number;
	status: WriteStatus;
	error?: RowError;
}

export class UpsertConfigurationError extends Error {
	readonly advice = CONFIGURATION_ADVICE;

	constructor(
		message: string,
		readonly column?: string,
	) {
		super(message);
		this.name = 'UpsertConfigurationError';
	}
}

const columnList = (columns: Array<{ name: string }>) => columns.map((column) => column.name).join(', ');

/** Which columns rows are matched on; they must be mapped and must identify at most one CRM row. */
export function resolveMatchColumns(table: CatalogTable, mapped: CatalogColumn[], matchNames: string[]): CatalogColumn[] {
	const display = displayQualifiedName(table.name);
	if (matchNames.length === 0) {
		throw new UpsertConfigurationError(`No columns to match on are chosen for ${display}: pick the key, e.g. ${table.uniqueKeys[0]?.join(', ') ?? 'a unique column'}`);
	}
	const match = matchNames.map((name) => columnNamed(table, name));
	if (!identifiesOneRow(table, match.map((column) => column.name))) {
		const first = match[0].name;
		throw new UpsertConfigurationError(
			`Column "${first}"${match.length > 1 ? ` (with ${columnList(match.slice(1))})` : ''} is not a unique key of ${display}, so one item could update several CRM rows. Match on a primary key or unique index: ${table.uniqueKeys.map((key) => key.join(' + ')).join('; ') || 'the table has none'}`,
			first,
		);
	}
	for (const column of match) {
		if (!mapped.includes(column)) {
			throw new UpsertConfigurationError(`Column "${column.name}" is used to match rows in ${display} but no value is mapped to it`, column.name);
		}
	}
	return match;
}

/** Resolves a lookup against the catalogue of its table; its natural key must be unique there, or one item could pick any of several rows. */
export function resolveLookup(target: CatalogTable, spec: LookupSpec, from: CatalogTable): Lookup {
	const targetColumn = columnNamed(target, spec.targetColumn);
	const key = columnNamed(from, spec.keyColumn);
	if (!identifiesOneRow(from, [key.name])) {
		throw new UpsertConfigurationError(
			`Column "${key.name}" is not unique in ${displayQualifiedName(from.name)}, so it cannot look up "${targetColumn.name}": look up by a primary key or uniquely indexed column`,
			key.name,
		);
	}
	if (!spec.valueColumn && from.primaryKey.length !== 1) {
		throw new UpsertConfigurationError(`${displayQualifiedName(from.name)} has no one-column primary key: name the column to copy into "${targetColumn.name}"`, targetColumn.name);
	}
	const value = columnNamed(from, spec.valueColumn || from.primaryKey[0]);
	return {
		target: targetColumn,
		fromTable: from.name,
		key,
		value,
		itemField: spec.itemField,
		label: spec.label || from.name.name,
	};
}

/** The whole upsert plan; a column filled by a lookup is the lookup's, even when the mapping also shows it. */
export function planUpsert(table: CatalogTable, mapped: CatalogColumn[], matchNames: string[], lookups: Lookup[]): UpsertPlan {
	const lookedUp = new Set(lookups.map((lookup) => lookup.target));
	const columns = mapped.filter((column) => !lookedUp.has(column));
	for (const lookup of lookups) {
		if (!isWritable(lookup.target)) {
			throw new UpsertConfigurationError(`Column "${lookup.target.name}" cannot be filled by a lookup: SQL Server fills it itself`, lookup.target.name);
		}
	}
	const matchColumns = resolveMatchColumns(table, columns, matchNames);
	const missing = table.columns.find((column) => needsValueOnInsert(column) && !columns.includes(column) && !lookedUp.has(column));
	if (missing) {
		throw new UpsertConfigurationError(
			`Column "${missing.name}" of ${displayQualifiedName(table.name)} needs a value (NOT NULL, no default) but nothing is mapped to it: map it, or give it a default in CRM`,
			missing.name,
		);
	}
	return { table: table.name, columns, matchColumns, matchPositions: matchColumns.map((column) => columns.indexOf(column)), lookups };
}

export interface AssignmentSpec {
	column: string;
	/** Text from the editor; "now" for the time of writing (temporal columns only). */
	value: string;
}

/** How deletes are written; "set columns" needs at least one column, each converted to its type now so a typo fails before anything is written. */
export function planDelete(table: CatalogTable, matchColumns: CatalogColumn[], kind: DeleteHandling['kind'], specs: AssignmentSpec[]): DeletePlan {
	if (kind !== 'markDeleted') return { table: table.name, matchColumns, handling: { kind } };
	if (specs.length === 0) {
		throw new UpsertConfigurationError(`Deleted rows are to be marked in ${displayQualifiedName(table.name)}, but no column to set is given: add one (e.g. IsActive = 0)`);
	}
	const assignments = specs.map((spec): Assignment => {
		const column = columnNamed(table, spec.column);
		if (!isWritable(column) || !column.sqlType) {
			throw new UpsertConfigurationError(`Column "${column.name}" cannot be set on deleted rows: SQL Server fills it itself`, column.name);
		}
		if (spec.value.trim().toLowerCase() === NOW) {
			if (!isTemporal(column.sqlType)) {
				throw new UpsertConfigurationError(`Column "${column.name}" is ${sqlTypeText(column.sqlType)}, not a date, so it cannot be set to "now"`, column.name);
			}
			return { column, value: NOW, isNow: true };
		}
		const converted = convertForColumn(column.sqlType, spec.value.trim().toLowerCase() === 'null' ? null : spec.value);
		if (converted instanceof Refusal) throw new UpsertConfigurationError(`Column "${column.name}" cannot be set on deleted rows: ${converted.problem}`, column.name);
		if (converted === null && !column.nullable) {
			throw new UpsertConfigurationError(`Column "${column.name}" does not take NULL, so deleted rows cannot be marked with it`, column.name);
		}
		return { column, value: converted, isNow: false };
	});
	return { table: table.name, matchColumns, handling: { kind, assignments } };
}

/** "CustomerNo 123" or "OrderNo 5, LineNo 2": how a row is named in messages. */
export function describeKey(key: Record<string, unknown>): string {
	const parts = Object.entries(key).map(([name, value]) => `${name} ${value === null || value === undefined ? '(none)' : typeof value === 'string' ? `"${value}"` : String(value)}`);
	return parts.length > 0 ? parts.join(', ') : '(no key)';
}

/** The match values as they were given, for output and messages, also when they did not convert. */
export function rawKeyOf(matchColumns: CatalogColumn[], source: Record<string, unknown>): Record<string, unknown> {
	return Object.fromEntries(matchColumns.map((column) => [column.name, fieldForColumn(source, column.name) ?? null]));
}

export type Prepared<T> = { ok: true; row: T; key: Record<string, TargetValue> } | { ok: false; key: Record<string, unknown>; error: RowError };

function columnProblem(column: CatalogColumn, type: SqlType, problem: string): RowError {
	return { message: `Column "${column.name}" (${sqlTypeText(type)}): ${problem}`, column: column.name };
}

/** The message a partner sees for a failed row: which row (by its key), then what is wrong with it. */
export function rowFailureMessage(key: Record<string, unknown>, error: RowError): string {
	return `Row ${describeKey(key)}: ${error.message}`;
}

/** `matchColumns` is searched only for a NULL: the common value needs no search, and this runs per column per row. */
function convertColumn(column: CatalogColumn, raw: unknown, matchColumns: CatalogColumn[]): TargetValue | Refusal {
	const converted = convertForColumn(column.sqlType as SqlType, raw);
	if (converted !== null) return converted;
	if (matchColumns.includes(column)) return new Refusal('has no value, so the row cannot be matched');
	if (!column.nullable) return new Refusal('needs a value (NOT NULL) but the item has none');
	return null;
}

/** The lookup keys of every row of a plan without lookups: one array, not an empty one per row. */
const NO_LOOKUP_KEYS: readonly TargetValue[] = Object.freeze([]);

/**
 * A row's key, named by its match columns, from values aligned with `plan.columns`: the converted ones, or for a
 * failing row the values as given (a missing one as null), as rawKeyOf gives them.
 */
function matchKeyOf<V>(plan: UpsertPlan, aligned: readonly V[]): Record<string, V | null> {
	// A plain loop: this runs for every row of a full re-send, and fromEntries(map) allocates an array per column.
	const key: Record<string, V | null> = {};
	for (let match = 0; match < plan.matchColumns.length; match++) key[plan.matchColumns[match].name] = aligned[plan.matchPositions[match]] ?? null;
	return key;
}

/**
 * One item's upsert row: every mapped value converted to its column's type, match values present, lookup keys
 * present where the looked-up column needs a value. `raw` holds the mapped values aligned with `plan.columns` (from
 * the manual mapping, or the item itself when mapped automatically); `item` the item, where lookups find their
 * natural key.
 */
export function prepareUpsertRow(plan: UpsertPlan, ordinal: number, raw: readonly unknown[], item: Record<string, unknown>): Prepared<UpsertRow> {
	// Sized up front: a row's values live as long as its batch, and push() would reserve room for 17.
	const converted = new Array<TargetValue>(plan.columns.length);
	for (let index = 0; index < converted.length; index++) {
		const column = plan.columns[index];
		const value = convertColumn(column, raw[index], plan.matchColumns);
		if (value instanceof Refusal) return { ok: false, key: matchKeyOf(plan, raw), error: columnProblem(column, column.sqlType as SqlType, value.problem) };
		converted[index] = value;
	}
	const key = matchKeyOf(plan, converted);
	if (plan.lookups.length === 0) return { ok: true, row: { ordinal, values: converted, lookupKeys: NO_LOOKUP_KEYS }, key };
	const lookupKeys = new Array<TargetValue>(plan.lookups.length);
	for (let index = 0; index < lookupKeys.length; index++) {
		const lookup = plan.lookups[index];
		const value = convertForColumn(lookup.key.sqlType as SqlType, fieldForColumn(item, lookup.itemField));
		if (value instanceof Refusal) {
			return { ok: false, key, error: columnProblem(lookup.target, lookup.target.sqlType as SqlType, `cannot be looked up: field "${lookup.itemField}" ${value.problem}`) };
		}
		if (value === null && !lookup.target.nullable) {
			return {
				ok: false,
				key,
				error: columnProblem(lookup.target, lookup.target.sqlType as SqlType, `needs a value (NOT NULL) but the item has no "${lookup.itemField}" to look it up by in ${displayQualifiedName(lookup.fromTable)}`),
			};
		}
		lookupKeys[index] = value;
	}
	return { ok: true, row: { ordinal, values: converted, lookupKeys }, key };
}

/**
 * One item's delete row: only its match values matter. A deleted row often carries nothing but its key, which the
 * source also gives under `_sync.key`; that is where the value is taken from when the mapping has none.
 */
export function prepareDeleteRow(plan: DeletePlan, ordinal: number, values: Record<string, unknown>, sourceKey: Record<string, unknown>): Prepared<DeleteRow> {
	const merged: Record<string, unknown> = {};
	for (const column of plan.matchColumns) merged[column.name] = fieldForColumn(values, column.name) ?? fieldForColumn(sourceKey, column.name) ?? null;
	const converted: TargetValue[] = [];
	for (const column of plan.matchColumns) {
		const value = convertColumn(column, merged[column.name], plan.matchColumns);
		if (value instanceof Refusal) return { ok: false, key: merged, error: columnProblem(column, column.sqlType as SqlType, value.problem) };
		converted.push(value);
	}
	return { ok: true, row: { ordinal, key: converted }, key: Object.fromEntries(plan.matchColumns.map((column, index) => [column.name, converted[index]])) };
}

/** The message for an order whose customer is not in CRM: "Customer 123 is not in CRM yet (dbo.Company.CustomerNo)". */
export function missingLookupMessage(lookup: Lookup, keyValue: TargetValue): string {
	return `${lookup.label} ${keyValue === null ? '(none)' : String(keyValue)} is not in CRM yet (${displayQualifiedName(lookup.fromTable)}.${lookup.key.name})`;
}
