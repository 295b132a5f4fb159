import type { ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';

import { describeTable } from '../../shared/catalog';
import { parseQualifiedName } from '../../shared/core/identifiers';
import { sqlTypeText } from '../../shared/core/sqlTypes';
import { toNodeError } from '../../shared/nodeErrors';
import { connect } from '../../shared/transport/connect';
import { credentialOf } from '../helpers/database';

/** The columns of the existing table chosen to keep the cursor in, with their SQL types. */
export async function getCursorTableColumns(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const tableText = this.getNodeParameter('cursorTable', '', { extractValue: true }) as string;
	if (!tableText) return [];
	const database = this.getNodeParameter('database', 'crm') as string;
	let failure: unknown;
	try {
		const { transport } = await connect(this, credentialOf(database));
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
