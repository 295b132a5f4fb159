/**
 * The CRM node in a workflow, run in-process by n8n-core, writing into the in-memory CRM plugged in through
 * upsertTargetSeam. The in-memory target passes the same contract suite as the SQL Server one.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { IDataObject } from 'n8n-workflow';

import { upsertTargetSeam } from '../../nodes/Crm/stores/upsertTarget';
import { replaceSeam, restoreAllSeams } from '../../nodes/shared/seams';
import { COMPANY, COMPANY_CATALOG, CRM_MEMORY_TABLES, SALES_ORDER, catalogTable } from '../contract/upsertTarget.contract';
import type { MemoryTableDefinition } from '../support/memory/memoryUpsertTarget';
import { MemoryUpsertTarget } from '../support/memory/memoryUpsertTarget';
import type { OnError } from '../support/crmItems';
import { crmWorkflow, customerItem, deletedCustomerItem, orderItem, range, statusesOf, syncInfo } from '../support/crmItems';
import { runWorkflow } from '../support/workflowRunner';

const CREDENTIALS = { crmSqlServerApi: { server: 'crm.example', database: 'CRM', user: 'sync', password: 'not-used' } };

/** A customer as Contracting reads it, with its Active flag (which a manual mapping may send to IsActive). */
const customer = (no: number, position: number, fields: IDataObject = {}): IDataObject => customerItem(no, position, { Active: true, ...fields });
const deletedCustomer = deletedCustomerItem;

async function run(memory: MemoryUpsertTarget, items: IDataObject[], parameters: IDataObject = {}, onError?: OnError, typeVersion = 1) {
	replaceSeam(upsertTargetSeam, () => memory);
	const workflow = crmWorkflow(parameters, onError);
	for (const node of workflow.nodes) if (node.name === 'CRM') node.typeVersion = typeVersion;
	return await runWorkflow(workflow, {
		credentials: CREDENTIALS,
		triggerItems: items.map((json) => ({ json })),
		startNodeName: 'Changed rows',
	});
}

const crm = (extra: MemoryTableDefinition[] = []) => new MemoryUpsertTarget([...CRM_MEMORY_TABLES(), ...extra]);

afterEach(() => restoreAllSeams());

describe('CRM node: Upsert', () => {
	it('the same 1,000 rows sent twice leave exactly 1,000 rows; the second run reports all unchanged', async () => {
		const memory = crm();
		const items = range(1000).map((no, position) => customer(no, position));
		const first = await run(memory, items);
		assert.equal(first.errorMessage, undefined);
		assert.deepEqual(new Set(statusesOf(first.output('CRM'))), new Set(['inserted']));
		const requestsBefore = memory.requests;
		const second = await run(memory, items);
		assert.equal(memory.requests - requestsBefore, 2, 'one describe and one write for the batch of 1,000');
		const output = second.output('CRM');
		assert.equal(output.length, 1000);
		assert.deepEqual(new Set(statusesOf(output)), new Set(['unchanged']));
		assert.equal(memory.rows(COMPANY).length, 1000);
		assert.deepEqual(output[17].json.key, { CustomerNo: 18 });
		assert.deepEqual(output[17].json._sync, items[17]._sync, '_sync is passed through unchanged');
		assert.deepEqual(output[17].pairedItem, { item: 17 });
		assert.match(String(second.runsOf('CRM')[0].hints?.[0]?.message), /dbo\.Company: 0 inserted, 0 updated, 1000 unchanged, 0 deleted, 0 ignored, 0 failed/);
	});

	it('passes on the empty item of a read that found nothing, unwritten and without asking the database', async () => {
		const memory = crm();
		const result = await run(memory, [{}], { columns: { mappingMode: 'defineBelow', value: { CustomerNo: '={{ $json.CustomerNo }}' }, matchingColumns: ['CustomerNo'], schema: [] } });
		assert.equal(result.errorMessage, undefined);
		assert.deepEqual(result.output('CRM').map((item) => item.json), [{}]);
		assert.equal(memory.requests, 0);
		const notEmpty = await run(memory, [{}, customer(1, 0)], {}, 'continueRegularOutput');
		assert.deepEqual(statusesOf(notEmpty.output('CRM')), ['failed', 'inserted'], 'an empty item among rows is a row without values');
	});

	it('writes one batch per Batch Size items, and updates only the rows that changed', async () => {
		const memory = crm();
		await run(memory, range(10).map((no, position) => customer(no, position)));
		const requestsBefore = memory.requests;
		const items = range(10).map((no, position) => customer(no, position, no % 3 === 0 ? { City: 'Bergen' } : {}));
		const result = await run(memory, items, { options: { batchSize: 4 } });
		assert.equal(memory.requests - requestsBefore, 1 + 3);
		assert.deepEqual(statusesOf(result.output('CRM')), range(10).map((no) => (no % 3 === 0 ? 'updated' : 'unchanged')));
	});

	it('merges duplicate keys inside a batch: the last wins, the earlier ones report the winner\'s status', async () => {
		const memory = crm();
		const result = await run(memory, [customer(1, 0, { Name: 'First' }), customer(2, 1), customer(1, 2, { Name: 'Last' })]);
		const output = result.output('CRM');
		assert.deepEqual(statusesOf(output), ['inserted', 'inserted', 'inserted']);
		assert.equal(output[0].json.supersededBy, 2);
		const stored = memory.rows(COMPANY).sort((a, b) => Number(a.CustomerNo) - Number(b.CustomerNo));
		assert.deepEqual(stored.map((company) => [company.CustomerNo, company.Name]), [
			[1, 'Last'],
			[2, 'Customer 2'],
		]);
	});

	it('orders: CompanyId is looked up from dbo.Company by CustomerNo; a missing customer fails only its order, saying so', async () => {
		const memory = crm();
		memory.seed(COMPANY, [{ CustomerNo: 10, Name: 'Acme' }]);
		const [acme] = memory.rows(COMPANY);
		const order = orderItem;
		const result = await run(memory, [order(1, 10, 0), order(2, 123, 1), order(3, 10, 2)], { target: 'orders', columns: { mappingMode: 'autoMapInputData', value: null, matchingColumns: [], schema: [] } }, 'continueRegularOutput');
		const output = result.output('CRM');
		assert.deepEqual(statusesOf(output), ['inserted', 'failed', 'inserted']);
		assert.equal(output[1].json.error, 'Row OrderNo 2: Customer 123 is not in CRM yet (dbo.Company.CustomerNo)');
		assert.equal(output[1].json.errorColumn, 'CompanyId');
		assert.deepEqual(memory.rows(SALES_ORDER).map((row) => [row.OrderNo, row.CompanyId, row.OrderDate, row.Amount]), [
			[1, acme.CompanyId, '2024-04-30', '1250.5'],
			[3, acme.CompanyId, '2024-04-30', '1250.5'],
		]);
	});

	it('a lookup set up by hand on another table: its item field and its name in messages', async () => {
		const memory = crm();
		memory.seed(COMPANY, [{ CustomerNo: 10, Name: 'Acme' }]);
		const [acme] = memory.rows(COMPANY);
		const result = await run(
			memory,
			[
				{ OrderNo: 1, CustNo: 10 },
				{ OrderNo: 2, CustNo: 77 },
			],
			{
				target: 'table',
				table: { __rl: true, mode: 'name', value: 'dbo.SalesOrder' },
				columns: { mappingMode: 'autoMapInputData', value: null, matchingColumns: ['OrderNo'], schema: [] },
				lookups: { lookup: [{ targetColumn: 'CompanyId', fromTable: 'dbo.Company', keyColumn: 'CustomerNo', itemField: 'CustNo', label: 'Kunde' }] },
			},
			'continueRegularOutput',
		);
		const output = result.output('CRM');
		assert.deepEqual(statusesOf(output), ['inserted', 'failed']);
		assert.equal(output[1].json.error, 'Row OrderNo 2: Kunde 77 is not in CRM yet (dbo.Company.CustomerNo)');
		assert.deepEqual(memory.rows(SALES_ORDER).map((row) => [row.OrderNo, row.CompanyId]), [[1, acme.CompanyId]]);
	});

	describe('version 1.1: the columns and tables of deleted rows and lookups picked from the list or typed by name', () => {
		const byName = (value: string) => ({ __rl: true, mode: 'name', value });

		it('marks deleted rows as the plain names of version 1 did; an unknown column is refused, naming it and the table', async () => {
			const marked = async (deleteColumns: IDataObject, typeVersion: number) => {
				const memory = crm();
				await run(memory, [customer(1, 0)]);
				const result = await run(memory, [deletedCustomer(1, 0)], { deleteColumns }, undefined, typeVersion);
				return { error: result.errorMessage, row: memory.rows(COMPANY)[0] };
			};
			const before = await marked({ column: [{ column: 'IsActive', value: '0' }, { column: 'City', setTo: 'null' }] }, 1);
			const after = await marked({ column: [{ column: byName('IsActive'), setTo: 'value', value: '0' }, { column: { __rl: true, mode: 'list', value: 'City' }, setTo: 'null' }] }, 1.1);
			assert.equal(after.error, undefined);
			assert.deepEqual([after.row.IsActive, after.row.City], [false, null]);
			assert.deepEqual(after.row, { ...before.row, CompanyId: after.row.CompanyId });
			const unknown = await marked({ column: [{ column: byName('Inactive'), setTo: 'value', value: '1' }] }, 1.1);
			assert.match(String(unknown.error), /Column "Inactive" does not exist in dbo\.Company/);
		});

		it('a lookup with its table and columns picked fills the column as the typed lookup of version 1 does', async () => {
			const lookedUp = async (lookup: IDataObject, typeVersion: number) => {
				const memory = crm();
				memory.seed(COMPANY, [{ CustomerNo: 10, Name: 'Acme' }]);
				const parameters = {
					target: 'table',
					table: { __rl: true, mode: 'name', value: 'dbo.SalesOrder' },
					columns: { mappingMode: 'autoMapInputData', value: null, matchingColumns: ['OrderNo'], schema: [] },
					lookups: { lookup: [{ itemField: 'CustNo', label: 'Kunde', ...lookup }] },
				};
				const result = await run(memory, [{ OrderNo: 1, CustNo: 10 }, { OrderNo: 2, CustNo: 77 }], parameters, 'continueRegularOutput', typeVersion);
				return { output: result.output('CRM').map((item) => [item.json.status, item.json.error]), orders: memory.rows(SALES_ORDER).map((row) => [row.OrderNo, row.CompanyId]), companyId: memory.rows(COMPANY)[0].CompanyId };
			};
			const before = await lookedUp({ targetColumn: 'CompanyId', fromTable: 'dbo.Company', keyColumn: 'CustomerNo', valueColumn: 'CompanyId' }, 1);
			const after = await lookedUp(
				{ targetColumn: byName('CompanyId'), fromTable: { __rl: true, mode: 'list', value: '[dbo].[Company]' }, keyColumn: byName('CustomerNo'), valueColumn: { __rl: true, mode: 'list', value: '' } },
				1.1,
			);
			assert.deepEqual(after.output, [['inserted', undefined], ['failed', 'Row OrderNo 2: Kunde 77 is not in CRM yet (dbo.Company.CustomerNo)']]);
			assert.deepEqual(after.orders, [[1, after.companyId]]);
			assert.deepEqual(after.output, before.output);
			const unknown = await lookedUp({ targetColumn: byName('CompanyId'), fromTable: byName('dbo.Company'), keyColumn: byName('CustomerNumber') }, 1.1);
			assert.match(String(unknown.output[0][1]), /Column "CustomerNumber" does not exist in dbo\.Company/);
		});
	});

	describe('a row SQL Server refuses, in a batch of 1,000', () => {
		/** A CRM with a unique index on OrgNo and a company already holding OrgNo 999000999. */
		function crmWithUniqueOrgNo() {
			const companies = { ...COMPANY_CATALOG, uniqueKeys: [...COMPANY_CATALOG.uniqueKeys, ['OrgNo']] };
			const memory = new MemoryUpsertTarget([{ catalog: companies, defaults: { IsActive: true } }]);
			memory.seed(COMPANY, [{ CustomerNo: 5000, Name: 'Already there', OrgNo: '999000999' }]);
			return memory;
		}
		const items = range(1000).map((no, position) => customer(no, position, { OrgNo: no === 500 ? '999000999' : String(100000000 + no) }));

		it('with continue-on-fail: 999 rows written, the refused one reported failed with SQL Server\'s message, in bounded round trips', async () => {
			const memory = crmWithUniqueOrgNo();
			const result = await run(memory, items, {}, 'continueRegularOutput');
			const output = result.output('CRM');
			assert.equal(output.filter((item) => item.json.status === 'inserted').length, 999);
			const failed = output.filter((item) => item.json.status === 'failed');
			assert.equal(failed.length, 1);
			assert.deepEqual(failed[0].json.key, { CustomerNo: 500 });
			assert.equal(failed[0].json.sqlServerError, 2627);
			assert.match(String(failed[0].json.error), /^Row CustomerNo 500: Violation of UNIQUE KEY constraint .*duplicate key value is \(999000999\)/);
			assert.equal(memory.rows(COMPANY).length, 1 + 999);
			assert.ok(memory.requests <= 1 + 1 + 2 * Math.ceil(Math.log2(1000)), `${memory.requests} requests`);
		});

		it('with the error output: the refused row goes there, the 999 to the main output', async () => {
			const result = await run(crmWithUniqueOrgNo(), items, {}, 'continueErrorOutput');
			assert.equal(result.output('CRM', 0).length, 999);
			const errors = result.output('CRM', 1);
			assert.equal(errors.length, 1);
			assert.match(String(errors[0].json.error), /^Row CustomerNo 500: Violation of UNIQUE KEY constraint/);
			assert.deepEqual(errors[0].pairedItem, { item: 499 });
			assert.ok(result.output('CRM', 0).every((item) => item.json.status === 'inserted'));
		});

		it('with neither: the node stops naming the row and SQL Server\'s message, after writing the other 999', async () => {
			const memory = crmWithUniqueOrgNo();
			const result = await run(memory, items);
			assert.match(String(result.errorMessage), /Row CustomerNo 500: Violation of UNIQUE KEY constraint/);
			assert.match(String(result.errorMessage), /watermark has not moved past this row/);
			assert.equal(memory.rows(COMPANY).length, 1 + 999);
		});
	});

	it('dry run reports inserted / updated / unchanged and writes nothing; items carry wouldBe, never status', async () => {
		const memory = crm();
		await run(memory, [customer(1, 0), customer(2, 1)]);
		const before = memory.rows(COMPANY);
		const result = await run(memory, [customer(1, 0), customer(2, 1, { City: 'Tromsø' }), customer(3, 2)], { options: { dryRun: true } });
		const output = result.output('CRM');
		assert.deepEqual(output.map((item) => item.json.wouldBe), ['unchanged', 'updated', 'inserted']);
		assert.ok(output.every((item) => item.json.status === undefined && item.json.dryRun === true));
		assert.deepEqual(memory.rows(COMPANY), before);
		assert.match(String(result.runsOf('CRM')[0].hints?.[0]?.message), /^Dry run on dbo\.Company, nothing written: would be 1 inserted, 1 updated, 1 unchanged/);
	});

	it('an expression that gives the text "false" for Dry Run writes; one that gives neither true nor false fails the items and names the option', async () => {
		const memory = crm();
		const written = await run(memory, [customer(1, 0)], { options: { dryRun: "={{ 'false' }}" } });
		assert.equal(written.output('CRM')[0].json.status, 'inserted');
		assert.equal(memory.rows(COMPANY).length, 1);
		const refused = await run(memory, [customer(2, 1)], { options: { dryRun: "={{ 'perhaps' }}" } });
		assert.match(String(refused.errorMessage), /'Dry Run' in Options cannot be "perhaps"/);
		assert.equal(memory.rows(COMPANY).length, 1);
	});

	it('a Target that is none of its choices stops the node naming them, writing nothing', async () => {
		const memory = crm();
		const result = await run(memory, [customer(1, 0)], { target: 'company' });
		assert.match(String(result.errorMessage), /Target cannot be "company": it takes "customers" \(dbo\.Company\), "orders" \(dbo\.SalesOrder\) or "table" \(Other Table\)/);
		assert.deepEqual(memory.rows(COMPANY), []);
	});

	it('a mapping mode that is none of the two stops the node naming them, writing nothing', async () => {
		const memory = crm();
		const columns = { mappingMode: 'DefineBelow', value: { CustomerNo: '={{ $json.CustomerNo }}', Name: '={{ $json.Name }}' }, matchingColumns: ['CustomerNo'], schema: [] };
		const result = await run(memory, [customer(1, 0)], { columns });
		assert.match(String(result.errorMessage), /The mapping mode of Columns cannot be "DefineBelow": it takes "defineBelow" \(Map Each Column Manually\) or "autoMapInputData" \(Map Automatically\)/);
		assert.deepEqual(memory.rows(COMPANY), []);
	});

	describe('deleted in Contracting', () => {
		async function afterDeleting(parameters: IDataObject) {
			const memory = crm();
			await run(memory, [customer(1, 0), customer(2, 1)]);
			const result = await run(memory, [deletedCustomer(1, 0), deletedCustomer(7, 1), customer(2, 2, { City: 'Bodø' })], parameters);
			return { memory, output: result.output('CRM'), error: result.errorMessage };
		}

		it('marks the CRM row (IsActive = 0, DeletedAt = now) by default; a key CRM does not have is unchanged', async () => {
			const { memory, output, error } = await afterDeleting({});
			assert.equal(error, undefined);
			assert.deepEqual(statusesOf(output), ['deleted', 'unchanged', 'updated']);
			assert.equal(output[0].json._sync && (output[0].json._sync as IDataObject).operation, 'delete');
			const [one, two] = memory.rows(COMPANY);
			assert.equal(one.IsActive, false);
			assert.match(String(one.DeletedAt), /^\d{4}-\d{2}-\d{2}T/);
			assert.deepEqual([two.IsActive, two.DeletedAt, two.City], [true, null, 'Bodø']);
		});

		it('deletes the CRM row', async () => {
			const { memory, output } = await afterDeleting({ deletes: 'delete' });
			assert.deepEqual(statusesOf(output), ['deleted', 'unchanged', 'updated']);
			assert.deepEqual(memory.rows(COMPANY).map((row) => row.CustomerNo), [2]);
		});

		it('ignores it: CRM keeps the row, the item reports ignored', async () => {
			const { memory, output } = await afterDeleting({ deletes: 'ignore' });
			assert.deepEqual(statusesOf(output), ['ignored', 'ignored', 'updated']);
			assert.deepEqual(output[0].json.key, { CustomerNo: 1 });
			assert.deepEqual(memory.rows(COMPANY).map((row) => [row.CustomerNo, row.IsActive]), [
				[1, true],
				[2, true],
			]);
		});

		// The field takes no expression; a workflow edited by hand, or generated, can still hold any text.
		for (const deletes of ['markdeleted', 'Mark the CRM Row']) {
			it(`a "Deleted in Contracting" of ${deletes}, none of its choices, stops the node, deleting and writing nothing`, async () => {
				const { memory, error } = await afterDeleting({ deletes });
				assert.match(String(error), /'Deleted in Contracting' cannot be "(markdeleted|Mark the CRM Row)" — It takes one of: "markDeleted" \(Mark the CRM Row\), "delete" \(Delete the CRM Row\), "ignore" \(Ignore\)/);
				assert.deepEqual(memory.rows(COMPANY).map((row) => [row.CustomerNo, row.IsActive, row.City]), [
					[1, true, 'Oslo'],
					[2, true, 'Oslo'],
				]);
			});
		}

		it('finds the key of a deleted row under _sync.key when the item carries nothing else', async () => {
			const memory = crm();
			await run(memory, [customer(1, 0), customer(2, 1)]);
			const bare = { _sync: syncInfo('customers', 0, { CustomerNo: 2 }, 'delete') };
			const result = await run(memory, [bare], { deletes: 'delete' });
			assert.equal(result.errorMessage, undefined);
			assert.deepEqual(result.output('CRM')[0].json.key, { CustomerNo: 2 });
			assert.deepEqual(memory.rows(COMPANY).map((row) => row.CustomerNo), [1]);
		});

		it('an ignored delete that carries nothing but _sync.key reports that key, also under a manual mapping', async () => {
			const memory = crm();
			const bare = { _sync: syncInfo('customers', 0, { CustomerNo: 2 }, 'delete') };
			const mapping = { columns: { mappingMode: 'defineBelow', value: { CustomerNo: '={{ $json.CustomerNo }}', Name: '={{ $json.Name }}' }, matchingColumns: ['CustomerNo'], schema: [] } };
			for (const parameters of [{}, mapping]) {
				const result = await run(memory, [bare], { deletes: 'ignore', ...parameters });
				assert.equal(result.errorMessage, undefined);
				assert.deepEqual(result.output('CRM').map((item) => [item.json.status, item.json.key]), [['ignored', { CustomerNo: 2 }]]);
			}
		});

		it('refuses a Set To that is none of its choices, naming the column and the choices, before writing anything', async () => {
			const { memory, error } = await afterDeleting({ deleteColumns: { column: [{ column: 'IsActive', setTo: 'value', value: '0' }, { column: 'DeletedAt', setTo: 'Now' }] } });
			assert.match(String(error), /'Set To' of column "DeletedAt" in Columns to Set on Deleted Rows cannot be "Now" — It takes one of: "value" \(A Value\), "null" \(Empty \(NULL\)\), "now"/);
			assert.deepEqual(memory.rows(COMPANY).map((row) => [row.IsActive, row.City]), [[true, 'Oslo'], [true, 'Oslo']]);
		});

		it('refuses a column to set that the table does not have, naming it, before writing anything', async () => {
			const { memory, error } = await afterDeleting({ deleteColumns: { column: [{ column: 'Inactive', value: '1' }] } });
			assert.match(String(error), /Column "Inactive" does not exist in dbo\.Company/);
			assert.equal(memory.rows(COMPANY)[1].City, 'Oslo');
		});
	});

	describe('a manual mapping with a computed column', () => {
		const columns = ['CustomerNo', 'Name', 'OrgNo', 'PostCode', 'Email', 'IsActive', 'DeletedAt'];
		const fields: Record<string, string> = { IsActive: 'Active', DeletedAt: 'RemovedAt' };
		const mappingOf = (value: (field: string) => string, extra: IDataObject = {}) => ({
			columns: { mappingMode: 'defineBelow', value: { ...Object.fromEntries(columns.map((column) => [column, value(fields[column] ?? column)])), ...extra }, matchingColumns: ['CustomerNo'], schema: [] },
		});
		/** Null, a missing field, a date with an offset, numbers as text (and text as a number). */
		const items = () => [
			customer(1, 0, { OrgNo: null, RemovedAt: '2024-03-31T14:30:00+02:00' }),
			customer(2, 1, { CustomerNo: '2', PostCode: 150, Email: undefined }),
			customer(3, 2, { OrgNo: '0042', Active: 'false', RemovedAt: '2024-10-27T02:30:00.1234567' }),
		];
		const written = async (parameters: IDataObject) => {
			const memory = crm();
			const result = await run(memory, items(), parameters, 'continueRegularOutput');
			assert.equal(result.errorMessage, undefined);
			return { rows: memory.rows(COMPANY), output: result.output('CRM').map((item) => item.json) };
		};

		it('plain columns read from the item write exactly what n8n resolves for them; the computed column gets its expression\'s value', async () => {
			const throughN8n = await written(mappingOf((field) => `={{ ($json.${field}) }}`));
			const plain = await written(mappingOf((field) => `={{ $json.${field} }}`));
			assert.deepEqual(plain, throughN8n);
			assert.deepEqual(
				throughN8n.rows.map((row) => [row.CustomerNo, row.OrgNo, row.PostCode, row.Email, row.IsActive, row.DeletedAt]),
				[
					[1, null, null, 'post@1.example', true, '2024-03-31T12:30:00.0000000'],
					[2, null, '150', null, true, null],
					[3, '0042', null, 'post@3.example', false, '2024-10-27T02:30:00.1234567'],
				],
			);
			const mixed = await written(
				mappingOf((field) => `={{ $json.${field} }}`, {
					City: '={{ $json.City.toUpperCase() }}',
					Address: "={{ DateTime.fromISO('2024-03-31T14:30:00.000Z', { zone: 'utc' }) }}",
				}),
			);
			assert.deepEqual(
				mixed.rows.map((row) => [row.City, row.Address]),
				items().map(() => ['OSLO', '2024-03-31T14:30:00.000Z']),
				'a date an expression computes is written as the text n8n makes of it',
			);
			const withoutComputed = (row: Record<string, unknown>) => Object.fromEntries(Object.entries(row).filter(([name]) => name !== 'City' && name !== 'Address'));
			assert.deepEqual(mixed.rows.map(withoutComputed), plain.rows.map(withoutComputed), 'the other columns are as without the computed ones');
			assert.deepEqual(statusesOf(mixed.output.map((json) => ({ json }))), ['inserted', 'inserted', 'inserted']);
		});

		it('a computed column of a column named with a dot or a quote is that column\'s own value', async () => {
			const odd = catalogTable({ schema: 'crm', name: 'Odd' }, { 'Org.No': { typeName: 'int', nullable: false }, 'Say "hi"': { typeName: 'nvarchar', maxLength: 100 } }, [['Org.No']]);
			const memory = crm([{ catalog: odd }]);
			const result = await run(memory, [{ OrgNo: 5 }], {
				target: 'table',
				table: { __rl: true, mode: 'name', value: 'crm.Odd' },
				columns: { mappingMode: 'defineBelow', value: { 'Org.No': '={{ $json.OrgNo + 1 }}', 'Say "hi"': '={{ "hi " + $json.OrgNo }}' }, matchingColumns: ['Org.No'], schema: [] },
			});
			assert.equal(result.errorMessage, undefined);
			assert.deepEqual(memory.rows({ schema: 'crm', name: 'Odd' }), [{ 'Org.No': 6, 'Say "hi"': 'hi 5' }]);
		});
	});

	describe('bad input', () => {
		const manual = (value: IDataObject, matchingColumns = ['CustomerNo']) => ({
			columns: { mappingMode: 'defineBelow', value, matchingColumns, schema: [] },
		});

		it('a mapped column that no longer exists: the node says which, and writes nothing', async () => {
			const memory = crm();
			const result = await run(memory, [customer(1, 0)], manual({ CustomerNo: '={{ $json.CustomerNo }}', Name: '={{ $json.Name }}', Fax: '={{ $json.Email }}' }));
			assert.match(String(result.errorMessage), /Column "Fax" does not exist in dbo\.Company/);
			assert.match(String(result.errorMessage), /refresh the column list/);
			assert.equal(memory.rows(COMPANY).length, 0);
		});

		it('a value that does not convert, a NULL for a NOT NULL column: that row fails naming column and key; the rest is written', async () => {
			const memory = crm();
			const items = [
				customer(1, 0),
				customer(2, 1, { Name: null }),
				customer(3, 2, { PostCode: 'N-0150 OSLO SENTRUM' }),
				customer(4, 3),
				customer(5, 4, { Active: 'sometimes' }),
			];
			const mapping = manual({ CustomerNo: '={{ $json.CustomerNo }}', Name: '={{ $json.Name }}', PostCode: '={{ $json.PostCode }}', IsActive: '={{ $json.Active }}' });
			const result = await run(memory, items, mapping, 'continueRegularOutput');
			const output = result.output('CRM');
			assert.deepEqual(statusesOf(output), ['inserted', 'failed', 'failed', 'inserted', 'failed']);
			assert.equal(output[4].json.error, 'Row CustomerNo 5: Column "IsActive" (bit): "sometimes" is not a yes/no value (true, false, 1 or 0)');
			assert.equal(output[1].json.error, 'Row CustomerNo 2: Column "Name" (nvarchar(100)): needs a value (NOT NULL) but the item has none');
			assert.equal(output[1].json.errorColumn, 'Name');
			assert.match(String(output[2].json.error), /^Row CustomerNo 3: Column "PostCode" \(varchar\(10\)\): "N-0150 OSLO SENTRUM" is 19 characters/);
			assert.deepEqual(memory.rows(COMPANY).map((row) => row.CustomerNo), [1, 4]);
		});

		it('a match column that is not unique: the node names it and writes nothing', async () => {
			const memory = crm();
			const result = await run(memory, [customer(1, 0)], { columns: { mappingMode: 'autoMapInputData', value: null, matchingColumns: ['City'], schema: [] } });
			assert.match(String(result.errorMessage), /Column "City" is not a unique key of dbo\.Company/);
			assert.equal(memory.rows(COMPANY).length, 0);
		});

		it('a table that is not there: the node names it', async () => {
			const result = await run(crm(), [customer(1, 0)], { target: 'table', table: { __rl: true, mode: 'name', value: 'dbo.Firma' } });
			assert.match(String(result.errorMessage), /dbo\.Firma does not exist/);
		});

		it('with continue-on-fail, a configuration error fails every item instead of stopping the workflow', async () => {
			const result = await run(crm(), [customer(1, 0), customer(2, 1)], { columns: { mappingMode: 'autoMapInputData', value: null, matchingColumns: ['City'], schema: [] } }, 'continueRegularOutput');
			assert.equal(result.errorMessage, undefined);
			assert.deepEqual(statusesOf(result.output('CRM')), ['failed', 'failed']);
			assert.match(String(result.output('CRM')[1].json.error), /^Row CustomerNo 2: .*"City" is not a unique key/);
		});
	});

	it('writes into any CRM table picked by name, matching on its key', async () => {
		const contacts = catalogTable(
			{ schema: 'crm', name: 'Contact' },
			{ Email: { typeName: 'nvarchar', maxLength: 400, nullable: false }, FullName: { typeName: 'nvarchar', maxLength: 200 } },
			[['Email']],
		);
		const memory = crm([{ catalog: contacts }]);
		const result = await run(memory, [{ Email: 'ola@example.no', FullName: 'Ola' }], {
			target: 'table',
			table: { __rl: true, mode: 'list', value: 'crm.Contact' },
			columns: { mappingMode: 'autoMapInputData', value: null, matchingColumns: [], schema: [] },
		});
		assert.equal(result.errorMessage, undefined);
		assert.deepEqual(result.output('CRM')[0].json, { key: { Email: 'ola@example.no' }, status: 'inserted' });
	});
});
