import type { IExecuteFunctions, ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';

import type { CatalogTable } from '../../shared/catalog';
import { isWritable } from '../../shared/core/mapping';
import { sqlTypeText } from '../../shared/core/sqlTypes';
import { toNodeError } from '../../shared/nodeErrors';
import { CRM_CREDENTIAL, connect } from '../../shared/transport/connect';
import type { UpsertTarget } from '../stores/upsertTarget';
import { upsertTargetSeam } from '../stores/upsertTarget';
import { targetTableOf } from './parameters';

/**
 * The CRM target for this execution, through its seam, with what the pool already knows of the schema; for an
 * editor request (no execution) without it, so the editor's lists always show the table as it is now.
 */
export async function openTarget(context: IExecuteFunctions | ILoadOptionsFunctions, forExecution = false): Promise<UpsertTarget> {
	const { transport, schema } = await connect(context, CRM_CREDENTIAL);
	return forExecution ? upsertTargetSeam.current(transport, schema) : upsertTargetSeam.current(transport);
}

/** The chosen table's catalogue, for the editor's lists and mapping. */
export async function describeTargetTable(context: ILoadOptionsFunctions): Promise<CatalogTable> {
	const table = targetTableOf(context);
	try {
		return await (await openTarget(context)).describe(table);
	} catch (error) {
		throw toNodeError(context.getNode(), error, { doing: 'reading the columns of the CRM table' });
	}
}

/** Columns of a CRM table with their types; `writableOnly` leaves out IDENTITY, computed and rowversion columns. */
export function columnOptions(table: CatalogTable, writableOnly: boolean): INodePropertyOptions[] {
	return table.columns
		.filter((column) => !writableOnly || isWritable(column))
		.map((column) => ({
			name: column.name,
			value: column.name,
			description: `${column.sqlType ? sqlTypeText(column.sqlType) : column.typeName}${column.nullable ? '' : ', NOT NULL'}`,
		}));
}
