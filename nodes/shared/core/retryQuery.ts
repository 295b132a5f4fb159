/**
 * The read of the retry list's keys: the CURRENT rows of the given keys, so a row CRM refused is tried again with
 * whatever Contracting holds now. One round trip per chunk of keys (each key column a typed parameter, at most
 * MAX_RETRY_PARAMETERS per request, under SQL Server's 2,100). A key no longer in the table comes back as a delete
 * (its key columns only), which the CRM node handles by its "deletes" setting, so the key always leaves the list
 * once CRM has dealt with it. The read ignores the filter and the change marker: the row was in the stream when it
 * failed. No I/O here.
 */
import type { CatalogColumn } from '../catalog';
import { OPERATION_ALIAS, checkNoAliasClash, rowValuesOf, selectList } from './changeQuery';
import { exactFromText, isExactNumber } from './sourceOrder';
import { quoteIdentifier, quoteQualifiedName } from './identifiers';
import type { SourcePlan } from './markers';
import { ChangeSourceError, isBinary } from './markers';
import type { ChangeOperation } from './syncItem';
import type { SqlParameter, SqlRequest, SqlResult } from '../transport/types';

export const MAX_RETRY_PARAMETERS = 2000;

export interface KeyedRow {
	/** The row's output columns; for a key no longer in the table, the key columns only. */
	values: Record<string, unknown>;
	operation: ChangeOperation;
}

/** The keys in chunks that each fit one request. */
export function retryKeyChunks(plan: SourcePlan, keys: Array<Record<string, unknown>>): Array<Array<Record<string, unknown>>> {
	const perChunk = Math.max(1, Math.floor(MAX_RETRY_PARAMETERS / plan.keys.length));
	const chunks: Array<Array<Record<string, unknown>>> = [];
	for (let start = 0; start < keys.length; start += perChunk) chunks.push(keys.slice(start, start + perChunk));
	return chunks;
}

/**
 * A key value as a parameter of the column's own type. Date and time values travel as text and are CONVERTed in
 * the statement (the transport refuses text for a temporal type; style 126 keeps every digit), decimal and money as
 * their exact text (a double would round a decimal(38) key and miss the row), binary as 0x… text.
 */
function keyParameter(key: CatalogColumn, name: string, value: unknown): { parameter: SqlParameter; expression: string } {
	const type = key.sqlType;
	if (!type) throw new ChangeSourceError(`Key column "${key.name}" has a type this node cannot send`, 'Choose other key columns.');
	if (value === null || value === undefined || typeof value === 'object') {
		throw new ChangeSourceError(`A retry key has no usable value for key column "${key.name}" (${JSON.stringify(value ?? null)})`, 'Remove that row from the retry list with the Watermark node\'s "Retry Parked Rows Again".');
	}
	const expression = exactFromText(key, `@${name}`);
	if (expression === undefined) return { parameter: { name, type, value: value as SqlParameter['value'] }, expression: `@${name}` };
	return { parameter: { name, type: { name: 'varchar', length: isBinary(key) ? 8000 : isExactNumber(key) ? 41 : 34 }, value: String(value) }, expression };
}

/** One request for one chunk of keys: the keys as a VALUES list, LEFT JOINed to the table. */
export function keyedRowsRequest(plan: SourcePlan, keys: Array<Record<string, unknown>>): SqlRequest {
	checkNoAliasClash(plan);
	const parameters: SqlParameter[] = [];
	const rows = keys.map((key, row) => {
		const values = plan.keys.map((column, index) => {
			const { parameter, expression } = keyParameter(column, `r${row}_${index}`, key[column.name]);
			parameters.push(parameter);
			return expression;
		});
		return `(${row}, ${values.join(', ')})`;
	});
	const keyNames = new Set(plan.keys.map((column) => column.name));
	const keyColumns = plan.keys.map((column) => quoteIdentifier(column.name));
	const join = plan.keys.map((column) => `src.${quoteIdentifier(column.name)} = k.${quoteIdentifier(column.name)}`).join(' AND ');
	const missing = `src.${quoteIdentifier(plan.keys[0].name)} IS NULL`;
	const text = `SELECT ${selectList(plan, (column) => (keyNames.has(column.name) ? 'k' : 'src'), [`CASE WHEN ${missing} THEN 'delete' ELSE 'upsert' END AS ${OPERATION_ALIAS}`])}
FROM (VALUES ${rows.join(',\n       ')}) AS k([__sync_order], ${keyColumns.join(', ')})
LEFT JOIN ${quoteQualifiedName(plan.table.name)} AS src ON ${join}
ORDER BY k.[__sync_order];`;
	return { text, parameters };
}

export function keyedRowsFromResult(plan: SourcePlan, result: SqlResult): KeyedRow[] {
	return (result.recordsets[0] ?? []).map((row) => rowValuesOf(plan, row));
}
