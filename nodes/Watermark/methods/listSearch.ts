import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { listTables } from '../../shared/catalog';
import { displayQualifiedName, quoteQualifiedName } from '../../shared/core/identifiers';
import { toNodeError } from '../../shared/nodeErrors';
import { connect } from '../../shared/transport/connect';
import { credentialOf, databaseLabel } from '../helpers/database';

/** Tables of the chosen database, for "Store Cursor In: An Existing Table". */
export async function tableSearch(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	const database = this.getNodeParameter('database', 'crm') as string;
	let failure: unknown;
	try {
		const { transport } = await connect(this, credentialOf(database));
		const tables = await listTables(transport, filter);
		return {
			results: tables
				.filter((table) => table.kind === 'table')
				.map((table) => ({ name: displayQualifiedName(table.name), value: quoteQualifiedName(table.name) })),
		};
	} catch (error) {
		failure = error;
	}
	throw toNodeError(this.getNode(), failure, { doing: `listing the tables of the ${databaseLabel(database)} database` });
}
