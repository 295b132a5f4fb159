import type { ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';

import { isWritable } from '../../shared/core/mapping';
import { sqlTypeText } from '../../shared/core/sqlTypes';
import { describeTargetTable } from '../helpers/openTarget';

/** Columns the node can write (not IDENTITY, computed or rowversion), with their types. */
export async function getWritableColumns(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	const table = await describeTargetTable(this);
	return table.columns.filter(isWritable).map((column) => ({
		name: column.name,
		value: column.name,
		description: `${sqlTypeText(column.sqlType!)}${column.nullable ? '' : ', NOT NULL'}`,
	}));
}
