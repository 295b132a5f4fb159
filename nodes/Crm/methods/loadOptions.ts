import type { ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';

import { columnOptions, describeTargetTable } from '../helpers/openTarget';

/** Columns the node can write (not IDENTITY, computed or rowversion), with their types. */
export async function getWritableColumns(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	return columnOptions(await describeTargetTable(this), true);
}
