/**
 * The CRM node in a workflow, talking to the SQL transport double: what it sends to SQL Server, and how many
 * round trips a run costs.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { IDataObject } from 'n8n-workflow';

import type { CatalogTable } from '../../nodes/shared/catalog';
import { DESCRIBE_TABLE_QUERY } from '../../nodes/shared/catalog';
import { COMPATIBILITY_LEVEL_QUERY, MAX_PARAMETERS_PER_REQUEST } from '../../nodes/shared/core/upsertSql';
import { restoreAllSeams } from '../../nodes/shared/seams';
import type { SqlRequest, SqlResult } from '../../nodes/shared/transport/types';
import { COMPANY_CATALOG, SALES_ORDER_CATALOG } from '../contract/upsertTarget.contract';
import { RecordingSqlTransport, resultOf, useRecordingTransport } from '../support/recordingTransport';
import { crmWorkflow, deletedCustomerItem } from '../support/crmItems';
import { runWorkflow } from '../support/workflowRunner';

const CREDENTIALS = { crmSqlServerApi: { server: 'crm.example', database: 'CRM', user: 'sync', password: 'Secret-123' } };

/** sys.columns and sys.indexes rows, as DESCRIBE_TABLE_QUERY returns them for a table. */
function describeResult(table: CatalogTable): SqlResult {
	return resultOf(
		[{ kind: 'table', changeTracking: 0 }],
		table.columns.map(({ name, typeName, maxLength, precision, scale, nullable, isIdentity, isComputed, hasDefault, primaryKeyOrdinal }) => ({
			name,
			typeName,
			maxLength,
			precision,
			scale,
			nullable,
			isIdentity,
			isComputed,
			hasDefault,
			primaryKeyOrdinal,
		})),
		table.uniqueKeys.flatMap((key, index) => key.map((columnName) => ({ indexId: index + 1, columnName }))),
	);
}

function ordinalsOf(request: SqlRequest): number[] {
	const rows = request.parameters.find((parameter) => parameter.name === 'rows');
	if (rows) return (JSON.parse(String(rows.value)) as Array<[number]>).map((row) => row[0]);
	return [...request.text.matchAll(/\((\d+), @p\d+_0\b/g)].map((match) => Number(match[1]));
}

/** A CRM database at a compatibility level, holding dbo.Company and dbo.SalesOrder; every row it is sent is new. */
function crmDatabase(level: number) {
	const tables = [COMPANY_CATALOG, SALES_ORDER_CATALOG];
	return new RecordingSqlTransport((request) => {
		if (request.text === DESCRIBE_TABLE_QUERY) {
			const name = request.parameters.find((parameter) => parameter.name === 'table')?.value;
			const table = tables.find((candidate) => candidate.name.name === name);
			return table ? describeResult(table) : resultOf([], [], []);
		}
		if (request.text === COMPATIBILITY_LEVEL_QUERY) return resultOf([{ compatibilityLevel: level }]);
		return resultOf(ordinalsOf(request).map((row) => ({ row, outcome: 'inserted', missingLookup: null })));
	});
}

const customers = (count: number): Array<{ json: IDataObject }> =>
	Array.from({ length: count }, (_, index) => ({ json: { CustomerNo: index + 1, Name: `Customer ${index + 1}`, City: 'Oslo', Email: null } }));

const workflow = () => crmWorkflow({});

afterEach(() => restoreAllSeams());

describe('CRM node over the SQL transport', () => {
	it('below compatibility level 130 says so as a warning above its output (the credential test\'s text is never shown)', async () => {
		const hintsAt = async (level: number) => {
			useRecordingTransport(crmDatabase(level));
			const result = await runWorkflow(workflow(), { credentials: CREDENTIALS, triggerItems: customers(3), startNodeName: 'Changed rows' });
			assert.equal(result.errorMessage, undefined);
			return result.runsOf('CRM')[0].hints ?? [];
		};
		const slower = (await hintsAt(120)).filter((hint) => hint.type === 'warning');
		assert.equal(slower.length, 1);
		assert.match(slower[0].message, /^The database is at compatibility level 120, below 130: .*slower\. Raise it with ALTER DATABASE/);
		assert.deepEqual((await hintsAt(130)).filter((hint) => hint.type === 'warning'), []);
	});

	it('costs one round trip per batch, plus one to describe the table and one to read the compatibility level', async () => {
		const double = crmDatabase(160);
		useRecordingTransport(double);
		const result = await runWorkflow(workflow(), { credentials: CREDENTIALS, triggerItems: customers(2500), startNodeName: 'Changed rows' });
		assert.equal(result.errorMessage, undefined);
		assert.equal(result.output('CRM').length, 2500);
		assert.equal(double.roundTrips, 1 + 1 + 3);
		const writes = double.requests.slice(2);
		assert.deepEqual(writes.map((write) => ordinalsOf(write).length), [1000, 1000, 500]);
		for (const write of writes) {
			assert.deepEqual(write.parameters.map((parameter) => parameter.name), ['rows']);
			assert.match(write.text, /MERGE \[dbo\]\.\[Company\] WITH \(HOLDLOCK\) AS t/);
			assert.match(write.text, /OPENJSON\(@rows\) WITH \(\[row\] int '\$\[0\]', \[c0\] int '\$\[1\]', \[c1\] nvarchar\(max\) '\$\[2\]', \[c2\] nvarchar\(max\) '\$\[3\]', \[c3\] nvarchar\(max\) '\$\[4\]'\)/);
		}
		assert.ok(double.requests.every((request) => !JSON.stringify(request).includes('Secret-123')), 'the password never travels in a statement');
	});

	it('a request SQL Server refuses as a whole fails only its rows: rows an earlier request of the batch wrote report what happened to them', async () => {
		const double = crmDatabase(160).failOn(4, { number: 229, message: "The DELETE permission was denied on the object 'Company'" });
		useRecordingTransport(double);
		const items = [...customers(3), { json: deletedCustomerItem(7, 3) }, { json: deletedCustomerItem(8, 4) }];
		const result = await runWorkflow(crmWorkflow({ deletes: 'delete' }, 'continueRegularOutput'), { credentials: CREDENTIALS, triggerItems: items, startNodeName: 'Changed rows' });
		assert.equal(double.roundTrips, 1 + 1 + 2, 'describe, compatibility level, the upserts, the refused deletes');
		const output = result.output('CRM');
		assert.deepEqual(
			output.map((item) => [item.json.status, item.json.key]),
			[['inserted', { CustomerNo: 1 }], ['inserted', { CustomerNo: 2 }], ['inserted', { CustomerNo: 3 }], ['failed', { CustomerNo: 7 }], ['failed', { CustomerNo: 8 }]],
		);
		assert.match(String(output[3].json.error), /^Row CustomerNo 7: .*DELETE permission was denied/);
	});

	it('below compatibility level 130 writes in typed chunks under 2,100 parameters, one statement each', async () => {
		const double = crmDatabase(120);
		useRecordingTransport(double);
		const result = await runWorkflow(workflow(), { credentials: CREDENTIALS, triggerItems: customers(1000), startNodeName: 'Changed rows' });
		assert.equal(result.errorMessage, undefined);
		const writes = double.requests.slice(2);
		const perChunk = Math.floor((MAX_PARAMETERS_PER_REQUEST - 2) / 4);
		assert.deepEqual(writes.map((write) => ordinalsOf(write).length), [perChunk, 1000 - perChunk]);
		for (const write of writes) {
			assert.ok(write.parameters.length + 2 <= MAX_PARAMETERS_PER_REQUEST);
			assert.equal((write.text.match(/BEGIN TRANSACTION/g) ?? []).length, 1);
		}
		assert.deepEqual(new Set(result.output('CRM').map((item) => item.json.status)), new Set(['inserted']));
	});
});
