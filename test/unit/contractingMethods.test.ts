import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { ILoadOptionsFunctions } from 'n8n-workflow';

import { getColumns } from '../../nodes/Contracting/methods/loadOptions';
import { columnSearch, tableSearch } from '../../nodes/Contracting/methods/listSearch';
import { DESCRIBE_TABLE_QUERY, LIST_TABLES_QUERY } from '../../nodes/shared/catalog';
import { restoreAllSeams } from '../../nodes/shared/seams';
import { RecordingSqlTransport, resultOf, useRecordingTransport } from '../support/recordingTransport';

function editorContext(table: string): ILoadOptionsFunctions {
	return {
		getCredentials: async () => ({ server: 'contracting.local', database: 'Contracting', user: 'sync', password: 'secret' }),
		getNodeParameter: (name: string) => (name === 'table' ? table : undefined),
		getNode: () => ({ id: '1', name: 'Contracting', type: 'n8n-nodes-contracting-crm.contracting', typeVersion: 1, position: [0, 0], parameters: {} }),
	} as unknown as ILoadOptionsFunctions;
}

describe('Contracting editor lists', () => {
	afterEach(restoreAllSeams);

	it('lists tables and views matching the typed text, with values that survive dots and brackets in names', async () => {
		const double = new RecordingSqlTransport(() =>
			resultOf([
				{ schemaName: 'dbo', tableName: 'Customers', kind: 'table' },
				{ schemaName: 'sales', tableName: 'Open.Orders]', kind: 'view' },
			]),
		);
		useRecordingTransport(double);
		const found = await tableSearch.call(editorContext(''), 'Cust');
		assert.deepEqual(found.results, [
			{ name: 'dbo.Customers', value: '[dbo].[Customers]' },
			{ name: 'sales.Open.Orders] (view)', value: '[sales].[Open.Orders]]]' },
		]);
		assert.equal(double.requests[0].text, LIST_TABLES_QUERY);
		assert.equal(double.requests[0].parameters[0].value, 'Cust', 'the search text is a parameter');
	});

	it('loads the chosen table\'s columns with their types for the key, marker and filter choices', async () => {
		const double = new RecordingSqlTransport(() =>
			resultOf(
				[{ kind: 'table', changeTracking: 0 }],
				[
					{ name: 'CustomerNo', typeName: 'int', maxLength: 4, precision: 10, scale: 0, nullable: false, primaryKeyOrdinal: 1 },
					{ name: 'ChangedAt', typeName: 'datetime2', maxLength: 8, precision: 27, scale: 7, nullable: true, primaryKeyOrdinal: 0 },
				],
				[{ indexId: 1, columnName: 'CustomerNo' }],
			),
		);
		useRecordingTransport(double);
		const columns = await getColumns.call(editorContext('[dbo].[Customers]'));
		assert.deepEqual(columns, [
			{ name: 'CustomerNo', value: 'CustomerNo', description: 'int, primary key' },
			{ name: 'ChangedAt', value: 'ChangedAt', description: 'datetime2(7), nullable' },
		]);
		assert.equal(double.requests[0].text, DESCRIBE_TABLE_QUERY);
		assert.deepEqual(double.requests[0].parameters.map((parameter) => parameter.value), ['dbo', 'Customers']);
	});

	it('says at design time that a view\'s key is the partner\'s promise, and why a CLR column cannot be used (issue 11, items 7 and 10)', async () => {
		const double = new RecordingSqlTransport(() =>
			resultOf(
				[{ kind: 'view', changeTracking: 0 }],
				[
					{ name: 'CustomerNo', typeName: 'int', maxLength: 4, precision: 10, scale: 0, nullable: false, primaryKeyOrdinal: 0 },
					{ name: 'Site', typeName: 'geography', isClrType: true, maxLength: -1, precision: 0, scale: 0, nullable: true, primaryKeyOrdinal: 0 },
				],
				[],
			),
		);
		useRecordingTransport(double);
		const [key, site] = await getColumns.call(editorContext('[dbo].[CustomerView]'));
		assert.match(String(key.description), /^int \(view: SQL Server cannot vouch that key columns are unique and never empty, so that is your promise; a read stops at the first duplicate or empty key\)$/);
		assert.match(String(site.description), /^geography, nullable, not mappable: a CLR type \(geography\), which this package cannot read or write/);
	});

	it("searches the chosen table's columns for the marker column pickers, by the typed text", async () => {
		useRecordingTransport(
			new RecordingSqlTransport(() =>
				resultOf(
					[{ kind: 'table', changeTracking: 0 }],
					[
						{ name: 'CustomerNo', typeName: 'int', maxLength: 4, precision: 10, scale: 0, nullable: false, primaryKeyOrdinal: 1 },
						{ name: 'ChangedAt', typeName: 'datetime2', maxLength: 8, precision: 27, scale: 7, nullable: true, primaryKeyOrdinal: 0 },
					],
					[{ indexId: 1, columnName: 'CustomerNo' }],
				),
			),
		);
		const found = await columnSearch.call(editorContext('[dbo].[Customers]'), 'changed');
		assert.deepEqual(found.results, [{ name: 'ChangedAt', value: 'ChangedAt', description: 'datetime2(7), nullable' }]);
	});

	it('says which table it could not read, without the password', async () => {
		useRecordingTransport(new RecordingSqlTransport().failOn(1, { number: 208, message: 'Invalid object name secret' }));
		await assert.rejects(getColumns.call(editorContext('dbo.Customers')), (error: Error) => /reading the columns of dbo\.Customers/.test(error.message) && !error.message.includes('secret'));
	});
});
