import type { CatalogColumnType } from './core/sqlTypes';
import { sqlTypeOfColumn } from './core/sqlTypes';
import type { QualifiedName } from './core/identifiers';
import { displayQualifiedName } from './core/identifiers';
import type { SchemaCache } from './schemaCache';
import { SCHEMA_CHANGED_ERRORS } from './schemaCache';
import { SqlServerRequestError } from './transport/sqlServerError';
import type { SqlTransport, SqlType } from './transport/types';

export interface CatalogColumn extends CatalogColumnType {
	name: string;
	nullable: boolean;
	isIdentity: boolean;
	isComputed: boolean;
	/** The parameter type that matches the column; undefined for types this package does not handle (xml, geography…). */
	sqlType?: SqlType;
	/** 1-based position in the primary key, 0 when not part of it. */
	primaryKeyOrdinal: number;
	/** Part of a unique index or constraint (the primary key included). */
	inUniqueIndex: boolean;
	hasDefault: boolean;
	/** Why the nodes can neither read nor write the column (a CLR type such as geography); absent when they can. */
	notMappable?: string;
	/** The column's collation (sys.columns.collation_name) for text columns; what its values are compared and joined in. */
	collation?: string;
}

export interface CatalogTable {
	name: QualifiedName;
	kind: 'table' | 'view';
	columns: CatalogColumn[];
	/** Primary key columns in key order; empty for a heap or a view. */
	primaryKey: string[];
	/**
	 * Every unique key (primary key, unique constraints, unique indexes) as its column list. A filtered or disabled
	 * unique index is left out: it does not make its columns unique across the table.
	 */
	uniqueKeys: string[][];
	/** Whether SQL Server Change Tracking is on for this table. */
	changeTracking: boolean;
}

export const LIST_TABLES_QUERY = `SELECT s.name AS schemaName, o.name AS tableName, CASE o.type WHEN 'V' THEN 'view' ELSE 'table' END AS kind
FROM sys.objects o JOIN sys.schemas s ON s.schema_id = o.schema_id
WHERE o.type IN ('U', 'V') AND o.is_ms_shipped = 0 AND (@filter IS NULL OR s.name + '.' + o.name LIKE '%' + @filter + '%')
ORDER BY s.name, o.name;`;

export const DESCRIBE_TABLE_QUERY = `DECLARE @object int = OBJECT_ID(QUOTENAME(@schema) + '.' + QUOTENAME(@table));
SELECT CASE o.type WHEN 'V' THEN 'view' ELSE 'table' END AS kind,
       CASE WHEN EXISTS (SELECT 1 FROM sys.change_tracking_tables ct WHERE ct.object_id = @object) THEN 1 ELSE 0 END AS changeTracking
FROM sys.objects o WHERE o.object_id = @object AND o.type IN ('U', 'V');
SELECT c.name, ISNULL(bt.name, ut.name) AS typeName, ut.is_assembly_type AS isClrType, c.max_length AS maxLength, c.precision, c.scale,
       c.is_nullable AS nullable, c.is_identity AS isIdentity, c.is_computed AS isComputed, c.collation_name AS collationName,
       CASE WHEN c.default_object_id <> 0 THEN 1 ELSE 0 END AS hasDefault,
       ISNULL((SELECT ic.key_ordinal FROM sys.indexes i JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
               WHERE i.object_id = c.object_id AND i.is_primary_key = 1 AND ic.column_id = c.column_id), 0) AS primaryKeyOrdinal
FROM sys.columns c JOIN sys.types ut ON ut.user_type_id = c.user_type_id
LEFT JOIN sys.types bt ON bt.user_type_id = c.system_type_id AND bt.user_type_id = bt.system_type_id
WHERE c.object_id = @object ORDER BY c.column_id;
SELECT i.index_id AS indexId, c.name AS columnName
FROM sys.indexes i JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
WHERE i.object_id = @object AND i.is_unique = 1 AND i.has_filter = 0 AND i.is_disabled = 0 AND i.is_hypothetical = 0
  AND ic.is_included_column = 0
ORDER BY i.index_id, ic.key_ordinal;`;

const nameParameter = (name: string, value: string | null) => ({
	name,
	type: { name: 'nvarchar' as const, length: 256 },
	value,
});

export async function listTables(transport: SqlTransport, filter?: string): Promise<Array<{ name: QualifiedName; kind: string }>> {
	const result = await transport.execute({
		text: LIST_TABLES_QUERY,
		parameters: [nameParameter('filter', filter ? filter : null)],
	});
	return (result.recordsets[0] ?? []).map((row) => ({
		name: { schema: String(row.schemaName), name: String(row.tableName) },
		kind: String(row.kind),
	}));
}

/**
 * Why the nodes cannot map a column: CLR types (geography, geometry, hierarchyid, an assembly's own type) and the
 * other types no parameter or text form of this package carries. xml is read as text, so it is not on the list.
 */
function notMappable(type: CatalogColumnType, isClrType: boolean): { notMappable?: string } {
	if (sqlTypeOfColumn(type) !== undefined || type.typeName.toLowerCase() === 'xml') return {};
	const what = isClrType ? `a CLR type (${type.typeName})` : `of type ${type.typeName}`;
	return { notMappable: `not mappable: ${what}, which this package cannot read or write; convert it in a view, or give it a default in the database` };
}

export class UnknownTableError extends Error {
	readonly advice = 'Pick the table again from the list, or check that the credential points at the right database.';

	constructor(readonly table: QualifiedName) {
		super(`Table or view ${displayQualifiedName(table)} does not exist, or this login cannot see it`);
		this.name = 'UnknownTableError';
	}
}

/** Reads a table's columns and keys from the catalogue; throws UnknownTableError when SQL Server does not know it. */
export async function describeTable(transport: SqlTransport, table: QualifiedName): Promise<CatalogTable> {
	const result = await transport.execute({
		text: DESCRIBE_TABLE_QUERY,
		parameters: [nameParameter('schema', table.schema), nameParameter('table', table.name)],
	});
	const [objects = [], columnRows = [], uniqueRows = []] = result.recordsets;
	const object = objects[0];
	if (!object) throw new UnknownTableError(table);
	const uniqueByIndex = new Map<number, string[]>();
	for (const row of uniqueRows) {
		const id = Number(row.indexId);
		uniqueByIndex.set(id, [...(uniqueByIndex.get(id) ?? []), String(row.columnName)]);
	}
	const uniqueKeys = [...uniqueByIndex.values()];
	const columns: CatalogColumn[] = columnRows.map((row) => {
		const type: CatalogColumnType = {
			typeName: String(row.typeName),
			maxLength: Number(row.maxLength),
			precision: Number(row.precision),
			scale: Number(row.scale),
		};
		return {
			name: String(row.name),
			...type,
			nullable: Boolean(row.nullable),
			isIdentity: Boolean(row.isIdentity),
			isComputed: Boolean(row.isComputed),
			hasDefault: Boolean(row.hasDefault),
			...(typeof row.collationName === 'string' && row.collationName !== '' ? { collation: row.collationName } : {}),
			sqlType: sqlTypeOfColumn(type),
			...notMappable(type, Boolean(row.isClrType)),
			primaryKeyOrdinal: Number(row.primaryKeyOrdinal),
			inUniqueIndex: uniqueKeys.some((key) => key.includes(String(row.name))),
		};
	});
	const primaryKey = columns
		.filter((column) => column.primaryKeyOrdinal > 0)
		.sort((a, b) => a.primaryKeyOrdinal - b.primaryKeyOrdinal)
		.map((column) => column.name);
	return {
		name: table,
		kind: object.kind === 'view' ? 'view' : 'table',
		columns,
		primaryKey,
		uniqueKeys,
		changeTracking: Boolean(object.changeTracking),
	};
}

export class UnknownColumnError extends Error {
	readonly advice =
		'The table has changed since the node was set up: refresh the column list in the node and map or pick the column again.';

	constructor(
		readonly table: QualifiedName,
		readonly column: string,
	) {
		super(`Column "${column}" does not exist in ${displayQualifiedName(table)}`);
		this.name = 'UnknownColumnError';
	}
}

/** The catalogue's column of that name (SQL Server names compare case-insensitively here), or UnknownColumnError. */
export function columnNamed(table: CatalogTable, name: string): CatalogColumn {
	const column = table.columns.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
	if (!column) throw new UnknownColumnError(table.name, name);
	return column;
}

const tableAnswerKey = (table: QualifiedName) => `table ${table.schema}.${table.name}`;

/** The table's catalogue entry as the pool's executions already know it, or read now (see schemaCache.ts). */
export async function describeTableKnown(transport: SqlTransport, schema: SchemaCache, table: QualifiedName): Promise<CatalogTable> {
	return await schema.get(tableAnswerKey(table), async () => await describeTable(transport, table));
}

export function meansSchemaMayHaveChanged(error: unknown): boolean {
	return error instanceof SqlServerRequestError && error.number !== undefined && SCHEMA_CHANGED_ERRORS.has(error.number);
}

/** The tables and columns a statement named, to tell after a refusal whether one of them is gone. */
export interface ColumnsUsed {
	table: QualifiedName;
	columns: string[];
}

/**
 * After SQL Server refused a statement with an error that can mean the schema changed under it (schemaCache.ts):
 * every answer of the pool is asked again, and a table or column the statement used that is gone becomes the error
 * (UnknownTableError / UnknownColumnError, which say what to do) instead of SQL Server's; the next statement is built
 * from fresh answers. Once per execution (one per adapter), however often a refused batch is split to find its rows.
 */
export class SchemaRecheck {
	private done = false;

	constructor(
		private readonly transport: SqlTransport,
		private readonly schema: SchemaCache,
	) {}

	/** The error to throw: SQL Server's, or the table or column of `used` that is gone. */
	async explain(error: unknown, used: ColumnsUsed[]): Promise<unknown> {
		if (this.done || !meansSchemaMayHaveChanged(error)) return error;
		this.done = true;
		this.schema.forgetAll();
		try {
			for (const { table, columns } of used) {
				const fresh = await describeTableKnown(this.transport, this.schema, table);
				for (const name of columns) columnNamed(fresh, name);
			}
		} catch (gone) {
			return gone;
		}
		return error;
	}
}
