import type { ILoadOptionsFunctions, INodePropertyOptions } from 'n8n-workflow';

import { columnChoices } from '../../shared/methods/catalogChoices';
import { credentialOf } from '../helpers/database';

/** The columns of the existing table chosen to keep the cursor in, with their SQL types. */
export async function getCursorTableColumns(this: ILoadOptionsFunctions): Promise<INodePropertyOptions[]> {
	return await columnChoices(this, credentialOf(this.getNodeParameter('database', 'crm') as string), 'cursorTable');
}
