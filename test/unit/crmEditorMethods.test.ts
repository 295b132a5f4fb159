import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { ILoadOptionsFunctions, INode } from 'n8n-workflow';

import { lookupColumnSearch, tableSearch, writableColumnSearch } from '../../nodes/Crm/methods/listSearch';
import { getWritableColumns } from '../../nodes/Crm/methods/loadOptions';
import { getMappingColumns } from '../../nodes/Crm/methods/resourceMapping';
import { upsertTargetSeam } from '../../nodes/Crm/stores/upsertTarget';
import { replaceSeam, restoreAllSeams } from '../../nodes/shared/seams';
import { CRM_MEMORY_TABLES } from '../contract/upsertTarget.contract';
import { MemoryUpsertTarget } from '../support/memory/memoryUpsertTarget';

const node: INode = { id: 'n', name: 'CRM', type: 'n8n-nodes-contracting-crm.crm', typeVersion: 1, position: [0, 0], parameters: {} };

/**
 * What the editor's requests see: the node's parameters so far and the CRM credential; `rowPath` is where the
 * parameter being listed sits (e.g. "lookups.lookup.0"), which '&name' reads relative to, as n8n does.
 */
function editor(parameters: Record<string, unknown>, rowPath = ''): ILoadOptionsFunctions {
	const valueAt = (path: string) => path.split('.').reduce<unknown>((value, part) => (value as Record<string, unknown> | undefined)?.[part], parameters);
	return {
		getCurrentNodeParameter: (path: string) => valueAt(path.startsWith('&') ? `${rowPath}.${path.slice(1)}` : path),
		getNode: () => node,
		getCredentials: async () => ({ server: 'crm.example', database: 'CRM', user: 'sync', password: 'x' }),
		// ILoadOptionsFunctions.getNodeParameter(name, fallback, options): no item index in the editor.
		getNodeParameter: (name: string, fallback?: unknown, options?: { extractValue?: boolean }) => {
			const [first, ...rest] = name.split('.');
			let value: unknown = parameters[first];
			for (const part of rest) value = (value as Record<string, unknown> | undefined)?.[part];
			if (options?.extractValue && value && typeof value === 'object' && '__rl' in value) return (value as unknown as { value: unknown }).value;
			return value ?? fallback;
		},
	} as unknown as ILoadOptionsFunctions;
}

afterEach(() => restoreAllSeams());

describe('CRM node in the editor', () => {
	it('lists the CRM tables to pick from, filtered by what the partner types', async () => {
		replaceSeam(upsertTargetSeam, () => new MemoryUpsertTarget(CRM_MEMORY_TABLES()));
		assert.deepEqual((await tableSearch.call(editor({}), 'order')).results, [{ name: 'dbo.SalesOrder', value: 'dbo.SalesOrder' }]);
		assert.equal((await tableSearch.call(editor({}))).results.length, CRM_MEMORY_TABLES().length, 'every table of the CRM');
	});

	it('loads the mapping fields of the preset\'s table; a looked-up column is not required of the mapping', async () => {
		replaceSeam(upsertTargetSeam, () => new MemoryUpsertTarget(CRM_MEMORY_TABLES()));
		const { fields } = await getMappingColumns.call(editor({ target: 'orders' }));
		const companyId = fields.find((field) => field.id === 'CompanyId');
		assert.equal(companyId?.required, false);
		assert.deepEqual(fields.filter((field) => field.defaultMatch).map((field) => field.id), ['OrderNo']);
		assert.equal(fields.some((field) => field.id === 'SalesOrderId'), false);
	});

	it('offers the writable columns of a table picked from the list, with their types', async () => {
		replaceSeam(upsertTargetSeam, () => new MemoryUpsertTarget(CRM_MEMORY_TABLES()));
		const options = await getWritableColumns.call(editor({ target: 'table', table: { __rl: true, mode: 'list', value: 'dbo.Company' } }));
		assert.deepEqual(options.find((option) => option.value === 'DeletedAt'), { name: 'DeletedAt', value: 'DeletedAt', description: 'datetime2(3)' });
		assert.deepEqual(options.find((option) => option.value === 'Name')?.description, 'nvarchar(100), NOT NULL');
		assert.equal(options.some((option) => option.value === 'CompanyId'), false);
	});

	it('says which table it could not find', async () => {
		replaceSeam(upsertTargetSeam, () => new MemoryUpsertTarget(CRM_MEMORY_TABLES()));
		await assert.rejects(getMappingColumns.call(editor({ target: 'table', table: { __rl: true, mode: 'name', value: 'dbo.Kunde' } })), /dbo\.Kunde does not exist/);
	});

	describe('version 1.1 pickers', () => {
		const otherTable = { target: 'table', table: { __rl: true, mode: 'list', value: 'dbo.SalesOrder' } };

		it('lists the writable columns to set on deleted rows or fill, filtered, even while a new lookup is still empty', async () => {
			replaceSeam(upsertTargetSeam, () => new MemoryUpsertTarget(CRM_MEMORY_TABLES()));
			const withEmptyLookup = { ...otherTable, lookups: { lookup: [{ targetColumn: { __rl: true, mode: 'list', value: '' } }] } };
			const { results } = await writableColumnSearch.call(editor(withEmptyLookup), 'company');
			assert.deepEqual(results.map((result) => result.value), ['CompanyId']);
		});

		it("lists a lookup's key and copy columns from that lookup's own From Table, picked or typed", async () => {
			replaceSeam(upsertTargetSeam, () => new MemoryUpsertTarget(CRM_MEMORY_TABLES()));
			const lookups = (fromTable: unknown) => ({ ...otherTable, lookups: { lookup: [{ fromTable: 'dbo.SalesOrder' }, { fromTable }] } });
			for (const fromTable of [{ __rl: true, mode: 'list', value: '[dbo].[Company]' }, { __rl: true, mode: 'name', value: 'dbo.Company' }]) {
				const { results } = await lookupColumnSearch.call(editor(lookups(fromTable), 'lookups.lookup.1'), 'customer');
				assert.deepEqual(results.map((result) => result.value), ['CustomerNo']);
			}
			assert.deepEqual((await lookupColumnSearch.call(editor(lookups({ __rl: true, mode: 'list', value: '' }), 'lookups.lookup.1'))).results, [], 'no table yet: nothing to list');
			await assert.rejects(lookupColumnSearch.call(editor(lookups('dbo.Kunde'), 'lookups.lookup.1')), /dbo\.Kunde does not exist/);
		});
	});
});
