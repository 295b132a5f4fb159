/**
 * The CRM target in memory, with the meaning of the SQL Server adapter: tables with their catalogue, unique keys,
 * NOT NULL, IDENTITY, defaults and type checks; a batch SQL Server would refuse is refused whole (nothing written)
 * with the error number and words SQL Server uses, so the node's row isolation works the same on both.
 * Strings match as the column's collation does (case-insensitively unless it is _CS or binary; trailing spaces
 * ignored) but a change of case is a change (the node compares binary).
 */
import type { CatalogColumn, CatalogTable } from '../../../nodes/shared/catalog';
import { UnknownTableError, columnNamed } from '../../../nodes/shared/catalog';
import type { QualifiedName } from '../../../nodes/shared/core/identifiers';
import { displayQualifiedName } from '../../../nodes/shared/core/identifiers';
import type { LeaseGuard } from '../../../nodes/shared/core/leaseGuard';
import { LeaseLostError } from '../../../nodes/shared/core/leaseGuard';
import type { TargetValue } from '../../../nodes/shared/core/mappingValues';
import { Refusal, convertForColumn } from '../../../nodes/shared/core/mappingValues';
import { sqlTypeText } from '../../../nodes/shared/core/sqlTypes';
import type { DeletePlan, DeleteRow, RowOutcome, UpsertPlan, UpsertRow } from '../../../nodes/shared/core/upsertPlan';
import { missingLookupMessage } from '../../../nodes/shared/core/upsertPlan';
import { SqlServerRequestError } from '../../../nodes/shared/transport/sqlServerError';
import type { SqlType } from '../../../nodes/shared/transport/types';
import type { UpsertTarget, WriteOptions } from '../../../nodes/Crm/stores/upsertTarget';

export type MemoryRow = Record<string, TargetValue>;

export interface MemoryTableDefinition {
	catalog: CatalogTable;
	/** Values the columns with a DEFAULT get when an insert leaves them out. */
	defaults?: Record<string, TargetValue>;
	rows?: MemoryRow[];
	/**
	 * The table's AFTER INSERT, UPDATE triggers that refuse rows: each gives the words it RAISERRORs for a row it
	 * refuses. As on SQL Server, the whole statement is refused (error 50000) and nothing of it is kept.
	 */
	triggers?: Array<(row: MemoryRow) => string | undefined>;
}

interface MemoryTable {
	catalog: CatalogTable;
	defaults: Record<string, TargetValue>;
	triggers: Array<(row: MemoryRow) => string | undefined>;
	rows: MemoryRow[];
	nextIdentity: number;
}

const tableKey = (name: QualifiedName) => displayQualifiedName(name).toLowerCase();

const NUMERIC = new Set(['tinyint', 'smallint', 'int', 'bigint', 'decimal', 'numeric', 'money', 'float', 'real']);
const EXACT = new Set(['bigint', 'decimal', 'numeric', 'money']);

/** An exact number as SQL Server compares it, digit by digit (never through a double): 12.50 = 12.5, 0.0 = 0. */
function exactNumberText(value: TargetValue): string {
	const parts = /^([+-])?0*(\d*)(?:\.(\d*?)0*)?$/.exec(String(value).trim());
	if (!parts) return String(value);
	const digits = `${parts[2] || '0'}${parts[3] ? `.${parts[3]}` : ''}`;
	return parts[1] === '-' && digits !== '0' ? `-${digits}` : digits;
}

/** A number as its column compares it: exact types digit by digit, float and real as doubles. */
const numberText = (type: SqlType, value: TargetValue) => (EXACT.has(type.name) ? exactNumberText(value) : String(Number(value)));
const TEXT = new Set(['char', 'varchar', 'nchar', 'nvarchar']);

/** `=` pads the shorter string with spaces: trailing spaces are ignored, and only spaces (a tab is a character). */
const withoutTrailingSpaces = (text: string) => text.replace(/ +$/, '');

/** Whether the column's collation tells case apart (_CS_ or binary); without one, the CRM's usual case-insensitive collation. */
const caseSensitive = (column: CatalogColumn) => /_CS_|_CS$|_BIN2?$/i.test(column.collation ?? '');

/** A value as the column's collation compares keys: trailing spaces ignored, case too unless the collation tells it apart. */
function matchText(column: CatalogColumn, value: TargetValue): string {
	const type = column.sqlType as SqlType;
	if (NUMERIC.has(type.name)) return numberText(type, value);
	if (TEXT.has(type.name)) return caseSensitive(column) ? withoutTrailingSpaces(String(value)) : withoutTrailingSpaces(String(value)).toLowerCase();
	return String(value);
}

function keyTextOf(columns: CatalogColumn[], values: TargetValue[]): string | undefined {
	if (values.some((value) => value === null || value === undefined)) return undefined;
	return JSON.stringify(columns.map((column, index) => matchText(column, values[index])));
}

function indexBy(rows: MemoryRow[], columns: CatalogColumn[]): Map<string, number> {
	const index = new Map<string, number>();
	rows.forEach((row, position) => {
		const key = keyTextOf(columns, columns.map((column) => row[column.name]));
		if (key !== undefined && !index.has(key)) index.set(key, position);
	});
	return index;
}

/** Equality as the node's change detection sees it: EXCEPT (NULLs equal) over a binary collation. */
function same(type: SqlType, a: TargetValue, b: TargetValue): boolean {
	if (a === null || b === null) return a === b;
	if (NUMERIC.has(type.name)) return numberText(type, a) === numberText(type, b);
	if (TEXT.has(type.name)) return withoutTrailingSpaces(String(a)) === withoutTrailingSpaces(String(b));
	return String(a) === String(b);
}

function refusal(number: number, message: string): SqlServerRequestError {
	return new SqlServerRequestError({ number, message }, 'memory CRM', 1);
}

export class MemoryUpsertTarget implements UpsertTarget {
	private readonly tables = new Map<string, MemoryTable>();
	/** Write and read requests sent to the target, as the SQL Server adapter would send them. */
	requests = 0;
	/**
	 * Whether UNIQUE keys are enforced (a duplicate refused with 2627, as SQL Server does). The model-based sync test
	 * switches it off, so that a write bug would leave a key twice in CRM for the test to see, instead of being refused.
	 */
	enforceUniqueKeys = true;

	constructor(
		definitions: MemoryTableDefinition[],
		private readonly rowsPerRequestLimit = Number.POSITIVE_INFINITY,
	) {
		for (const definition of definitions) {
			const table: MemoryTable = { catalog: definition.catalog, defaults: definition.defaults ?? {}, triggers: definition.triggers ?? [], rows: [], nextIdentity: 1 };
			this.tables.set(tableKey(definition.catalog.name), table);
			if (definition.rows) this.seed(definition.catalog.name, definition.rows);
		}
	}

	private table(name: QualifiedName): MemoryTable {
		const table = this.tables.get(tableKey(name));
		if (!table) throw new UnknownTableError(name);
		return table;
	}

	/** The rows of a table, as copies. */
	rows(name: QualifiedName): MemoryRow[] {
		return this.table(name).rows.map((row) => ({ ...row }));
	}

	/** Adds rows as an INSERT would (identity and defaults filled, constraints checked). */
	seed(name: QualifiedName, rows: MemoryRow[]): void {
		const table = this.table(name);
		const working = table.rows.map((row) => ({ ...row }));
		let nextIdentity = table.nextIdentity;
		for (const values of rows) {
			const row = this.newRow(table, values, () => nextIdentity++);
			working.push(row);
		}
		this.check(table, working, 'INSERT');
		table.rows = working;
		table.nextIdentity = nextIdentity;
	}

	async listTables(filter?: string) {
		return [...this.tables.values()]
			.map((table) => ({ name: table.catalog.name, kind: table.catalog.kind }))
			.filter((entry) => !filter || displayQualifiedName(entry.name).toLowerCase().includes(filter.toLowerCase()));
	}

	async describe(name: QualifiedName): Promise<CatalogTable> {
		this.requests++;
		return structuredClone(this.table(name).catalog);
	}

	async rowsPerRequest(): Promise<number> {
		return this.rowsPerRequestLimit;
	}

	private newRow(table: MemoryTable, values: MemoryRow, nextIdentity: () => number): MemoryRow {
		const row: MemoryRow = {};
		for (const column of table.catalog.columns) {
			const given = Object.keys(values).find((name) => name.toLowerCase() === column.name.toLowerCase());
			if (column.isIdentity) row[column.name] = nextIdentity();
			else if (given !== undefined) row[column.name] = values[given];
			else row[column.name] = column.hasDefault ? (table.defaults[column.name] ?? null) : null;
		}
		return row;
	}

	/** Refuses the statement as SQL Server would: a value that does not convert, a NULL in a NOT NULL column, a duplicate key. */
	private check(table: MemoryTable, rows: MemoryRow[], verb: 'INSERT' | 'UPDATE'): void {
		const display = displayQualifiedName(table.catalog.name);
		for (const row of rows) {
			for (const column of table.catalog.columns) {
				const value = row[column.name];
				if (value === null || value === undefined) {
					if (!column.nullable) {
						throw refusal(515, `Cannot insert the value NULL into column '${column.name}', table '${display}'; column does not allow nulls. ${verb} fails.`);
					}
					continue;
				}
				if (!column.sqlType || column.isIdentity) continue;
				const converted = convertForColumn(column.sqlType, value);
				if (converted instanceof Refusal) throw this.conversionRefusal(display, column, value);
				row[column.name] = converted;
			}
		}
		for (const key of this.enforceUniqueKeys ? table.catalog.uniqueKeys : []) {
			const columns = key.map((name) => columnNamed(table.catalog, name));
			const seen = new Set<string>();
			for (const row of rows) {
				const text = keyTextOf(columns, columns.map((column) => row[column.name]));
				if (text === undefined) continue;
				if (seen.has(text)) {
					throw refusal(
						2627,
						`Violation of UNIQUE KEY constraint on (${key.join(', ')}). Cannot insert duplicate key in object '${display}'. The duplicate key value is (${columns.map((column) => String(row[column.name])).join(', ')}).`,
					);
				}
				seen.add(text);
			}
		}
	}

	/** Fires the table's triggers on the rows a statement inserted or updated. */
	private fireTriggers(table: MemoryTable, rows: MemoryRow[]): void {
		for (const row of rows) {
			for (const trigger of table.triggers) {
				const refused = trigger(row);
				if (refused !== undefined) throw refusal(50000, refused);
			}
		}
	}

	private conversionRefusal(display: string, column: CatalogColumn, value: TargetValue): SqlServerRequestError {
		const type = column.sqlType as SqlType;
		if (TEXT.has(type.name)) {
			return refusal(2628, `String or binary data would be truncated in table '${display}', column '${column.name}'. Truncated value: '${String(value).slice(0, type.length)}'.`);
		}
		if (NUMERIC.has(type.name) && typeof value !== 'boolean' && !Number.isNaN(Number(value))) {
			return refusal(8115, `Arithmetic overflow error converting nvarchar to data type ${sqlTypeText(type)}.`);
		}
		return refusal(245, `Conversion failed when converting the nvarchar value '${String(value)}' to data type ${sqlTypeText(type)}.`);
	}


	/**
	 * The watermark table in this database, as the lease guard of a write reads it (SyncWorld connects the watermark
	 * store). Without it, a guarded write fails as SQL Server fails on a table that is not there.
	 */
	leaseIsLive?: (guard: LeaseGuard) => boolean;

	/** The lease guard, as leaseGuardSql states it: before anything is written, the whole request or nothing. */
	private checkLease(options: WriteOptions): void {
		const guard = options.leaseGuard;
		if (!guard || options.dryRun) return;
		if (!this.leaseIsLive) throw refusal(208, `Invalid object name '${displayQualifiedName(guard.table)}'.`);
		if (!this.leaseIsLive(guard)) throw new LeaseLostError(guard.stream);
	}

	async upsert(plan: UpsertPlan, rows: UpsertRow[], options: WriteOptions): Promise<RowOutcome[]> {
		this.requests++;
		this.checkLease(options);
		const table = this.table(plan.table);
		const before = table.rows;
		const working = before.map((row) => ({ ...row }));
		let nextIdentity = table.nextIdentity;
		const index = indexBy(before, plan.matchColumns);
		const touched = new Set<number>();
		const outcomes: RowOutcome[] = [];
		let inserted = false;
		const written: MemoryRow[] = [];
		for (const row of rows) {
			const values: MemoryRow = {};
			plan.columns.forEach((column, index) => (values[column.name] = row.values[index]));
			const missing = plan.lookups.findIndex((lookup, index) => {
				const keyValue = row.lookupKeys[index];
				if (keyValue === null) {
					values[lookup.target.name] = null;
					return false;
				}
				const wanted = matchText(lookup.key, keyValue);
				const found = this.table(lookup.fromTable).rows.find(
					(candidate) => candidate[lookup.key.name] !== null && matchText(lookup.key, candidate[lookup.key.name]) === wanted,
				);
				values[lookup.target.name] = found ? found[lookup.value.name] : null;
				return !found;
			});
			if (missing !== -1) {
				const lookup = plan.lookups[missing];
				outcomes.push({ ordinal: row.ordinal, status: 'failed', error: { message: missingLookupMessage(lookup, row.lookupKeys[missing]), column: lookup.target.name } });
				continue;
			}
			const key = plan.matchColumns.map((column) => values[column.name]);
			const position = index.get(keyTextOf(plan.matchColumns, key) ?? '') ?? -1;
			if (position === -1) {
				const added = this.newRow(table, values, () => nextIdentity++);
				working.push(added);
				written.push(added);
				inserted = true;
				outcomes.push({ ordinal: row.ordinal, status: 'inserted' });
				continue;
			}
			if (touched.has(position)) {
				throw refusal(8672, 'The MERGE statement attempted to UPDATE or DELETE the same row more than once. A target row matched more than one source row.');
			}
			touched.add(position);
			const target = working[position];
			const changed = Object.entries(values).filter(([name, value]) => !same(columnNamed(table.catalog, name).sqlType as SqlType, target[name], value));
			for (const [name, value] of changed) target[name] = value;
			if (changed.length > 0) written.push(target);
			outcomes.push({ ordinal: row.ordinal, status: changed.length > 0 ? 'updated' : 'unchanged' });
		}
		this.check(table, working, inserted ? 'INSERT' : 'UPDATE');
		if (!options.dryRun) this.fireTriggers(table, written);
		if (!options.dryRun) {
			table.rows = working;
			table.nextIdentity = nextIdentity;
		}
		return outcomes;
	}

	async delete(plan: DeletePlan, rows: DeleteRow[], options: WriteOptions): Promise<RowOutcome[]> {
		const { handling } = plan;
		if (handling.kind === 'ignore') return rows.map((row) => ({ ordinal: row.ordinal, status: 'ignored' }));
		this.requests++;
		this.checkLease(options);
		const table = this.table(plan.table);
		const working = table.rows.map((row) => ({ ...row }));
		const index = indexBy(working, plan.matchColumns);
		const removed = new Set<number>();
		const marked: MemoryRow[] = [];
		const now = new Date().toISOString();
		const outcomes = rows.map((row): RowOutcome => {
			const position = index.get(keyTextOf(plan.matchColumns, row.key) ?? '') ?? -1;
			if (position === -1 || removed.has(position)) return { ordinal: row.ordinal, status: 'unchanged' };
			if (handling.kind === 'delete') {
				removed.add(position);
				return { ordinal: row.ordinal, status: 'deleted' };
			}
			const target = working[position];
			const pending = handling.assignments.some((assignment) =>
				assignment.isNow
					? target[assignment.column.name] === null
					: !same(assignment.column.sqlType as SqlType, target[assignment.column.name], assignment.value as TargetValue),
			);
			if (!pending) return { ordinal: row.ordinal, status: 'unchanged' };
			for (const assignment of handling.assignments) {
				target[assignment.column.name] = assignment.isNow ? now : (assignment.value as TargetValue);
			}
			marked.push(target);
			return { ordinal: row.ordinal, status: 'deleted' };
		});
		const remaining = working.filter((_, position) => !removed.has(position));
		this.check(table, remaining, 'UPDATE');
		if (!options.dryRun) this.fireTriggers(table, marked);
		if (!options.dryRun) table.rows = remaining;
		return outcomes;
	}
}
