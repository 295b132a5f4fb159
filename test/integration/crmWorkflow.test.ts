/**
 * The CRM node's workflow-level scenarios (test/workflow/crmUpsert.test.ts runs them against the in-memory CRM)
 * with nothing swapped: the same test workflow, run in-process by n8n-core, writing through the production
 * transport into the representative CRM tables, once at compatibility level 160 (OPENJSON) and once at 120
 * (typed parameters in chunks).
 */
import assert from 'node:assert/strict';
import type { IDataObject } from 'n8n-workflow';

import { COMPANY, upsertTargetOnSqlServer } from '../contract/upsertTarget.contract';
import type { OnError } from '../support/crmItems';
import { crmWorkflow, customerItem, deletedCustomerItem, orderItem, range, statusesOf } from '../support/crmItems';
import { runWorkflow } from '../support/workflowRunner';
import type { SqlServerUnderTest } from './support/sqlServerUnderTest';
import { TEST_DATABASES, describeAgainstSqlServer } from './support/sqlServerUnderTest';

const customer = customerItem;
const deletedCustomer = deletedCustomerItem;
const order = orderItem;

/** The CRM database of one test, emptied, with the runs and reads the scenarios need. */
async function emptiedCrm(server: SqlServerUnderTest, database: string) {
	const transport = server.transport(database);
	const { rows } = await upsertTargetOnSqlServer(transport)();
	const run = async (items: IDataObject[], parameters: IDataObject = {}, onError?: OnError) =>
		await runWorkflow(crmWorkflow(parameters, onError), {
			credentials: { crmSqlServerApi: server.credential(database) },
			triggerItems: items.map((json) => ({ json })),
			startNodeName: 'Changed rows',
		});
	const companies = async () => [...(await rows(COMPANY))].sort((a, b) => Number(a.CustomerNo) - Number(b.CustomerNo));
	return { transport, run, companies };
}

describeAgainstSqlServer('the CRM node in a workflow, writing into SQL Server', (suite) => {
	for (const database of [TEST_DATABASES.crm, TEST_DATABASES.crmLegacy]) {
		suite.test(`${database}: the same 1,000 customers sent twice leave exactly 1,000 rows, the second run all unchanged`, async (server) => {
			const crm = await emptiedCrm(server, database);
			const items = range(1000).map((no, position) => customer(no, position));
			const first = await crm.run(items);
			assert.equal(first.errorMessage, undefined);
			assert.deepEqual(new Set(statusesOf(first.output('CRM'))), new Set(['inserted']));
			const second = await crm.run(items);
			assert.equal(second.errorMessage, undefined);
			const output = second.output('CRM');
			assert.equal(output.length, 1000);
			assert.deepEqual(new Set(statusesOf(output)), new Set(['unchanged']));
			assert.deepEqual(output[17].json._sync, items[17]._sync, '_sync is passed through unchanged');
			const stored = await crm.companies();
			assert.equal(stored.length, 1000);
			assert.deepEqual(stored.map((company) => company.CustomerNo), range(1000));
			assert.deepEqual([stored[17].Name, stored[17].City, stored[17].Email, stored[17].IsActive], ['Customer 18', 'Oslo', 'post@18.example', true]);
		});

		suite.test(`${database}: a row SQL Server refuses fails alone with its message; the other 999 are written`, async (server) => {
			const crm = await emptiedCrm(server, database);
			await crm.transport.execute({
				text: `ALTER TABLE dbo.Company ADD CONSTRAINT UQ_Company_OrgNo_Integration UNIQUE (OrgNo);
INSERT INTO dbo.Company (CustomerNo, Name, OrgNo) VALUES (5000, N'Already there', '999000999');`,
				parameters: [],
			});
			try {
				const items = range(1000).map((no, position) => customer(no, position, { OrgNo: no === 500 ? '999000999' : String(100000000 + no) }));
				const result = await crm.run(items, {}, 'continueRegularOutput');
				const output = result.output('CRM');
				assert.equal(output.filter((item) => item.json.status === 'inserted').length, 999);
				const failed = output.filter((item) => item.json.status === 'failed');
				assert.equal(failed.length, 1);
				assert.deepEqual(failed[0].json.key, { CustomerNo: 500 });
				assert.equal(failed[0].json.sqlServerError, 2627);
				assert.match(String(failed[0].json.error), /^Row CustomerNo 500: Violation of UNIQUE KEY constraint .*duplicate key value is \(999000999\)/);
				const stored = await crm.companies();
				assert.equal(stored.length, 1 + 999);
				assert.ok(!stored.some((company) => company.CustomerNo === 500));
			} finally {
				await crm.transport.execute({ text: 'ALTER TABLE dbo.Company DROP CONSTRAINT UQ_Company_OrgNo_Integration;', parameters: [] });
			}
		});

		suite.test(`${database}: customers CRM's trigger refuses (RAISERROR … ROLLBACK, and RAISERROR alone) fail alone with the trigger's words; nothing reported failed was written, nothing reported written is missing`, async (server) => {
			const crm = await emptiedCrm(server, database);
			const items = range(200).map((no, position) =>
				customer(no, position, no === 50 ? { Name: 'BLOCKED customer' } : no === 150 ? { City: 'Nowhere' } : {}),
			);
			const result = await crm.run(items, {}, 'continueRegularOutput');
			const output = result.output('CRM');
			const failed = output.filter((item) => item.json.status === 'failed');
			assert.deepEqual(failed.map((item) => [item.json.key, item.json.sqlServerError]), [[{ CustomerNo: 50 }, 50000], [{ CustomerNo: 150 }, 50000]]);
			assert.match(String(failed[0].json.error), /Customer is blocked in CRM/);
			assert.match(String(failed[1].json.error), /City Nowhere is not allowed in CRM/);
			const stored = (await crm.companies()).map((company) => company.CustomerNo);
			assert.deepEqual(stored, range(200).filter((no) => no !== 50 && no !== 150), 'what CRM holds is exactly what was reported written');
		});

		suite.test(`${database}: a batch CRM refuses as a whole (a table the login cannot see) fails every row WITHOUT a row refusal, so Watermark Set parks none`, async (server) => {
			const crm = await emptiedCrm(server, database);
			const result = await crm.run([customer(1, 0), customer(2, 1)], { target: 'table', table: { __rl: true, mode: 'name', value: 'dbo.NoSuchTable' } }, 'continueRegularOutput');
			const output = result.output('CRM');
			assert.deepEqual(statusesOf(output), ['failed', 'failed']);
			for (const item of output) assert.deepEqual([item.json.sqlServerError, item.json.errorColumn], [undefined, undefined], 'not a refusal of the row');
			assert.deepEqual(await crm.companies(), []);
		});

		suite.test(`${database}: a customer deleted in Contracting is marked in CRM (IsActive = 0, DeletedAt set)`, async (server) => {
			const crm = await emptiedCrm(server, database);
			await crm.run([customer(1, 0), customer(2, 1)]);
			const result = await crm.run([deletedCustomer(1, 0), deletedCustomer(7, 1), customer(2, 2, { City: 'Bodø' })]);
			assert.equal(result.errorMessage, undefined);
			assert.deepEqual(statusesOf(result.output('CRM')), ['deleted', 'unchanged', 'updated']);
			const [one, two] = await crm.companies();
			assert.equal(one.IsActive, false);
			assert.ok(one.DeletedAt instanceof Date, `DeletedAt is ${String(one.DeletedAt)}`);
			assert.deepEqual([two.IsActive, two.DeletedAt, two.City], [true, null, 'Bodø']);
		});

		suite.test(`${database}: an order finds its CompanyId by CustomerNo; an order of an unknown customer fails alone`, async (server) => {
			const crm = await emptiedCrm(server, database);
			await crm.run([customer(10, 0)]);
			const [acme] = await crm.companies();
			const result = await crm.run(
				[order(1, 10, 0), order(2, 123, 1), order(3, 10, 2)],
				{ target: 'orders', columns: { mappingMode: 'autoMapInputData', value: null, matchingColumns: [], schema: [] } },
				'continueRegularOutput',
			);
			const output = result.output('CRM');
			assert.deepEqual(statusesOf(output), ['inserted', 'failed', 'inserted']);
			assert.equal(output[1].json.error, 'Row OrderNo 2: Customer 123 is not in CRM yet (dbo.Company.CustomerNo)');
			const orders = await crm.transport.execute({
				text: `SELECT OrderNo, CompanyId, CONVERT(varchar(10), OrderDate, 126) AS OrderDate, CONVERT(varchar(40), Amount) AS Amount
FROM dbo.SalesOrder ORDER BY OrderNo;`,
				parameters: [],
			});
			assert.deepEqual(orders.recordsets[0], [
				{ OrderNo: 1, CompanyId: acme.CompanyId, OrderDate: '2024-04-30', Amount: '1250.50' },
				{ OrderNo: 3, CompanyId: acme.CompanyId, OrderDate: '2024-04-30', Amount: '1250.50' },
			]);
		});
	}
});
