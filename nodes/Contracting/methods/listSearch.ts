import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { columnChoices, tableChoices } from '../../shared/methods/catalogChoices';
import { CONTRACTING_CREDENTIAL } from '../../shared/transport/connect';

/** Tables and views of the Contracting database, filtered by the text typed in the list. */
export async function tableSearch(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	return await tableChoices(this, CONTRACTING_CREDENTIAL, filter, { databaseLabel: 'Contracting' });
}

/** The chosen table's columns, with their SQL types, filtered by the text typed in the list (the marker columns). */
export async function columnSearch(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	const columns = await columnChoices(this, CONTRACTING_CREDENTIAL, 'table');
	const wanted = filter?.trim().toLowerCase() ?? '';
	return { results: columns.filter((column) => column.name.toLowerCase().includes(wanted)).map(({ name, value, description }) => ({ name, value: String(value), description })) };
}
