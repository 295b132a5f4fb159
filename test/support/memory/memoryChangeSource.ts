/**
 * The in-memory change source: tables of rows held as SQL Server outputs them (date-times as ISO text,
 * rowversions as 0x… text), with the same meaning as the SQL Server adapter: the same plan resolution
 * (nodes/shared/core/markers.ts), the same window rules (changeQuery.ts), and the same ordering terms and keyset
 * conditions (ordering.ts, sourceOrder.ts) evaluated the way SQL Server evaluates the T-SQL built from them: NULL
 * first, a comparison with NULL unknown, text keys equal and ordered as a case-insensitive collation has them
 * (case and trailing spaces do not count). Pinned to the SQL Server adapter by test/contract/changeSource.contract.ts.
 * Not modelled: case-sensitive or binary collations, uniqueidentifier's byte order, and a cursor finer than its
 * datetime column (compared as is, where SQL Server first rounds it; no column value lies between the two).
 */
import type { CatalogColumn, CatalogTable } from '../../../nodes/shared/catalog';
import { UnknownTableError, columnNamed } from '../../../nodes/shared/catalog';
import type { ReadWindow, ServerFacts, SourceBatch, SourceRow } from '../../../nodes/shared/core/changeQuery';
import { changeTrackingAskedFrom, changeTrackingOrder, changesAskedFrom, checkBatchKeys, checkChangesStillHeld, cursorAfterRow, keysetConditions, keysetOrder, readWindowFrom } from '../../../nodes/shared/core/changeQuery';
import type { Cursor } from '../../../nodes/shared/core/cursor';
import type { QualifiedName } from '../../../nodes/shared/core/identifiers';
import { displayQualifiedName, parseQualifiedName } from '../../../nodes/shared/core/identifiers';
import type { FilterOperator, SourcePlan, SourceSpec } from '../../../nodes/shared/core/markers';
import { resolveSourcePlan, typeOf } from '../../../nodes/shared/core/markers';
import type { Condition } from '../../../nodes/shared/core/ordering';
import { beyond, compareRows, compareTermValues, evaluate } from '../../../nodes/shared/core/ordering';
import { collationOf, twinMarkerText, twinValue } from '../../../nodes/shared/core/sourceOrder';
import { sqlTypeOfColumn } from '../../../nodes/shared/core/sqlTypes';
import type { ChangeSource } from '../../../nodes/Contracting/stores/changeSource';
import type { KeyedRow } from '../../../nodes/shared/core/retryQuery';
import { retryKeyChunks } from '../../../nodes/shared/core/retryQuery';

export type Row = Record<string, unknown>;

export interface ColumnDefinition {
	name: string;
	/** T-SQL type as in CREATE TABLE: int, nvarchar(100), datetime2(7), decimal(18,2), rowversion… */
	type: string;
	nullable?: boolean;
}

export interface TableDefinition {
	/** schema.table */
	name: string;
	columns: ColumnDefinition[];
	primaryKey: string[];
	changeTracking?: boolean;
	/** A view over a table without keys: no primary key or unique index, so rows may repeat a key. */
	view?: boolean;
}

/** A column definition as sys.columns / sys.types describe it. */
export function catalogColumnOf(definition: ColumnDefinition, primaryKey: string[]): CatalogColumn {
	const match = /^(\w+)(?:\((max|\d+)(?:,\s*(\d+))?\))?$/i.exec(definition.type.trim());
	if (!match) throw new Error(`Cannot read the type "${definition.type}"`);
	const base = match[1].toLowerCase();
	const typeName = base === 'rowversion' ? 'timestamp' : base;
	const size = match[2] === undefined ? undefined : match[2].toLowerCase() === 'max' ? -1 : Number(match[2]);
	const scaled = ['datetime2', 'time', 'datetimeoffset'].includes(typeName);
	const maxLength = typeName.startsWith('n') && size !== undefined && size > 0 ? size * 2 : (size ?? (typeName === 'timestamp' ? 8 : 0));
	const type = {
		typeName,
		maxLength: scaled || ['decimal', 'numeric'].includes(typeName) ? 0 : maxLength,
		precision: ['decimal', 'numeric'].includes(typeName) ? (size ?? 18) : 0,
		scale: scaled ? (size ?? 7) : ['decimal', 'numeric'].includes(typeName) ? Number(match[3] ?? 0) : 0,
	};
	const ordinal = primaryKey.findIndex((name) => name.toLowerCase() === definition.name.toLowerCase()) + 1;
	return {
		name: definition.name,
		...type,
		nullable: ordinal === 0 && definition.nullable !== false && typeName !== 'timestamp',
		isIdentity: false,
		isComputed: false,
		hasDefault: false,
		sqlType: sqlTypeOfColumn(type),
		primaryKeyOrdinal: ordinal,
		inUniqueIndex: ordinal > 0,
	};
}

interface ChangeEntry {
	version: bigint;
	operation: 'I' | 'U' | 'D';
	key: Row;
}

class MemoryTable {
	readonly rows: Row[] = [];
	/** Change Tracking: the latest change per key, as CHANGETABLE(CHANGES …) nets them. */
	readonly changes = new Map<string, ChangeEntry>();

	constructor(
		readonly catalog: CatalogTable,
		private readonly database: MemoryChangeSource,
	) {}

	private keyOf(row: Row): Row {
		return Object.fromEntries(this.catalog.primaryKey.map((name) => [name, row[name]]));
	}

	private find(key: Row): number {
		const keys = this.catalog.primaryKey.map((name) => columnNamed(this.catalog, name));
		return this.rows.findIndex((row) => sameKey(keys, row, key));
	}

	private stamp(row: Row): Row {
		const stamped = { ...row };
		for (const column of this.catalog.columns) {
			if (typeOf(column) === 'timestamp') stamped[column.name] = this.database.nextRowversion();
		}
		return stamped;
	}

	private track(key: Row, operation: ChangeEntry['operation']): void {
		if (!this.catalog.changeTracking) return;
		const id = JSON.stringify(this.catalog.primaryKey.map((name) => key[name]));
		const earlier = this.changes.get(id);
		// CHANGETABLE nets a row's changes: inserted then updated is still an insert.
		const net = earlier?.operation === 'I' && operation === 'U' ? 'I' : operation;
		this.changes.set(id, { version: this.database.nextChangeVersion(), operation: net, key });
	}

	insert(...rows: Row[]): void {
		for (const row of rows) {
			const full = Object.fromEntries(this.catalog.columns.map((column) => [column.name, row[column.name] ?? null]));
			if (this.catalog.primaryKey.length > 0 && this.find(this.keyOf(full)) !== -1) throw new Error(`Duplicate key ${JSON.stringify(this.keyOf(full))}`);
			this.rows.push(this.stamp(full));
			this.track(this.keyOf(full), 'I');
		}
	}

	update(key: Row, changes: Row): void {
		const index = this.find(key);
		if (index === -1) throw new Error(`No row ${JSON.stringify(key)}`);
		this.rows[index] = this.stamp({ ...this.rows[index], ...changes });
		this.track(this.keyOf(this.rows[index]), 'U');
	}

	remove(key: Row): void {
		const index = this.find(key);
		if (index === -1) throw new Error(`No row ${JSON.stringify(key)}`);
		const [removed] = this.rows.splice(index, 1);
		this.track(this.keyOf(removed), 'D');
	}
}

const twinKeyText = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

/** Two values of a column as SQL Server compares them (under the column's collation); NULL first. */
function compareColumnValues(catalogColumn: CatalogColumn, a: unknown, b: unknown): number {
	const left = twinValue(catalogColumn, a);
	const right = twinValue(catalogColumn, b);
	if (left === null) return right === null ? 0 : -1;
	if (right === null) return 1;
	return compareTermValues(left, right, collationOf(catalogColumn));
}

/** Whether two rows have the same key, as SQL Server's = compares it (case-insensitive, trailing spaces ignored for text). */
const sameKey = (keys: CatalogColumn[], a: Row, b: Row) => keys.every((key) => compareColumnValues(key, a[key.name], b[key.name]) === 0);

function matchesFilter(value: unknown, operator: FilterOperator, parameter: unknown, column: CatalogColumn): boolean {
	if (operator === 'isNull') return value === null || value === undefined;
	if (operator === 'isNotNull') return value !== null && value !== undefined;
	if (value === null || value === undefined) return false;
	if (operator === 'like') {
		const pattern = String(parameter)
			.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
			.replace(/%/g, '.*')
			.replace(/_/g, '.');
		return new RegExp(`^${pattern}$`, 'i').test(String(value));
	}
	const order = compareColumnValues(column, value, parameter);
	switch (operator) {
		case 'equal':
			return order === 0;
		case 'notEqual':
			return order !== 0;
		case 'less':
			return order < 0;
		case 'lessOrEqual':
			return order <= 0;
		case 'greater':
			return order > 0;
		case 'greaterOrEqual':
			return order >= 0;
	}
}

export class MemoryChangeSource implements ChangeSource {
	private readonly tables = new Map<string, MemoryTable>();
	private rowversion = 0x7d0n;
	private changeVersion = 0n;
	/** Change Tracking's CHANGE_TRACKING_MIN_VALID_VERSION, for every table; raise it to model the cleanup. */
	minValidVersion = 0n;
	/** SYSUTCDATETIME() as CONVERT(varchar(33), …, 126) gives it. */
	serverUtcNow = '2024-06-01T12:00:00.0000000';
	/** Rowversions from this one up are in open transactions (MIN_ACTIVE_ROWVERSION); undefined: none open. */
	oldestActiveRowversion: bigint | undefined;
	roundTrips = 0;

	define(definition: TableDefinition): MemoryTable {
		const name = parseQualifiedName(definition.name);
		const primaryKey = definition.view ? [] : definition.primaryKey;
		const catalog: CatalogTable = {
			name,
			kind: definition.view ? 'view' : 'table',
			columns: definition.columns.map((column) => catalogColumnOf(column, primaryKey)),
			primaryKey,
			uniqueKeys: primaryKey.length > 0 ? [primaryKey] : [],
			changeTracking: definition.changeTracking === true,
		};
		const table = new MemoryTable(catalog, this);
		this.tables.set(displayQualifiedName(name).toLowerCase(), table);
		return table;
	}

	table(name: string): MemoryTable {
		const table = this.tables.get(displayQualifiedName(parseQualifiedName(name)).toLowerCase());
		if (!table) throw new Error(`No memory table ${name}`);
		return table;
	}

	nextRowversion(): string {
		this.rowversion += 1n;
		return `0x${this.rowversion.toString(16).toUpperCase().padStart(16, '0')}`;
	}

	/** The version of the transaction open in inOneTransaction; undefined: each change commits on its own. */
	private transactionVersion: bigint | undefined;

	nextChangeVersion(): bigint {
		if (this.transactionVersion !== undefined) return this.transactionVersion;
		this.changeVersion += 1n;
		return this.changeVersion;
	}

	/**
	 * Changes made by `work` commit as one transaction: Change Tracking gives them all one version, as SQL Server
	 * gives every row one statement or transaction changes (so many rows tie on SYS_CHANGE_VERSION).
	 */
	inOneTransaction(work: () => void): void {
		this.transactionVersion = this.changeVersion + 1n;
		this.changeVersion = this.transactionVersion;
		try {
			work();
		} finally {
			this.transactionVersion = undefined;
		}
	}

	get currentChangeVersion(): bigint {
		return this.changeVersion;
	}

	async describeTable(name: QualifiedName): Promise<CatalogTable> {
		this.roundTrips++;
		const table = this.tables.get(displayQualifiedName(name).toLowerCase());
		if (!table) throw new UnknownTableError(name);
		return table.catalog;
	}

	async describe(spec: SourceSpec): Promise<SourcePlan> {
		return resolveSourcePlan(await this.describeTable(spec.table), spec);
	}

	async openWindow(plan: SourcePlan, from: Cursor): Promise<ReadWindow> {
		this.roundTrips++;
		const table = this.tables.get(displayQualifiedName(plan.table.name).toLowerCase()) as MemoryTable;
		const activeFrom = this.oldestActiveRowversion ?? this.rowversion + 1n;
		const facts: ServerFacts = {
			serverUtcNow: this.serverUtcNow,
			minActiveRowversion: `0x${activeFrom.toString(16).toUpperCase().padStart(16, '0')}`,
			currentVersion: table.catalog.changeTracking ? String(this.changeVersion) : null,
			minValidVersion: table.catalog.changeTracking ? String(this.minValidVersion) : null,
		};
		return readWindowFrom(plan, facts, from);
	}

	async readBatch(plan: SourcePlan, window: ReadWindow, after: Cursor, limit: number): Promise<SourceBatch> {
		this.roundTrips++;
		const table = this.tables.get(displayQualifiedName(plan.table.name).toLowerCase()) as MemoryTable;
		const rows = plan.marker.kind === 'changeTracking' ? this.changeTrackingRows(plan, table, window, after, limit) : this.keysetRows(plan, table, window, after);
		// What the statement returns: the batch and one row more; the SQL Server adapter checks its keys as these.
		if (plan.marker.kind !== 'changeTracking') checkBatchKeys(plan, rows.slice(0, limit + 1).map((row) => plan.keys.map((key) => twinKeyText(row.values[key.name]))));
		return { rows: rows.slice(0, limit), hasMore: rows.length > limit };
	}

	async countChanges(plan: SourcePlan, window: ReadWindow, from: Cursor): Promise<number> {
		this.roundTrips++;
		const table = this.tables.get(displayQualifiedName(plan.table.name).toLowerCase()) as MemoryTable;
		const rows =
			plan.marker.kind === 'changeTracking'
				? this.changeTrackingRows(plan, table, window, from, Number.POSITIVE_INFINITY)
				: this.keysetRows(plan, table, window, from);
		return rows.length;
	}

	/** The current rows of the keys, as the SQL Server adapter's LEFT JOIN gives them (one round trip per chunk). */
	async readKeys(plan: SourcePlan, keys: Array<Record<string, unknown>>): Promise<KeyedRow[]> {
		const table = this.tables.get(displayQualifiedName(plan.table.name).toLowerCase()) as MemoryTable;
		this.roundTrips += retryKeyChunks(plan, keys).length;
		return keys.map((key) => {
			const row = table.rows.find((candidate) => sameKey(plan.keys, candidate, key));
			if (!row) return { operation: 'delete', values: Object.fromEntries(plan.keys.map((column) => [column.name, key[column.name] ?? null])) };
			return { operation: 'upsert', values: Object.fromEntries(plan.output.map((column) => [column.name, row[column.name] ?? null])) };
		});
	}

	private passesFilters(plan: SourcePlan, row: Row): boolean {
		return plan.filters.every((filter) => matchesFilter(row[filter.column.name], filter.operator, filter.parameter?.value, filter.column));
	}

	private sourceRow(plan: SourcePlan, row: Row, marker: string | null, operation: 'upsert' | 'delete', snapshotVersion?: string): SourceRow {
		const columns = operation === 'delete' ? plan.keys : plan.output;
		const key = plan.keys.map((column) => String(row[column.name]));
		return {
			values: Object.fromEntries(columns.map((column) => [column.name, row[column.name] ?? null])),
			operation,
			marker,
			cursor: cursorAfterRow(plan, marker, key, snapshotVersion),
		};
	}

	/** The rows the keyset statement returns: the same conditions on the same ordering terms, evaluated as SQL Server does. */
	private keysetRows(plan: SourcePlan, table: MemoryTable, window: ReadWindow, after: Cursor): SourceRow[] {
		const keyset = keysetConditions(plan, window, after, []);
		const conditions = [...keyset.window, ...(keyset.after ? [keyset.after] : [])];
		const order = keysetOrder(plan).all;
		return table.rows
			.filter((row) => this.passesFilters(plan, row) && conditions.every((condition) => evaluate(condition, row) === true))
			.sort((a, b) => compareRows(order, a, b))
			.map((row) => this.sourceRow(plan, row, twinMarkerText(plan.marker, row), 'upsert'));
	}

	/** CHANGETABLE(CHANGES …) LEFT JOINed to the table, and the full read, under the Change Tracking read's order. */
	private changeTrackingRows(plan: SourcePlan, table: MemoryTable, window: ReadWindow, after: Cursor, limit: number): SourceRow[] {
		// As the SQL Server adapter checks after every CHANGETABLE read: a cleanup since the window opened stops the read.
		checkChangesStillHeld(plan, changeTrackingAskedFrom(after, window), String(this.minValidVersion));
		const current = BigInt(window.upperBound);
		const order = changeTrackingOrder(plan);
		const cursorKey = after.key === null ? undefined : { texts: after.key, parameters: after.key.map(() => '') };
		const changesAfter = (since: bigint, cursorCondition: Condition | undefined): SourceRow[] =>
			[...table.changes.values()]
				.filter((entry) => entry.version > since && entry.version <= current)
				.map((entry) => ({ entry, change: { ...entry.key, SYS_CHANGE_VERSION: entry.version }, row: table.rows.find((row) => sameKey(plan.keys, row, entry.key)) }))
				.filter(({ change }) => cursorCondition === undefined || evaluate(cursorCondition, change) === true)
				.filter(({ row }) => row === undefined || this.passesFilters(plan, row))
				.sort((a, b) => compareRows(order.changes, a.change, b.change))
				.map(({ entry, row }) =>
					row === undefined
						? this.sourceRow(plan, entry.key, String(entry.version), 'delete')
						: this.sourceRow(plan, row, String(entry.version), 'upsert'),
				);
		if (after.marker !== null) {
			const atVersion = { texts: [after.marker], parameters: [''] };
			const cursorCondition =
				cursorKey === undefined
					? beyond(order.changes.slice(0, 1), atVersion, '>', true)
					: beyond(order.changes, { texts: [...atVersion.texts, ...cursorKey.texts], parameters: [...atVersion.parameters, ...cursorKey.parameters] }, '>');
			return changesAfter(changesAskedFrom(after) as bigint, cursorCondition);
		}
		const snapshotVersion = after.snapshotVersion ?? (window.snapshotVersion as string);
		const afterKey = cursorKey === undefined ? undefined : beyond(order.fullRead, cursorKey, '>');
		const snapshot = table.rows
			.filter((row) => this.passesFilters(plan, row))
			.filter((row) => afterKey === undefined || evaluate(afterKey, row) === true)
			.sort((a, b) => compareRows(order.fullRead, a, b))
			.map((row) => this.sourceRow(plan, row, null, 'upsert', snapshotVersion));
		if (snapshot.length > limit) return snapshot;
		return [...snapshot, ...changesAfter(BigInt(snapshotVersion), undefined)];
	}
}
