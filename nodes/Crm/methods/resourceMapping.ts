import type { ILoadOptionsFunctions, ResourceMapperFields } from 'n8n-workflow';

import { resourceMapperFields } from '../../shared/core/mapping';
import { describeTargetTable } from '../helpers/openTarget';
import { targetOf } from '../helpers/parameters';

/** The table's writable columns with types, required ones (NOT NULL, no default) and keys to match on; a looked-up column is never required of the mapping. */
export async function getMappingColumns(this: ILoadOptionsFunctions): Promise<ResourceMapperFields> {
	const table = await describeTargetTable(this);
	const lookedUp = new Set(targetOf(this).lookups.map((lookup) => lookup.targetColumn.toLowerCase()));
	const fields = resourceMapperFields(table).map((field) => (lookedUp.has(field.id.toLowerCase()) ? { ...field, required: false } : field));
	return { fields, emptyFieldsNotice: 'The table has no columns this node can write (IDENTITY, computed and rowversion columns are filled by SQL Server)' };
}
