import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { searchedChoices } from '../../shared/columnPicker';
import { columnChoices, tableChoices } from '../../shared/methods/catalogChoices';
import { credentialOf, databaseLabel } from '../helpers/database';

/** Tables of the chosen database, for "Store Cursor In: An Existing Table". */
export async function tableSearch(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	const database = this.getNodeParameter('database', 'crm') as string;
	return await tableChoices(this, credentialOf(database), filter, { databaseLabel: databaseLabel(database), tablesOnly: true });
}

/** The columns of that table, with their SQL types, for the row and cursor columns. */
export async function cursorTableColumnSearch(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	return searchedChoices(await columnChoices(this, credentialOf(this.getNodeParameter('database', 'crm') as string), 'cursorTable'), filter);
}
