import type { SqlType, SqlTypeName } from '../transport/types';

const KNOWN_TYPES = new Set<SqlTypeName>([
	'bit', 'tinyint', 'smallint', 'int', 'bigint', 'decimal', 'numeric', 'money', 'float', 'real', 'date', 'time',
	'datetime', 'datetime2', 'smalldatetime', 'datetimeoffset', 'char', 'varchar', 'nchar', 'nvarchar',
	'uniqueidentifier', 'binary', 'varbinary',
]);

const TEMPORAL_TYPE_NAMES = new Set(['date', 'time', 'datetime', 'datetime2', 'smalldatetime', 'datetimeoffset']);

/** Date and time types: their values travel as text converted in T-SQL (style 126), never as driver dates. */
export function isTemporalTypeName(typeName: string): boolean {
	return TEMPORAL_TYPE_NAMES.has(typeName.toLowerCase());
}

/** A column as sys.columns / sys.types describe it. */
export interface CatalogColumnType {
	typeName: string;
	/** sys.columns.max_length: bytes, -1 for MAX. */
	maxLength: number;
	precision: number;
	scale: number;
}

/**
 * The parameter type that matches a column exactly, so that comparing a parameter with the column never
 * converts the column (which would lose an index or, for datetime against datetime2, miss rows).
 * `timestamp` is SQL Server's old name for rowversion.
 */
export function sqlTypeOfColumn(column: CatalogColumnType): SqlType | undefined {
	const name = column.typeName.toLowerCase();
	if (name === 'timestamp' || name === 'rowversion') return { name: 'rowversion', length: 8 };
	if (name === 'text' || name === 'ntext') return { name: name === 'text' ? 'varchar' : 'nvarchar', length: -1 };
	if (!KNOWN_TYPES.has(name as SqlTypeName)) return undefined;
	const typeName = name as SqlTypeName;
	switch (typeName) {
		case 'nchar':
		case 'nvarchar':
			return { name: typeName, length: column.maxLength === -1 ? -1 : column.maxLength / 2 };
		case 'char':
		case 'varchar':
		case 'binary':
		case 'varbinary':
			return { name: typeName, length: column.maxLength };
		case 'decimal':
		case 'numeric':
			return { name: typeName, precision: column.precision, scale: column.scale };
		case 'datetime2':
		case 'datetimeoffset':
		case 'time':
			return { name: typeName, scale: column.scale };
		default:
			return { name: typeName };
	}
}

/** The T-SQL spelling of a type, e.g. `nvarchar(50)`, `datetime2(7)`, `decimal(18,2)`, for CONVERT and OPENJSON WITH. */
export function sqlTypeText(type: SqlType): string {
	switch (type.name) {
		case 'char':
		case 'varchar':
		case 'nchar':
		case 'nvarchar':
		case 'binary':
		case 'varbinary':
			return `${type.name}(${type.length === -1 || type.length === undefined ? 'max' : type.length})`;
		case 'decimal':
		case 'numeric':
			return `${type.name}(${type.precision ?? 18},${type.scale ?? 0})`;
		case 'datetime2':
		case 'datetimeoffset':
		case 'time':
			return `${type.name}(${type.scale ?? 7})`;
		case 'rowversion':
			return 'binary(8)';
		default:
			return type.name;
	}
}

/**
 * A text / ntext column as a value that `=`, `<`, LIKE and EXCEPT can compare: SQL Server refuses most comparisons
 * of text and ntext (error 402). varchar(max) / nvarchar(max) keep every character and the column's collation.
 */
export function comparableLargeText(expression: string, typeName: string): string {
	switch (typeName.toLowerCase()) {
		case 'text':
			return `CONVERT(varchar(max), ${expression})`;
		case 'ntext':
			return `CONVERT(nvarchar(max), ${expression})`;
		default:
			return expression;
	}
}
