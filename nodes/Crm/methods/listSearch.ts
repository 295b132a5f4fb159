import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';

import { pickedName, searchedChoices } from '../../shared/columnPicker';
import { displayQualifiedName, parseQualifiedName } from '../../shared/core/identifiers';
import { toNodeError } from '../../shared/nodeErrors';
import { columnOptions, describeTargetTable, openTarget } from '../helpers/openTarget';

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

/** Columns of the chosen table the node can write: for the columns set on deleted rows and the columns lookups fill. */
export async function writableColumnSearch(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	return searchedChoices(columnOptions(await describeTargetTable(this), true), filter);
}

/** Columns of the table a lookup looks in (its From Table), to look up by or to copy. */
export async function lookupColumnSearch(this: ILoadOptionsFunctions, filter?: string): Promise<INodeListSearchResult> {
	const tableText = pickedName(this.getCurrentNodeParameter('&fromTable'));
	if (tableText.trim() === '') return { results: [] };
	let table;
	try {
		table = await (await openTarget(this)).describe(parseQualifiedName(tableText));
	} catch (error) {
		throw toNodeError(this.getNode(), error, { doing: `reading the columns of ${tableText}` });
	}
	return searchedChoices(columnOptions(table, false), filter);
}
