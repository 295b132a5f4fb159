/**
 * The in-memory change source: tables of rows held as SQL Server outputs them (date-times as ISO text,
 * rowversions as 0x… text), with the same meaning as the SQL Server adapter: the same plan resolution
 * (nodes/shared/core/markers.ts), the same window rules (changeQuery.ts), and the ordering, bound, NULL-marker and
 * Change Tracking rules evaluated here the way the T-SQL evaluates them. Pinned to the SQL Server adapter by
 * test/contract/changeSource.contract.ts. One simplification: a cursor finer than its datetime column is compared
 * as is, where SQL Server first rounds it to the column's precision (no column value lies between the two).
 */
import type { CatalogColumn, CatalogTable } from '../../../nodes/shared/catalog';
import { UnknownTableError } from '../../../nodes/shared/catalog';
import type { ReadWindow, ServerFacts, SourceBatch, SourceRow } from '../../../nodes/shared/core/changeQuery';
import { changesAskedFrom, cursorAfterRow, readWindowFrom } from '../../../nodes/shared/core/changeQuery';
import type { Cursor } from '../../../nodes/shared/core/cursor';
import type { QualifiedName } from '../../../nodes/shared/core/identifiers';
import { displayQualifiedName, parseQualifiedName } from '../../../nodes/shared/core/identifiers';
import type { FilterOperator, ResolvedMarker, SourcePlan, SourceSpec } from '../../../nodes/shared/core/markers';
import { isTemporal, resolveSourcePlan, typeOf } from '../../../nodes/shared/core/markers';
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
		return this.rows.findIndex((row) => this.catalog.primaryKey.every((name) => compareValues(row[name], key[name]) === 0));
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
			if (this.find(this.keyOf(full)) !== -1) throw new Error(`Duplicate key ${JSON.stringify(this.keyOf(full))}`);
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

/** SQL Server's order for the values this source holds; NULL first, as ORDER BY puts it. Text compares case-insensitively. */
function compareValues(a: unknown, b: unknown): number {
	if (a === null || a === undefined) return b === null || b === undefined ? 0 : -1;
	if (b === null || b === undefined) return 1;
	if (typeof a === 'number' && typeof b === 'number') return a - b;
	if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
	const left = normalizedText(String(a));
	const right = normalizedText(String(b));
	return left < right ? -1 : left > right ? 1 : 0;
}

/** ISO date-times with their fraction padded to 7 digits compare as text; other text compares case-insensitively. */
function normalizedText(text: string): string {
	const dateTime = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,7}))?$/.exec(text);
	if (dateTime) return `${dateTime[1]}.${(dateTime[2] ?? '').padEnd(7, '0')}`;
	const time = /^(\d{2}:\d{2}:\d{2})(?:\.(\d{1,7}))?$/.exec(text);
	if (time) return `${time[1]}.${(time[2] ?? '').padEnd(7, '0')}`;
	return text.toLowerCase();
}

function compareTuples(a: unknown[], b: unknown[]): number {
	for (let index = 0; index < a.length; index++) {
		const order = compareValues(a[index], b[index]);
		if (order !== 0) return order;
	}
	return 0;
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** The marker's comparable parts of a row, as the T-SQL's ORDER BY terms compute them; null when the marker is NULL. */
function markerParts(marker: ResolvedMarker, row: Row): unknown[] | null {
	switch (marker.kind) {
		case 'datetime':
		case 'rowversion': {
			const value = row[marker.column.name];
			return value === null || value === undefined ? null : [value];
		}
		case 'dateAndTime': {
			const date = row[marker.date.column.name];
			if (date === null || date === undefined) return null;
			const time = row[marker.time.column.name] ?? (marker.time.encoding === 'time' ? '00:00:00' : 0);
			return [marker.date.encoding === 'datetime' ? String(date).slice(0, 10) : date, time];
		}
		case 'changeTracking':
			throw new Error('Change Tracking rows have no marker column');
	}
}

/** The marker's comparable parts of a cursor text, as the T-SQL's CONVERTs of @m compute them. */
function markerPartsOfText(marker: ResolvedMarker, text: string): unknown[] {
	if (marker.kind !== 'dateAndTime') return [text];
	const [date, time] = text.split('T');
	const [hours, minutes, seconds] = time.split(':').map((part) => Math.floor(Number(part)));
	const dateValue = marker.date.encoding === 'yyyymmdd' ? Number(date.replace(/-/g, '')) : date;
	const timeValue =
		marker.time.encoding === 'time' ? time : marker.time.encoding === 'hhmmss' ? hours * 10000 + minutes * 100 + seconds : hours * 100 + minutes;
	return [dateValue, timeValue];
}

/** The marker as the exact text SQL Server's CONVERT(varchar(33), …, 126) gives. */
function markerText(marker: ResolvedMarker, row: Row): string | null {
	const parts = markerParts(marker, row);
	if (parts === null) return null;
	if (marker.kind !== 'dateAndTime') return String(parts[0]);
	const [date, time] = parts;
	const dateText = typeof date === 'number' ? `${pad(Math.floor(date / 10000), 4)}-${pad(Math.floor(date / 100) % 100)}-${pad(date % 100)}` : String(date);
	let timeText: string;
	if (typeof time === 'number') {
		const [h, m, s] = marker.time.encoding === 'hhmmss' ? [Math.floor(time / 10000), Math.floor(time / 100) % 100, time % 100] : [Math.floor(time / 100), time % 100, 0];
		timeText = `${pad(h)}:${pad(m)}:${pad(s)}`;
	} else {
		timeText = String(time).split('.')[0];
	}
	const fraction = typeof time === 'string' && time.includes('.') ? time.split('.')[1].padEnd(7, '0') : '0000000';
	return `${dateText}T${timeText}.${fraction}`;
}

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
	const order =
		typeOf(column) === 'bit' ? Number(Boolean(value)) - Number(parameter) : compareValues(value, isTemporal(column) ? String(parameter) : parameter);
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
		const catalog: CatalogTable = {
			name,
			kind: 'table',
			columns: definition.columns.map((column) => catalogColumnOf(column, definition.primaryKey)),
			primaryKey: definition.primaryKey,
			uniqueKeys: definition.primaryKey.length > 0 ? [definition.primaryKey] : [],
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

	nextChangeVersion(): bigint {
		this.changeVersion += 1n;
		return this.changeVersion;
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
			const row = table.rows.find((candidate) => plan.keys.every((column) => compareValues(candidate[column.name], key[column.name]) === 0));
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

	private keysOf(plan: SourcePlan, row: Row): unknown[] {
		return plan.keys.map((key) => row[key.name]);
	}

	private keysetRows(plan: SourcePlan, table: MemoryTable, window: ReadWindow, after: Cursor): SourceRow[] {
		const marker = plan.marker;
		const bound = markerPartsOfText(marker, window.upperBound);
		const cursorKey = after.key;
		const candidates = table.rows.filter((row) => {
			if (!this.passesFilters(plan, row)) return false;
			const parts = markerParts(marker, row);
			if (parts === null) {
				if (plan.nullMarkers === 'never' || after.marker !== null) return false;
				return cursorKey === null || compareTuples(this.keysOf(plan, row), cursorKey.map((text, index) => typedKey(plan.keys[index], text))) > 0;
			}
			if (compareTuples(parts, bound) >= 0) return false;
			if (after.marker === null) return true;
			const from = markerPartsOfText(marker, after.marker);
			if (cursorKey === null) return compareTuples(parts, from) >= 0;
			return compareTuples([...parts, ...this.keysOf(plan, row)], [...from, ...cursorKey.map((text, index) => typedKey(plan.keys[index], text))]) > 0;
		});
		candidates.sort((a, b) => {
			const partsA = markerParts(marker, a);
			const partsB = markerParts(marker, b);
			if (partsA === null || partsB === null) {
				if (partsA !== partsB) return partsA === null ? -1 : 1;
				return compareTuples(this.keysOf(plan, a), this.keysOf(plan, b));
			}
			return compareTuples([...partsA, ...this.keysOf(plan, a)], [...partsB, ...this.keysOf(plan, b)]);
		});
		return candidates.map((row) => this.sourceRow(plan, row, markerText(marker, row), 'upsert'));
	}

	private changeTrackingRows(plan: SourcePlan, table: MemoryTable, window: ReadWindow, after: Cursor, limit: number): SourceRow[] {
		const current = BigInt(window.upperBound);
		const byKey = (a: Row, b: Row) => compareTuples(this.keysOf(plan, a), this.keysOf(plan, b));
		const changesAfter = (since: bigint, cursorCondition: (entry: ChangeEntry) => boolean): SourceRow[] =>
			[...table.changes.values()]
				.filter((entry) => entry.version > since && entry.version <= current && cursorCondition(entry))
				.map((entry) => ({ entry, row: table.rows.find((row) => byKey(row, entry.key) === 0) }))
				.filter(({ row }) => row === undefined || this.passesFilters(plan, row))
				.sort((a, b) => (a.entry.version === b.entry.version ? byKey(a.entry.key, b.entry.key) : a.entry.version < b.entry.version ? -1 : 1))
				.map(({ entry, row }) =>
					row === undefined
						? this.sourceRow(plan, entry.key, String(entry.version), 'delete')
						: this.sourceRow(plan, row, String(entry.version), 'upsert'),
				);
		const cursorKey = after.key?.map((text, index) => typedKey(plan.keys[index], text));
		if (after.marker !== null) {
			const from = BigInt(after.marker);
			return changesAfter(changesAskedFrom(after) as bigint, (entry) =>
				cursorKey === undefined
					? entry.version >= from
					: entry.version > from || (entry.version === from && compareTuples(this.keysOf(plan, entry.key), cursorKey) > 0),
			);
		}
		const snapshotVersion = after.snapshotVersion ?? (window.snapshotVersion as string);
		const snapshot = table.rows
			.filter((row) => this.passesFilters(plan, row))
			.filter((row) => cursorKey === undefined || compareTuples(this.keysOf(plan, row), cursorKey) > 0)
			.sort(byKey)
			.map((row) => this.sourceRow(plan, row, null, 'upsert', snapshotVersion));
		if (snapshot.length > limit) return snapshot;
		return [...snapshot, ...changesAfter(BigInt(snapshotVersion), () => true)];
	}
}

/** A cursor's key text as the column's value, as CONVERT(type, @k) gives it. */
function typedKey(column: CatalogColumn, text: string): unknown {
	return ['tinyint', 'smallint', 'int', 'bigint', 'decimal', 'numeric', 'bit'].includes(typeOf(column)) ? Number(text) : text;
}
