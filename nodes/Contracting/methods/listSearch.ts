import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { tableChoices } from '../../shared/methods/catalogChoices';
import { CONTRACTING_CREDENTIAL } from '../../shared/transport/connect';

/** Tables and views of the Contracting database, filtered by the text typed in the list. */
export async function tableSearch(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	return await tableChoices(this, CONTRACTING_CREDENTIAL, filter, { databaseLabel: 'Contracting' });
}
