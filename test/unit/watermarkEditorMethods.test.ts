import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { ILoadOptionsFunctions } from 'n8n-workflow';

import { getCursorTableColumns } from '../../nodes/Watermark/methods/loadOptions';
import { cursorTableColumnSearch, tableSearch } from '../../nodes/Watermark/methods/listSearch';
import { restoreAllSeams } from '../../nodes/shared/seams';
import { RecordingSqlTransport, resultOf, useRecordingTransport } from '../support/recordingTransport';

const credentials: Record<string, object> = {
	contractingSqlServerApi: { server: 'contracting.local', database: 'Contracting', password: 'secret' },
	crmSqlServerApi: { server: 'crm.local', database: 'CRM', password: 'secret' },
};

function editorContext(parameters: Record<string, string>): ILoadOptionsFunctions & { asked: string[] } {
	const asked: string[] = [];
	return {
		asked,
		getCredentials: async (name: string) => {
			asked.push(name);
			return credentials[name];
		},
		getNodeParameter: (name: string, fallback: unknown) => parameters[name] ?? fallback,
		getNode: () => ({ id: '1', name: 'Watermark', type: 'n8n-nodes-contracting-crm.watermark', typeVersion: 1, position: [0, 0], parameters: {} }),
	} as unknown as ILoadOptionsFunctions & { asked: string[] };
}

describe('Watermark editor lists', () => {
	afterEach(restoreAllSeams);

	it('offers only tables (a watermark cannot be written into a view), from the chosen database', async () => {
		useRecordingTransport(
			new RecordingSqlTransport(() =>
				resultOf([
					{ schemaName: 'dbo', tableName: 'SystemCodes', kind: 'table' },
					{ schemaName: 'dbo', tableName: 'OpenOrders', kind: 'view' },
				]),
			),
		);
		const context = editorContext({ database: 'contracting' });
		const found = await tableSearch.call(context, 'S');
		assert.deepEqual(found.results, [{ name: 'dbo.SystemCodes', value: '[dbo].[SystemCodes]' }]);
		assert.deepEqual(context.asked, ['contractingSqlServerApi']);
	});

	it('names the database it could not list, and loads the cursor table\'s columns from it', async () => {
		useRecordingTransport(new RecordingSqlTransport().failOn(1, { number: 229, message: 'SELECT permission was denied' }));
		await assert.rejects(tableSearch.call(editorContext({ database: 'crm' })), /listing the tables of the CRM database/);

		useRecordingTransport(
			new RecordingSqlTransport(() =>
				resultOf([{ kind: 'table', changeTracking: 0 }], [{ name: 'LastChangeDate', typeName: 'int', maxLength: 4, precision: 10, scale: 0, nullable: true, primaryKeyOrdinal: 0 }], []),
			),
		);
		const columns = await getCursorTableColumns.call(editorContext({ database: 'crm', cursorTable: '[dbo].[SystemCodes]' }));
		assert.deepEqual(columns, [{ name: 'LastChangeDate', value: 'LastChangeDate', description: 'int, nullable' }]);
	});

	it('version 1.1: lists the cursor table\'s columns to pick from, filtered by what the partner types', async () => {
		useRecordingTransport(
			new RecordingSqlTransport(() =>
				resultOf(
					[{ kind: 'table', changeTracking: 0 }],
					[
						{ name: 'Code', typeName: 'varchar', maxLength: 10, precision: 0, scale: 0, nullable: false, primaryKeyOrdinal: 1 },
						{ name: 'LastChangeDate', typeName: 'int', maxLength: 4, precision: 10, scale: 0, nullable: true, primaryKeyOrdinal: 0 },
					],
					[],
				),
			),
		);
		const found = await cursorTableColumnSearch.call(editorContext({ database: 'crm', cursorTable: '[dbo].[SystemCodes]' }), 'change');
		assert.deepEqual(found.results, [{ name: 'LastChangeDate', value: 'LastChangeDate', description: 'int, nullable' }]);
	});
});
