import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { tableChoices } from '../../shared/methods/catalogChoices';
import { credentialOf, databaseLabel } from '../helpers/database';

/** Tables of the chosen database, for "Store Cursor In: An Existing Table". */
export async function tableSearch(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	const database = this.getNodeParameter('database', 'crm') as string;
	return await tableChoices(this, credentialOf(database), filter, { databaseLabel: databaseLabel(database), tablesOnly: true });
}
