import type { ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';

import { columnChoices } from '../../shared/methods/catalogChoices';
import { CONTRACTING_CREDENTIAL } from '../../shared/transport/connect';

/** The chosen table's columns, with their SQL types, for the key, marker, output and filter choices. */
export async function getColumns(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	return await columnChoices(this, CONTRACTING_CREDENTIAL, 'table');
}
