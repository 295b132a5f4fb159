import type { ILoadOptionsFunctions, INodeListSearchResult, INodePropertyOptions } from 'n8n-workflow';

import { describeTable, listTables } from '../catalog';
import { displayQualifiedName, parseQualifiedName, quoteQualifiedName } from '../core/identifiers';
import { sqlTypeText } from '../core/sqlTypes';
import { toNodeError } from '../nodeErrors';
import type { SqlServerCredentialName } from '../transport/connect';
import { connect } from '../transport/connect';

export interface TableChoiceOptions {
	/** Names the database in an error, e.g. "Contracting". */
	databaseLabel: string;
	/** Leave views out (a watermark can only be written to a table). */
	tablesOnly?: boolean;
}

/** The editor's searchable list of tables (and views) of a credential's database. */
export async function tableChoices(
	context: ILoadOptionsFunctions,
	credential: SqlServerCredentialName,
	filter: string | undefined,
	options: TableChoiceOptions,
): Promise<INodeListSearchResult> {
	let failure: unknown;
	try {
		const { transport } = await connect(context, credential);
		const tables = await listTables(transport, filter);
		return {
			results: tables
				.filter((table) => !options.tablesOnly || table.kind === 'table')
				.map((table) => ({
					name: `${displayQualifiedName(table.name)}${table.kind === 'view' ? ' (view)' : ''}`,
					value: quoteQualifiedName(table.name),
				})),
		};
	} catch (error) {
		failure = error;
	}
	throw toNodeError(context.getNode(), failure, { doing: `listing the tables of the ${options.databaseLabel} database` });
}

/** A view has no unique index to check a key against: the read relies on the partner's word, and stops when a batch shows otherwise. */
export const VIEW_KEY_NOTE =
	' (view: SQL Server cannot vouch that key columns are unique and never empty, so that is your promise; a read stops at the first duplicate or empty key)';

/** The columns of the table a parameter names, with their SQL types, for the editor's column choices. */
export async function columnChoices(
	context: ILoadOptionsFunctions,
	credential: SqlServerCredentialName,
	tableParameter: string,
): Promise<INodePropertyOptions[]> {
	const tableText = context.getNodeParameter(tableParameter, '', { extractValue: true }) as string;
	if (!tableText) return [];
	let failure: unknown;
	try {
		const { transport } = await connect(context, credential);
		const table = await describeTable(transport, parseQualifiedName(tableText));
		return table.columns.map((column) => ({
			name: column.name,
			value: column.name,
			description: `${column.sqlType ? sqlTypeText(column.sqlType) : column.typeName}${column.primaryKeyOrdinal > 0 ? ', primary key' : ''}${column.nullable ? ', nullable' : ''}${column.notMappable ? `, ${column.notMappable}` : ''}${table.kind === 'view' ? VIEW_KEY_NOTE : ''}`,
		}));
	} catch (error) {
		failure = error;
	}
	throw toNodeError(context.getNode(), failure, { doing: `reading the columns of ${tableText}` });
}
