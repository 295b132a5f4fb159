import type { ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';

import { describeTable } from '../../shared/catalog';
import { parseQualifiedName } from '../../shared/core/identifiers';
import { sqlTypeText } from '../../shared/core/sqlTypes';
import { toNodeError } from '../../shared/nodeErrors';
import { CONTRACTING_CREDENTIAL, connect } from '../../shared/transport/connect';

/** The chosen table's columns, with their SQL types, for the key, marker, output and filter choices. */
export async function getColumns(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const tableText = this.getNodeParameter('table', '', { extractValue: true }) as string;
	if (!tableText) return [];
	let failure: unknown;
	try {
		const { transport } = await connect(this, CONTRACTING_CREDENTIAL);
		const table = await describeTable(transport, parseQualifiedName(tableText));
		return table.columns.map((column) => ({
			name: column.name,
			value: column.name,
			description: `${column.sqlType ? sqlTypeText(column.sqlType) : column.typeName}${column.primaryKeyOrdinal > 0 ? ', primary key' : ''}${column.nullable ? ', nullable' : ''}`,
		}));
	} catch (error) {
		failure = error;
	}
	throw toNodeError(this.getNode(), failure, { doing: `reading the columns of ${tableText}` });
}
