/**
 * Bad input from the editor, through the nodes in a workflow, over the SQL transport double: SQL in a table or
 * column name, a filter value with quotes, an enormous batch size, a zero or negative lag, SQL in the watermark's
 * table names and in a retry key. Each is refused with a clear error naming it, or handled; none is ever sent as
 * SQL: the injected text appears in no statement except inside a bracket-quoted identifier (or the N'…' literal of
 * such an identifier given to OBJECT_ID), and otherwise only as a parameter value.
 * (The builders' own quoting is unit-tested in sqlCatalogue, contractingChangeQuery and crmUpsertSql.)
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import type { IDataObject, IWorkflowBase } from 'n8n-workflow';

import { DESCRIBE_TABLE_QUERY } from '../../nodes/shared/catalog';
import { restoreAllSeams } from '../../nodes/shared/seams';
import type { SqlRequest } from '../../nodes/shared/transport/types';
import { catalogColumnOf } from '../support/memory/memoryChangeSource';
import type { TableDefinition } from '../support/memory/memoryChangeSource';
import { RecordingSqlTransport, resultOf, useRecordingTransport } from '../support/recordingTransport';
import { loneWatermarkWorkflow, runWorkflow } from '../support/workflowRunner';

const INJECTED = "'; DROP TABLE dbo.Company; --";
const CREDENTIALS = {
	contractingSqlServerApi: { server: 'contracting.example', database: 'Contracting', user: 'sync', password: 'not-used' },
	crmSqlServerApi: { server: 'crm.example', database: 'CRM', user: 'sync', password: 'not-used' },
};

const customers: TableDefinition = {
	name: 'dbo.Customers',
	columns: [
		{ name: 'CustomerNo', type: 'int', nullable: false },
		{ name: 'Name', type: 'nvarchar(100)', nullable: false },
		{ name: 'ChangedAt', type: 'datetime2(7)' },
	],
	primaryKey: ['CustomerNo'],
};

/** Contracting with dbo.Customers and nothing else; every read finds no rows. */
function contractingServer(): RecordingSqlTransport {
	return new RecordingSqlTransport((request) => {
		if (request.text === DESCRIBE_TABLE_QUERY) {
			const [schema, table] = ['schema', 'table'].map((name) => request.parameters.find((parameter) => parameter.name === name)?.value);
			if (schema !== 'dbo' || table !== 'Customers') return resultOf([], [], []);
			return resultOf(
				[{ kind: 'table', changeTracking: 0 }],
				customers.columns.map((column) => {
					const { name, typeName, maxLength, precision, scale, nullable, isIdentity, isComputed, primaryKeyOrdinal } = catalogColumnOf(column, customers.primaryKey);
					return { name, typeName, maxLength, precision, scale, nullable, isIdentity, isComputed, hasDefault: 0, primaryKeyOrdinal };
				}),
				[{ indexId: 1, columnName: 'CustomerNo' }],
			);
		}
		if (request.text.includes('AS serverUtcNow')) return resultOf([{ serverUtcNow: '2024-06-01T12:00:00.0000000' }]);
		return resultOf([]);
	});
}

/**
 * The statement text with bracket-quoted identifiers, and the N'[…]' literals of such identifiers given to OBJECT_ID,
 * taken out: what SQL Server would run as SQL. Any other literal stays, so a value written into one would show.
 */
function sqlOutsideIdentifiers(text: string): string {
	return text.replace(/N'\[(?:[^']|'')*'/g, "N''").replace(/\[(?:[^\]]|\]\])*\]/g, '[]');
}

function assertNeverSqlText(double: RecordingSqlTransport, injected = 'DROP TABLE'): void {
	for (const request of double.requests) {
		assert.ok(!sqlOutsideIdentifiers(request.text).includes(injected), `sent as SQL:\n${request.text}`);
	}
}

function readWorkflowWith(parameters: IDataObject, options: IDataObject = {}): IWorkflowBase {
	return {
		id: 'bad-input',
		name: 'bad input',
		active: false,
		nodes: [
			{ id: '1', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
			{
				id: '2',
				name: 'Read',
				type: 'n8n-nodes-contracting-crm.contracting',
				typeVersion: 1,
				position: [200, 0],
				parameters: {
					operation: 'readChanges',
					streamPreset: 'customers',
					table: { __rl: true, mode: 'name', value: 'dbo.Customers' },
					markerKind: 'datetime',
					markerColumn: 'ChangedAt',
					advanced: { since: '', retryKeys: '' },
					options,
					...parameters,
				},
				credentials: { contractingSqlServerApi: { id: 'c', name: 'Contracting' } },
			},
		],
		connections: { Start: { main: [[{ node: 'Read', type: 'main', index: 0 }]] } },
	} as unknown as IWorkflowBase;
}

async function read(parameters: IDataObject, options: IDataObject = {}) {
	const double = contractingServer();
	useRecordingTransport(double);
	const run = await runWorkflow(readWorkflowWith(parameters, options), { credentials: CREDENTIALS, startNodeName: 'Start' });
	return { run, double };
}

const lastStatement = (double: RecordingSqlTransport): SqlRequest => double.requests.at(-1) as SqlRequest;

describe('bad input from the editor never runs as SQL', () => {
	afterEach(restoreAllSeams);

	it('SQL in the source table name: "unknown table", looked up by parameter', async () => {
		const { run, double } = await read({ table: { __rl: true, mode: 'name', value: `dbo.Customers${INJECTED}` } });
		assert.match(String(run.errorMessage), /dbo\.Customers'; DROP TABLE dbo\.Company; --/);
		assert.equal(double.roundTrips, 0, 'a name of three parts is refused before anything is sent');
		const quoted = await read({ table: { __rl: true, mode: 'name', value: `dbo.[Customers${INJECTED}]` } });
		assert.match(String(quoted.run.errorMessage), /Customers'; DROP TABLE dbo\.Company; --/);
		assert.equal(quoted.double.roundTrips, 1, 'only the catalogue was asked');
		assert.deepEqual(quoted.double.requests[0].parameters.map((parameter) => parameter.value), ['dbo', `Customers${INJECTED}`]);
		assertNeverSqlText(quoted.double);
	});

	it('SQL in a column name: "unknown column", before any statement that reads rows', async () => {
		for (const parameters of [{ markerColumn: `ChangedAt]${INJECTED}` }, { keyColumns: [`CustomerNo${INJECTED}`] }, { outputColumnsMode: 'selected', outputColumns: [`Name${INJECTED}`] }]) {
			const { run, double } = await read(parameters);
			assert.match(String(run.errorMessage), /DROP TABLE dbo\.Company/, JSON.stringify(parameters));
			assert.match(String(run.errorMessage), /column/i);
			assert.equal(double.roundTrips, 1, 'only the catalogue was asked');
			assertNeverSqlText(double);
		}
	});

	it('a filter value with quotes travels as a parameter of the column\'s type', async () => {
		const value = `O'Brien${INJECTED}`;
		const { run, double } = await read({ filters: { conditions: [{ column: 'Name', operator: 'equal', value }] } });
		assert.equal(run.errorMessage, undefined);
		const batch = lastStatement(double);
		assert.match(batch.text, /src\.\[Name\] = @f0/);
		assert.deepEqual(batch.parameters.find((parameter) => parameter.name === 'f0'), { name: 'f0', type: { name: 'nvarchar', length: 4000 }, value });
		assertNeverSqlText(double);
		assertNeverSqlText(double, "O'Brien");
	});

	it('a filter value that is not of the column\'s type is refused, naming value and column', async () => {
		const { run, double } = await read({ filters: { conditions: [{ column: 'CustomerNo', operator: 'greater', value: `1${INJECTED}` }] } });
		assert.match(String(run.errorMessage), /The filter value "1'; DROP TABLE dbo\.Company; --" for column "CustomerNo" of dbo\.Customers is not a whole number/);
		assert.equal(double.roundTrips, 1);
	});

	it('an enormous or broken batch size is refused before anything is sent', async () => {
		for (const batchSize of [1e9, 0, -5, 2.5]) {
			const { run, double } = await read({}, { batchSize });
			assert.match(String(run.errorMessage), new RegExp(`Batch Size must be a whole number from 1 to 50,000, not ${batchSize}`));
			assert.equal(double.roundTrips, 0, `batch size ${batchSize}`);
		}
	});

	it('a zero lag reads up to the server\'s clock; a negative one is refused', async () => {
		const zero = await read({}, { lagSeconds: 0, timeZone: 'UTC' });
		assert.equal(zero.run.errorMessage, undefined);
		assert.deepEqual(lastStatement(zero.double).parameters.find((parameter) => parameter.name === 'upperBound')?.value, '2024-06-01T12:00:00.000');
		const negative = await read({}, { lagSeconds: -60 });
		assert.match(String(negative.run.errorMessage), /The safety lag must be from 0 to 604800 seconds, not -60/);
		assert.equal(negative.double.roundTrips, 1, 'refused when the plan is checked, before any row is read');
	});

	it('SQL in a retry key value travels as a parameter; a key of other columns is refused', async () => {
		const { run, double } = await read({ advanced: { since: '', retryKeys: JSON.stringify([{ key: { CustomerNo: 1 } }]) } });
		assert.equal(run.errorMessage, undefined);
		const keyed = double.requests.find((request) => request.text.includes('AS k([__sync_order]'));
		assert.deepEqual(keyed?.parameters, [{ name: 'r0_0', type: { name: 'int' }, value: 1 }]);
		const wrong = await read({ advanced: { since: '', retryKeys: JSON.stringify([{ key: { [`CustomerNo${INJECTED}`]: 1 } }]) } });
		assert.match(String(wrong.run.errorMessage), /does not match the key of the stream \(CustomerNo\)/);
		assertNeverSqlText(wrong.double);
	});

	it('SQL in the watermark table names is only ever a bracket-quoted identifier', async () => {
		const double = new RecordingSqlTransport((request) => {
			if (request.text.includes('AS stateSchemaExists')) return resultOf([{ stateSchemaExists: 0, historySchemaExists: 0 }], []);
			return resultOf([]);
		});
		useRecordingTransport(double);
		const workflow = loneWatermarkWorkflow(
			'bad watermark',
			{ resource: 'retryList', operation: 'retryList', stream: `customers${INJECTED}`, tables: { watermarkTable: `dbo.[Marks]]${INJECTED}]`, retryTable: `x${INJECTED}` } },
			{ crmSqlServerApi: { id: 'c', name: 'CRM' } },
		);
		const run = await runWorkflow(workflow, { credentials: CREDENTIALS, startNodeName: 'Start' });
		assert.match(String(run.errorMessage), /schema dbo does not exist/);
		assert.ok(double.requests.length > 0);
		assert.match(double.requests[0].text, /CREATE TABLE \[dbo\]\.\[Marks\]\]'; DROP TABLE dbo\.Company; --\] \(/);
		assertNeverSqlText(double);
	});
});
