import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { searchedChoices } from '../../shared/columnPicker';
import { columnChoices, tableChoices } from '../../shared/methods/catalogChoices';
import { CONTRACTING_CREDENTIAL } from '../../shared/transport/connect';

/** Tables and views of the Contracting database, filtered by the text typed in the list. */
export async function tableSearch(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	return await tableChoices(this, CONTRACTING_CREDENTIAL, filter, { databaseLabel: 'Contracting' });
}

/** The chosen table's columns, with their SQL types, filtered by the text typed in the list (marker, key, output and filter columns). */
export async function columnSearch(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	return searchedChoices(await columnChoices(this, CONTRACTING_CREDENTIAL, 'table'), filter);
}
