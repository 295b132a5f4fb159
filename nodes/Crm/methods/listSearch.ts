import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { displayQualifiedName } from '../../shared/core/identifiers';
import { toNodeError } from '../../shared/nodeErrors';
import { openTarget } from '../helpers/openTarget';

export async function tableSearch(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	let tables;
	try {
		tables = await (await openTarget(this)).listTables(filter);
	} catch (error) {
		throw toNodeError(this.getNode(), error, { doing: 'listing the CRM tables' });
	}
	return {
		results: tables.map(({ name, kind }) => ({
			name: kind === 'view' ? `${displayQualifiedName(name)} (view)` : displayQualifiedName(name),
			value: displayQualifiedName(name),
		})),
	};
}
