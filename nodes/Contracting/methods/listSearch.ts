import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { listTables } from '../../shared/catalog';
import { displayQualifiedName, quoteQualifiedName } from '../../shared/core/identifiers';
import { toNodeError } from '../../shared/nodeErrors';
import { CONTRACTING_CREDENTIAL, connect } from '../../shared/transport/connect';

/** Tables and views of the Contracting database, filtered by the text typed in the list. */
export async function tableSearch(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	let failure: unknown;
	try {
		const { transport } = await connect(this, CONTRACTING_CREDENTIAL);
		const tables = await listTables(transport, filter);
		return {
			results: tables.map((table) => ({
				name: `${displayQualifiedName(table.name)}${table.kind === 'view' ? ' (view)' : ''}`,
				value: quoteQualifiedName(table.name),
			})),
		};
	} catch (error) {
		failure = error;
	}
	throw toNodeError(this.getNode(), failure, { doing: 'listing the tables of the Contracting database' });
}
