/**
 * The T-SQL the CRM node sends, as text built from a plan: one batch per set of rows, values always as
 * parameters, identifiers only as the catalogue gave them, bracket-quoted.
 *
 * Every write batch has the same shape, whichever way its rows travel:
 *   1. the rows go into a typed table variable @source (lookups resolved there, once, by a join);
 *   2. one set-based MERGE / DELETE / UPDATE inside one transaction (SET XACT_ABORT ON: any error rolls it all back);
 *   3. one result set says, for every row, what happened: inserted, updated, unchanged, deleted or missing (its
 *      looked-up row is not in CRM); or, when SQL Server or a CRM trigger refused the rows' data, one row 'refused'
 *      with the error (see writeInOneTransaction).
 * The rows travel as ONE nvarchar(max) JSON parameter read by OPENJSON (compatibility level 130 and later), or as
 * a multi-row VALUES list of typed parameters, in chunks that stay under SQL Server's 2,100 parameters.
 */
import type { CatalogColumn } from '../catalog';
import type { SqlParameter, SqlType, SqlValue } from '../transport/types';
import { quoteIdentifier, quoteQualifiedName } from './identifiers';
import type { TargetValue } from './mappingValues';
import { isTemporal } from './mappingValues';
import { comparableLargeText, sqlTypeText } from './sqlTypes';
import type { DeletePlan, UpsertPlan } from './upsertPlan';
import { rowLevelRefusalCondition } from './upsertBisection';

/** SQL Server's limit on parameters in one request. */
export const MAX_PARAMETERS_PER_REQUEST = 2100;
/** The driver sends a parameterised batch through sp_executesql, whose statement and declaration list are two of the 2,100. */
export const PARAMETERS_FOR_VALUES = MAX_PARAMETERS_PER_REQUEST - 2;
/** A VALUES list longer than this is slow to compile; more rows go into the next chunk. */
export const MAX_ROWS_PER_VALUES_CHUNK = 1000;
/** OPENJSON exists from this database compatibility level on. */
export const OPENJSON_MIN_COMPATIBILITY_LEVEL = 130;

/** What a database below compatibility level 130 costs, and how to lift it; shown by the credential test and the CRM node. */
export function compatibilityLevelWarning(level: number, database = 'this database'): string {
	return `The database is at compatibility level ${level}, below ${OPENJSON_MIN_COMPATIBILITY_LEVEL}: SQL Server has no OPENJSON there, so the CRM node sends each batch as many small parameters, which is slower. Raise it with ALTER DATABASE ${database} SET COMPATIBILITY_LEVEL = ${OPENJSON_MIN_COMPATIBILITY_LEVEL} if nothing else on the database depends on the old level.`;
}

export const COMPATIBILITY_LEVEL_QUERY = 'SELECT compatibility_level AS compatibilityLevel FROM sys.databases WHERE database_id = DB_ID();';

/** How many rows fit in one VALUES request when each row takes `parametersPerRow` and the statement `fixedParameters` more. */
export function rowsPerValuesChunk(parametersPerRow: number, fixedParameters = 0): number {
	const available = PARAMETERS_FOR_VALUES - fixedParameters;
	if (parametersPerRow < 1) return MAX_ROWS_PER_VALUES_CHUNK;
	const rows = Math.floor(available / parametersPerRow);
	if (rows < 1) {
		throw new Error(`One row needs ${parametersPerRow + fixedParameters} parameters, more than the ${MAX_PARAMETERS_PER_REQUEST} SQL Server takes in one request`);
	}
	return Math.min(rows, MAX_ROWS_PER_VALUES_CHUNK);
}

export function chunked<T>(entries: T[], size: number): T[][] {
	const chunks: T[][] = [];
	for (let start = 0; start < entries.length; start += size) chunks.push(entries.slice(start, start + size));
	return chunks;
}

export interface SourceColumn {
	alias: string;
	type: SqlType;
	/** The collation of the CRM column the value goes into or is compared with (text columns). */
	collation?: string;
	/** A lookup's natural key: OPENJSON reads it typed exactly like the looked-up column, so the join can seek its index. */
	lookupKey?: boolean;
}

/**
 * One row as it travels: its ordinal in the batch, then its values and after them its lookup keys, in the order
 * of the source columns. An UpsertRow is one as it is: a batch's rows are not copied to be sent.
 */
export interface SourceRow {
	ordinal: number;
	values: TargetValue[];
	lookupKeys?: readonly TargetValue[];
}

/** The row's value for source column `index`. */
function cellOf(row: SourceRow, index: number): TargetValue {
	return index < row.values.length ? row.values[index] : (row.lookupKeys as readonly TargetValue[])[index - row.values.length];
}

/** [ordinal, values…, lookup keys…], filled in place: spreading them made a second array per row. */
function cellsOf(row: SourceRow): unknown[] {
	const cells = new Array<unknown>(1 + row.values.length + (row.lookupKeys?.length ?? 0));
	cells[0] = row.ordinal;
	for (let index = 1; index < cells.length; index++) cells[index] = cellOf(row, index - 1);
	return cells;
}

/** The FROM clause that yields the rows as `j` with columns [row] and the source columns, and its parameters. */
export interface RowsSource {
	clause: string;
	parameters: SqlParameter[];
}

const TEXT_CARRIED = new Set(['decimal', 'numeric', 'money', 'bigint']);

/**
 * Types whose values travel as text and are converted by SQL Server: temporal values (the driver would round them
 * to milliseconds), decimals and money (a JavaScript number would round them) and bigints (beyond 2^53).
 */
function travelsAsText(type: SqlType): boolean {
	return isTemporal(type) || TEXT_CARRIED.has(type.name);
}

/** An expression converting a parameter to its column's type when it travels as text. */
function typedParameter(reference: string, type: SqlType): string {
	if (!travelsAsText(type)) return reference;
	return isTemporal(type) ? `CONVERT(${sqlTypeText(type)}, ${reference}, 126)` : `CONVERT(${sqlTypeText(type)}, ${reference})`;
}

function parameterFor(name: string, type: SqlType, value: TargetValue): SqlParameter {
	if (travelsAsText(type)) return { name, type: { name: 'varchar', length: 40 }, value: value === null ? null : String(value) };
	return { name, type, value: value as SqlValue };
}

const TEXT_TYPES = new Set(['char', 'varchar', 'nchar', 'nvarchar']);

/**
 * How OPENJSON reads a column: text as nvarchar(max), because OPENJSON cuts a longer string to the declared length
 * without a word; @source, typed like the column, then refuses it as an INSERT would (string truncation). A lookup
 * key is read as its column's own type (its length was checked before: convertForColumn), because a varchar column
 * compared with nvarchar(max) is converted row by row and its index is not used.
 */
function jsonReadType(column: SourceColumn): string {
	return TEXT_TYPES.has(column.type.name) && !column.lookupKey ? 'nvarchar(max)' : sqlTypeText(column.type);
}

const COLLATION_NAME = /^[A-Za-z0-9_]+$/;

/**
 * " COLLATE <the column's collation>" for a text column, so that @source and every join compare as the CRM column
 * does: a column with another collation than the database's would otherwise make `=` fail to compile (error 468).
 * The name comes from the catalogue; COLLATE takes no quoted name, so anything but letters, digits and _ is refused.
 */
function collateLike(collation: string | undefined): string {
	if (collation === undefined) return '';
	if (!COLLATION_NAME.test(collation)) throw new Error(`The catalogue gave a collation name this node does not send: ${JSON.stringify(collation)}`);
	return ` COLLATE ${collation}`;
}

/** The rows as one JSON array of arrays ([ordinal, v0, v1, …] each), read with typed OPENJSON paths. */
export function jsonRowsSource(columns: SourceColumn[], rows: SourceRow[]): RowsSource {
	const withClause = [`[row] int '$[0]'`, ...columns.map((column, index) => `${quoteIdentifier(column.alias)} ${jsonReadType(column)} '$[${index + 1}]'`)];
	return {
		clause: `OPENJSON(@rows) WITH (${withClause.join(', ')}) AS j`,
		parameters: [parameterFor('rows', { name: 'nvarchar', length: -1 }, JSON.stringify(rows.map(cellsOf)))],
	};
}

/**
 * A VALUES parameter's type: the column's, but non-Unicode text travels as nvarchar of the same length, because the
 * driver would encode a varchar parameter in the database's code page and lose what a column of another code page
 * holds (@source converts it in the column's own collation). A lookup key keeps its column's type, so its join seeks.
 */
function valuesParameterType(column: SourceColumn): SqlType {
	if (column.lookupKey || (column.type.name !== 'char' && column.type.name !== 'varchar')) return column.type;
	return { ...column.type, name: column.type.name === 'char' ? 'nchar' : 'nvarchar' };
}

/** The rows as a VALUES list, each value its own typed parameter; the caller keeps the list within rowsPerValuesChunk. */
export function valuesRowsSource(columns: SourceColumn[], rows: SourceRow[]): RowsSource {
	const parameters: SqlParameter[] = [];
	const lines = rows.map((row, rowIndex) => {
		const cells = columns.map((column, columnIndex) => {
			const name = `p${rowIndex}_${columnIndex}`;
			parameters.push(parameterFor(name, valuesParameterType(column), cellOf(row, columnIndex)));
			return typedParameter(`@${name}`, column.type);
		});
		return `(${[String(row.ordinal), ...cells].join(', ')})`;
	});
	const names = ['[row]', ...columns.map((column) => quoteIdentifier(column.alias))];
	return { clause: `(VALUES ${lines.join(',\n')}) AS j(${names.join(', ')})`, parameters };
}

const ROW_COLUMN = '[row] int NOT NULL PRIMARY KEY';

/** The outcome the write batch gives, as its only row, when SQL Server or a CRM trigger refused the rows' data. */
export const REFUSED_OUTCOME = 'refused';

/**
 * The write batch around its statements: one transaction that is kept whole or not at all, whatever a CRM trigger
 * does. A trigger's RAISERROR without ROLLBACK would otherwise let the batch commit while the driver throws (rows
 * reported failed that were written), and RAISERROR … ROLLBACK ends the batch with 3609 after the trigger's own
 * error. Inside TRY every such error lands in CATCH, which rolls back what is left: a refusal of the rows' data
 * (rowLevelRefusalCondition, the rule the node splits batches by) is answered as one 'refused' row with SQL Server's
 * number and words, so the caller knows nothing was kept; any other error is thrown again unchanged (a deadlock is
 * then retried by the transport, a permission error stops the node).
 */
function writeInOneTransaction(resultTable: string, statements: string[], outcomes: string[]): string {
	return [
		'SET NOCOUNT ON;',
		'SET XACT_ABORT ON;',
		`DECLARE @result TABLE (${resultTable});`,
		'DECLARE @refusedNumber int, @refusedMessage nvarchar(4000);',
		'BEGIN TRY',
		'BEGIN TRANSACTION;',
		...statements,
		'COMMIT TRANSACTION;',
		'END TRY',
		'BEGIN CATCH',
		'IF XACT_STATE() <> 0 ROLLBACK TRANSACTION;',
		`IF NOT ${rowLevelRefusalCondition('ERROR_NUMBER()')}`,
		'  THROW;',
		'SELECT @refusedNumber = ERROR_NUMBER(), @refusedMessage = ERROR_MESSAGE();',
		'END CATCH;',
		'IF @refusedNumber IS NOT NULL',
		`  SELECT CAST(NULL AS int) AS [row], '${REFUSED_OUTCOME}' AS [outcome], @refusedNumber AS [errorNumber], @refusedMessage AS [errorMessage];`,
		'ELSE',
		...outcomes,
	].join('\n');
}

const declared = (alias: string, type: SqlType, collation?: string) => `${quoteIdentifier(alias)} ${sqlTypeText(type)}${collateLike(collation)} NULL`;

/**
 * A value comparison that sees every change, and one that EXCEPT can make:
 * - Unicode text in a binary collation: the CRM's collation is usually case-insensitive, under which "acme" and
 *   "ACME" compare equal and the rename would be reported unchanged and never written;
 * - non-Unicode text as the bytes of its own code page (both sides are in the column's collation): a binary
 *   collation of another code page would convert it first, and two different characters outside that code page
 *   could both become "?" and compare equal. RTRIM keeps what `=` does with trailing spaces;
 * - text / ntext through varchar(max) / nvarchar(max): EXCEPT cannot compare them at all.
 */
function comparable(expression: string, column: CatalogColumn): string {
	switch (column.typeName.toLowerCase()) {
		case 'nchar':
		case 'nvarchar':
			return `${expression} COLLATE Latin1_General_100_BIN2`;
		case 'ntext':
			return `${comparableLargeText(expression, 'ntext')} COLLATE Latin1_General_100_BIN2`;
		case 'char':
		case 'varchar':
			return `CONVERT(varbinary(max), RTRIM(${expression}))`;
		case 'text':
			return `CONVERT(varbinary(max), RTRIM(${comparableLargeText(expression, 'text')}))`;
		default:
			return expression;
	}
}

/** The source columns of an upsert: mapped values c0…, then each lookup's natural key k0…. */
export function upsertSourceColumns(plan: UpsertPlan): SourceColumn[] {
	return [
		...plan.columns.map((column, index) => ({ alias: `c${index}`, type: column.sqlType as SqlType, collation: column.collation })),
		...plan.lookups.map((lookup, index) => ({ alias: `k${index}`, type: lookup.key.sqlType as SqlType, collation: lookup.key.collation, lookupKey: true })),
	];
}

interface Written {
	column: CatalogColumn;
	alias: string;
}

function writtenColumns(plan: UpsertPlan): Written[] {
	return [
		...plan.columns.map((column, index) => ({ column, alias: `c${index}` })),
		...plan.lookups.map((lookup, index) => ({ column: lookup.target, alias: `l${index}` })),
	];
}

function matchCondition(plan: { matchColumns: CatalogColumn[] }, aliasOf: (column: CatalogColumn) => string): string {
	return plan.matchColumns.map((column) => `t.${quoteIdentifier(column.name)} = s.${quoteIdentifier(aliasOf(column))}`).join(' AND ');
}

/** "Some written value differs from CRM's", NULL-safe (EXCEPT treats two NULLs as equal); undefined when only match columns are written. */
function differs(compared: Written[]): string | undefined {
	if (compared.length === 0) return undefined;
	const source = compared.map(({ column, alias }) => comparable(`s.${quoteIdentifier(alias)}`, column)).join(', ');
	const target = compared.map(({ column }) => comparable(`t.${quoteIdentifier(column.name)}`, column)).join(', ');
	return `EXISTS (SELECT ${source} EXCEPT SELECT ${target})`;
}

/** Fills @source from the rows, resolving each lookup by a join; [missingLookup] is the first lookup whose row is not in CRM. */
function fillUpsertSource(plan: UpsertPlan, source: RowsSource): string {
	const written = writtenColumns(plan);
	const declarations = [ROW_COLUMN, ...written.map(({ column, alias }) => declared(alias, column.sqlType as SqlType, column.collation)), '[missingLookup] int NULL'];
	const selected = [
		'j.[row]',
		...plan.columns.map((_, index) => `j.[c${index}]`),
		...plan.lookups.map((lookup, index) => `f${index}.${quoteIdentifier(lookup.value.name)}`),
	];
	const missing = plan.lookups.map(
		(lookup, index) => `WHEN j.[k${index}] IS NOT NULL AND f${index}.${quoteIdentifier(lookup.key.name)} IS NULL THEN ${index}`,
	);
	const joins = plan.lookups.map(
		(lookup, index) => `LEFT JOIN ${quoteQualifiedName(lookup.fromTable)} AS f${index} ON f${index}.${quoteIdentifier(lookup.key.name)} = j.[k${index}]${collateLike(lookup.key.collation)}`,
	);
	return [
		`DECLARE @source TABLE (${declarations.join(', ')});`,
		`INSERT INTO @source ([row], ${written.map(({ alias }) => quoteIdentifier(alias)).join(', ')}, [missingLookup])`,
		`SELECT ${[...selected, missing.length > 0 ? `CASE ${missing.join(' ')} END` : 'NULL'].join(', ')}`,
		`FROM ${source.clause}${joins.map((join) => `\n${join}`).join('')};`,
	].join('\n');
}

/**
 * The upsert batch: MERGE WITH (HOLDLOCK), so that two writers cannot both insert the same new key; a matched row is
 * updated only when a written value differs, so re-sent rows cause no update, no trigger and no audit entry.
 * With `dryRun`, the same comparison as a read-only SELECT.
 */
export function upsertStatement(plan: UpsertPlan, source: RowsSource, dryRun: boolean, leaseGuard: string[] = []): string {
	const written = writtenColumns(plan);
	const aliasOf = (column: CatalogColumn) => (written.find((entry) => entry.column === column) as Written).alias;
	const on = matchCondition(plan, aliasOf);
	const updated = written.filter(({ column }) => !plan.matchColumns.includes(column));
	const change = differs(updated);
	const target = quoteQualifiedName(plan.table);
	const outcome = `CASE WHEN s.[missingLookup] IS NOT NULL THEN 'missing'`;
	if (dryRun) {
		return [
			'SET NOCOUNT ON;',
			fillUpsertSource(plan, source),
			`SELECT s.[row], ${outcome}`,
			`  WHEN NOT EXISTS (SELECT 1 FROM ${target} AS t WHERE ${on}) THEN 'inserted'`,
			...(change ? [`  WHEN EXISTS (SELECT 1 FROM ${target} AS t WHERE ${on} AND ${change}) THEN 'updated'`] : []),
			`  ELSE 'unchanged' END AS [outcome], s.[missingLookup]`,
			'FROM @source AS s ORDER BY s.[row];',
		].join('\n');
	}
	return writeInOneTransaction(
		'[row] int NOT NULL PRIMARY KEY, [action] nvarchar(10) NOT NULL',
		[
			...leaseGuard,
			fillUpsertSource(plan, source),
			`MERGE ${target} WITH (HOLDLOCK) AS t`,
			`USING (SELECT * FROM @source WHERE [missingLookup] IS NULL) AS s`,
			`ON ${on}`,
			...(change
				? [
						`WHEN MATCHED AND ${change} THEN`,
						`  UPDATE SET ${updated.map(({ column, alias }) => `t.${quoteIdentifier(column.name)} = s.${quoteIdentifier(alias)}`).join(', ')}`,
					]
				: []),
			'WHEN NOT MATCHED BY TARGET THEN',
			`  INSERT (${written.map(({ column }) => quoteIdentifier(column.name)).join(', ')}) VALUES (${written.map(({ alias }) => `s.${quoteIdentifier(alias)}`).join(', ')})`,
			'OUTPUT s.[row], $action INTO @result ([row], [action]);',
		],
		[
			`SELECT s.[row], ${outcome} WHEN r.[action] = 'INSERT' THEN 'inserted' WHEN r.[action] = 'UPDATE' THEN 'updated' ELSE 'unchanged' END AS [outcome], s.[missingLookup]`,
			'FROM @source AS s LEFT JOIN @result AS r ON r.[row] = s.[row] ORDER BY s.[row];',
		],
	);
}

export function deleteSourceColumns(plan: DeletePlan): SourceColumn[] {
	return plan.matchColumns.map((column, index) => ({ alias: `c${index}`, type: column.sqlType as SqlType, collation: column.collation }));
}

/** The parameters of "set columns" deletes, one per fixed value; "now" is SYSUTCDATETIME() in the statement. */
export function assignmentParameters(plan: DeletePlan): SqlParameter[] {
	if (plan.handling.kind !== 'markDeleted') return [];
	return plan.handling.assignments.flatMap((assignment, index) =>
		assignment.isNow ? [] : [parameterFor(`set${index}`, assignment.column.sqlType as SqlType, assignment.value as TargetValue)],
	);
}

function assignedValue(plan: DeletePlan, index: number): string {
	if (plan.handling.kind !== 'markDeleted') return '';
	const assignment = plan.handling.assignments[index];
	return assignment.isNow ? 'SYSUTCDATETIME()' : typedParameter(`@set${index}`, assignment.column.sqlType as SqlType);
}

/** For "set columns": a row still needs marking when a fixed value differs or a "now" column is still empty. Already-marked rows keep their first DeletedAt. */
function stillToMark(plan: DeletePlan): string | undefined {
	if (plan.handling.kind !== 'markDeleted') return undefined;
	const { assignments } = plan.handling;
	const fixed = assignments.map((assignment, index) => ({ assignment, index })).filter(({ assignment }) => !assignment.isNow);
	const conditions = [
		...(fixed.length > 0
			? [
					`EXISTS (SELECT ${fixed.map(({ assignment, index }) => comparable(assignedValue(plan, index), assignment.column)).join(', ')} EXCEPT SELECT ${fixed
						.map(({ assignment }) => comparable(`t.${quoteIdentifier(assignment.column.name)}`, assignment.column))
						.join(', ')})`,
				]
			: []),
		...assignments.filter((assignment) => assignment.isNow).map((assignment) => `t.${quoteIdentifier(assignment.column.name)} IS NULL`),
	];
	return `(${conditions.join(' OR ')})`;
}

/** The delete batch: DELETE the matched CRM rows, or UPDATE them with the chosen columns; rows not in CRM (or already marked) are unchanged. */
export function deleteStatement(plan: DeletePlan, source: RowsSource, dryRun: boolean, leaseGuard: string[] = []): string {
	const on = matchCondition(plan, (column) => `c${plan.matchColumns.indexOf(column)}`);
	const target = quoteQualifiedName(plan.table);
	const declarations = [ROW_COLUMN, ...deleteSourceColumns(plan).map((column) => declared(column.alias, column.type, column.collation))];
	const fill = [
		`DECLARE @source TABLE (${declarations.join(', ')});`,
		`INSERT INTO @source ([row], ${plan.matchColumns.map((_, index) => `[c${index}]`).join(', ')})`,
		`SELECT j.[row], ${plan.matchColumns.map((_, index) => `j.[c${index}]`).join(', ')} FROM ${source.clause};`,
	].join('\n');
	const pending = stillToMark(plan);
	if (dryRun) {
		return [
			'SET NOCOUNT ON;',
			fill,
			`SELECT s.[row], CASE WHEN EXISTS (SELECT 1 FROM ${target} AS t WHERE ${on}${pending ? ` AND ${pending}` : ''}) THEN 'deleted' ELSE 'unchanged' END AS [outcome]`,
			'FROM @source AS s ORDER BY s.[row];',
		].join('\n');
	}
	const change =
		plan.handling.kind === 'markDeleted'
			? [
					`UPDATE t SET ${plan.handling.assignments.map((assignment, index) => `t.${quoteIdentifier(assignment.column.name)} = ${assignedValue(plan, index)}`).join(', ')}`,
					'OUTPUT s.[row] INTO @result ([row])',
					`FROM ${target} AS t INNER JOIN @source AS s ON ${on}`,
					`WHERE ${pending};`,
				]
			: ['DELETE t', 'OUTPUT s.[row] INTO @result ([row])', `FROM ${target} AS t INNER JOIN @source AS s ON ${on};`];
	return writeInOneTransaction('[row] int NOT NULL PRIMARY KEY', [...leaseGuard, fill, ...change], [
		`SELECT s.[row], CASE WHEN r.[row] IS NULL THEN 'unchanged' ELSE 'deleted' END AS [outcome]`,
		'FROM @source AS s LEFT JOIN @result AS r ON r.[row] = s.[row] ORDER BY s.[row];',
	]);
}
