/**
 * What every UpsertTarget must do, whichever database is behind it. `npm test` runs it against the in-memory target
 * (test/unit/crmUpsertTarget.memory.test.ts); the integration suite runs it against SqlServerUpsertTarget on the
 * CrmTest (compatibility level 160: OPENJSON) and CrmLegacyTest (120: VALUES) databases that
 * test/integration/sql/20-crm-schema.sql creates, emptied before each test.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { CatalogColumn, CatalogTable } from '../../nodes/shared/catalog';
import type { QualifiedName } from '../../nodes/shared/core/identifiers';
import { quoteQualifiedName } from '../../nodes/shared/core/identifiers';
import { defaultMatchColumns, manuallyMappedColumns } from '../../nodes/shared/core/mapping';
import type { TargetValue } from '../../nodes/shared/core/mappingValues';
import { sqlTypeOfColumn } from '../../nodes/shared/core/sqlTypes';
import type { DeleteHandling, LookupSpec, RowOutcome, UpsertPlan, UpsertRow } from '../../nodes/shared/core/upsertPlan';
import { planDelete, planUpsert, resolveLookup } from '../../nodes/shared/core/upsertPlan';
import { SqlServerUpsertTarget } from '../../nodes/Crm/stores/sqlServerUpsertTarget';
import type { UpsertTarget } from '../../nodes/Crm/stores/upsertTarget';
import type { SqlTransport } from '../../nodes/shared/transport/types';

export const COMPANY: QualifiedName = { schema: 'dbo', name: 'Company' };
export const SALES_ORDER: QualifiedName = { schema: 'dbo', name: 'SalesOrder' };
export const CONTACT: QualifiedName = { schema: 'dbo', name: 'Contact' };

interface ColumnShape {
	typeName: string;
	maxLength?: number;
	precision?: number;
	scale?: number;
	nullable?: boolean;
	identity?: boolean;
	hasDefault?: boolean;
	primaryKey?: boolean;
	collation?: string;
}

/** A catalogue column as describeTable reads it from sys.columns. */
export function catalogColumn(name: string, shape: ColumnShape, uniqueKeys: string[][]): CatalogColumn {
	const type = { typeName: shape.typeName, maxLength: shape.maxLength ?? 4, precision: shape.precision ?? 0, scale: shape.scale ?? 0 };
	return {
		name,
		...type,
		nullable: shape.nullable ?? true,
		isIdentity: shape.identity ?? false,
		isComputed: false,
		hasDefault: shape.hasDefault ?? false,
		...(shape.collation ? { collation: shape.collation } : {}),
		sqlType: sqlTypeOfColumn(type),
		primaryKeyOrdinal: shape.primaryKey ? 1 : 0,
		inUniqueIndex: uniqueKeys.some((key) => key.includes(name)),
	};
}

export function catalogTable(name: QualifiedName, columns: Record<string, ColumnShape>, uniqueKeys: string[][]): CatalogTable {
	const entries = Object.entries(columns);
	return {
		name,
		kind: 'table',
		columns: entries.map(([column, shape]) => catalogColumn(column, shape, uniqueKeys)),
		primaryKey: entries.filter(([, shape]) => shape.primaryKey).map(([column]) => column),
		uniqueKeys,
		changeTracking: false,
	};
}

const nvarchar = (length: number, nullable = true): ColumnShape => ({ typeName: 'nvarchar', maxLength: length * 2, nullable });
const varchar = (length: number): ColumnShape => ({ typeName: 'varchar', maxLength: length });

/** dbo.Company of test/integration/sql/20-crm-schema.sql, as the catalogue describes it. */
export const COMPANY_CATALOG = catalogTable(
	COMPANY,
	{
		CompanyId: { typeName: 'int', nullable: false, identity: true, primaryKey: true },
		CustomerNo: { typeName: 'int', nullable: false },
		Name: nvarchar(100, false),
		OrgNo: varchar(20),
		Address: nvarchar(200),
		PostCode: varchar(10),
		City: nvarchar(100),
		Email: nvarchar(200),
		Phone: varchar(30),
		IsActive: { typeName: 'bit', maxLength: 1, nullable: false, hasDefault: true },
		DeletedAt: { typeName: 'datetime2', maxLength: 7, scale: 3 },
	},
	[['CompanyId'], ['CustomerNo']],
);

/** dbo.SalesOrder of test/integration/sql/20-crm-schema.sql. */
export const SALES_ORDER_CATALOG = catalogTable(
	SALES_ORDER,
	{
		SalesOrderId: { typeName: 'int', nullable: false, identity: true, primaryKey: true },
		OrderNo: { typeName: 'int', nullable: false },
		CompanyId: { typeName: 'int', nullable: false },
		Description: nvarchar(200),
		OrderDate: { typeName: 'date', maxLength: 3 },
		Status: varchar(20),
		Amount: { typeName: 'decimal', maxLength: 9, precision: 18, scale: 2 },
		IsActive: { typeName: 'bit', maxLength: 1, nullable: false, hasDefault: true },
		DeletedAt: { typeName: 'datetime2', maxLength: 7, scale: 3 },
	},
	[['SalesOrderId'], ['OrderNo']],
);

/** dbo.Contact of the script: a case-sensitive key of another collation, a Cyrillic varchar, text and ntext. */
export const CONTACT_CATALOG = catalogTable(
	CONTACT,
	{
		ContactId: { typeName: 'int', nullable: false, identity: true, primaryKey: true },
		ContactCode: { typeName: 'varchar', maxLength: 20, nullable: false, collation: 'Danish_Norwegian_CS_AS' },
		Title: { typeName: 'varchar', maxLength: 50, collation: 'Cyrillic_General_CI_AS' },
		Notes: { typeName: 'text', maxLength: 16, collation: 'SQL_Latin1_General_CP1_CI_AS' },
		Memo: { typeName: 'ntext', maxLength: 16, collation: 'SQL_Latin1_General_CP1_CI_AS' },
	},
	[['ContactId'], ['ContactCode']],
);

/** The triggers of dbo.Company in the script (TR_Company_RefuseRows), as the in-memory CRM runs them. */
const COMPANY_TRIGGERS = [
	(row: Record<string, unknown>) => (String(row.Name ?? '').toUpperCase().startsWith('BLOCKED') ? 'Customer is blocked in CRM' : undefined),
	(row: Record<string, unknown>) => (String(row.City ?? '').trimEnd().toLowerCase() === 'nowhere' ? 'City Nowhere is not allowed in CRM' : undefined),
];

/** The in-memory CRM with the two tables, IsActive defaulting to 1 and Company's triggers, as in the script. */
export const CRM_MEMORY_TABLES = () => [
	{ catalog: COMPANY_CATALOG, defaults: { IsActive: true }, triggers: COMPANY_TRIGGERS },
	{ catalog: SALES_ORDER_CATALOG, defaults: { IsActive: true } },
	{ catalog: CONTACT_CATALOG },
];

export const ORDER_COMPANY_LOOKUP: LookupSpec = {
	targetColumn: 'CompanyId',
	fromTable: COMPANY,
	keyColumn: 'CustomerNo',
	itemField: 'CustomerNo',
	label: 'Customer',
};

export interface UpsertTargetUnderTest {
	/** A target over empty dbo.Company and dbo.SalesOrder tables. */
	target: UpsertTarget;
	/** A table's rows with their values as the driver gives them (bit as boolean, int as number). */
	rows(table: QualifiedName): Promise<Array<Record<string, unknown>>>;
}

/**
 * The contract's harness on a SQL Server database made by test/integration/sql/20-crm-schema.sql: empties the two
 * tables before each test and reads them back through the same transport. For the integration suite:
 *   upsertTargetContract(`SQL Server, ${database}`, upsertTargetOnSqlServer(server.transport(database)))
 */
export function upsertTargetOnSqlServer(transport: SqlTransport): () => Promise<UpsertTargetUnderTest> {
	return async () => {
		await transport.execute({ text: 'DELETE FROM dbo.SalesOrder; DELETE FROM dbo.Company; DELETE FROM dbo.Contact;', parameters: [] });
		return {
			target: new SqlServerUpsertTarget(transport),
			rows: async (table) => (await transport.execute({ text: `SELECT * FROM ${quoteQualifiedName(table)};`, parameters: [] })).recordsets[0] ?? [],
		};
	};
}

async function companyPlan(target: UpsertTarget, columns = ['CustomerNo', 'Name', 'City']): Promise<UpsertPlan> {
	const table = await target.describe(COMPANY);
	return planUpsert(table, manuallyMappedColumns(table, columns), defaultMatchColumns(table), []);
}

async function orderPlan(target: UpsertTarget): Promise<UpsertPlan> {
	const table = await target.describe(SALES_ORDER);
	const lookup = resolveLookup(table, ORDER_COMPANY_LOOKUP, await target.describe(COMPANY));
	return planUpsert(table, manuallyMappedColumns(table, ['OrderNo', 'Description', 'Amount']), defaultMatchColumns(table), [lookup]);
}

const row = (ordinal: number, values: TargetValue[], lookupKeys: TargetValue[] = []): UpsertRow => ({ ordinal, values, lookupKeys });
const statuses = (outcomes: RowOutcome[]) => outcomes.map((outcome) => [outcome.ordinal, outcome.status]);
const byNumber = (rows: Array<Record<string, unknown>>, column: string) => [...rows].sort((a, b) => Number(a[column]) - Number(b[column]));
const write = { dryRun: false };

export function upsertTargetContract(name: string, open: () => Promise<UpsertTargetUnderTest>): void {
	describe(`UpsertTarget contract: ${name}`, () => {
		it('describes a table from its catalogue: the identity key, the natural key to match on', async () => {
			const { target } = await open();
			const table = await target.describe(COMPANY);
			assert.deepEqual(table.primaryKey, ['CompanyId']);
			assert.deepEqual(defaultMatchColumns(table), ['CustomerNo']);
			const companyId = table.columns.find((column) => column.name === 'CompanyId');
			assert.equal(companyId?.isIdentity, true);
			assert.equal(table.columns.find((column) => column.name === 'Name')?.nullable, false);
		});

		it('inserts new rows, leaves equal rows unchanged and updates changed ones (a change of case included)', async () => {
			const { target, rows } = await open();
			const plan = await companyPlan(target);
			const first = [row(0, [1, 'Acme', 'Oslo']), row(1, [2, 'Bolt', 'Bergen'])];
			assert.deepEqual(statuses(await target.upsert(plan, first, write)), [[0, 'inserted'], [1, 'inserted']]);
			assert.deepEqual(statuses(await target.upsert(plan, first, write)), [[0, 'unchanged'], [1, 'unchanged']]);
			const changed = [row(0, [1, 'ACME', 'Oslo']), row(1, [2, 'Bolt', null])];
			assert.deepEqual(statuses(await target.upsert(plan, changed, write)), [[0, 'updated'], [1, 'updated']]);
			const stored = byNumber(await rows(COMPANY), 'CustomerNo');
			assert.deepEqual(stored.map((company) => [company.CustomerNo, company.Name, company.City, company.IsActive]), [
				[1, 'ACME', 'Oslo', true],
				[2, 'Bolt', null, true],
			]);
		});

		it('leaves columns it does not write alone', async () => {
			const { target, rows } = await open();
			await target.upsert(await companyPlan(target, ['CustomerNo', 'Name', 'Email']), [row(0, [1, 'Acme', 'post@acme.no'])], write);
			await target.upsert(await companyPlan(target, ['CustomerNo', 'Name']), [row(0, [1, 'Acme AS'])], write);
			const [company] = await rows(COMPANY);
			assert.equal(company.Email, 'post@acme.no');
			assert.equal(company.Name, 'Acme AS');
		});

		it('dry run reports what would happen and writes nothing', async () => {
			const { target, rows } = await open();
			const plan = await companyPlan(target);
			await target.upsert(plan, [row(0, [1, 'Acme', 'Oslo']), row(1, [2, 'Bolt', 'Bergen'])], write);
			const outcomes = await target.upsert(plan, [row(5, [1, 'Acme', 'Oslo']), row(6, [2, 'Bolt AS', 'Bergen']), row(7, [3, 'Cog', null])], { dryRun: true });
			assert.deepEqual(statuses(outcomes), [[5, 'unchanged'], [6, 'updated'], [7, 'inserted']]);
			assert.deepEqual(byNumber(await rows(COMPANY), 'CustomerNo').map((company) => company.Name), ['Acme', 'Bolt']);
		});

		it('looks up a column from another table by a natural key; a missing row fails only its own row', async () => {
			const { target, rows } = await open();
			await target.upsert(await companyPlan(target), [row(0, [10, 'Acme', null])], write);
			const [acme] = await rows(COMPANY);
			const plan = await orderPlan(target);
			const outcomes = await target.upsert(plan, [row(0, [100, 'Bricks', '12.50'], [10]), row(1, [101, 'Mortar', '3.00'], [999])], write);
			assert.deepEqual(statuses(outcomes), [[0, 'inserted'], [1, 'failed']]);
			assert.equal(outcomes[1].error?.message, 'Customer 999 is not in CRM yet (dbo.Company.CustomerNo)');
			assert.equal(outcomes[1].error?.column, 'CompanyId');
			const orders = await rows(SALES_ORDER);
			assert.deepEqual(orders.map((order) => [order.OrderNo, order.CompanyId, Number(order.Amount)]), [[100, acme.CompanyId, 12.5]]);
		});

		it('writes decimals beyond a double\'s precision exactly: a change in the 18th digit is an update, the same value unchanged', async () => {
			const { target } = await open();
			await target.upsert(await companyPlan(target), [row(0, [10, 'Acme', null])], write);
			const plan = await orderPlan(target);
			assert.deepEqual(statuses(await target.upsert(plan, [row(0, [100, 'Bricks', '1234567890123456.78'], [10])], write)), [[0, 'inserted']]);
			assert.deepEqual(statuses(await target.upsert(plan, [row(0, [100, 'Bricks', '1234567890123456.78'], [10])], write)), [[0, 'unchanged']]);
			assert.deepEqual(statuses(await target.upsert(plan, [row(0, [100, 'Bricks', '1234567890123456.79'], [10])], write)), [[0, 'updated']], 'equal as doubles');
		});

		it('refuses a whole batch for one bad row, with SQL Server\'s error number, and writes nothing of it', async () => {
			const { target, rows } = await open();
			const plan = await companyPlan(target);
			await assert.rejects(
				target.upsert(plan, [row(0, [1, 'Acme', null]), row(1, [2, null, null])], write),
				(error: Error & { number?: number }) => error.number === 515 && /Name/.test(error.message),
			);
			assert.equal((await rows(COMPANY)).length, 0);
		});

		it('a CRM trigger refusing a row (with or without ROLLBACK) refuses its whole batch with the trigger\'s number and words, and keeps nothing of it', async () => {
			const { target, rows } = await open();
			const plan = await companyPlan(target);
			await target.upsert(plan, [row(0, [1, 'Acme AS', 'Oslo'])], write);
			for (const [refused, words] of [
				[row(2, [3, 'BLOCKED customer', 'Oslo']), /Customer is blocked in CRM/],
				[row(2, [3, 'Nowhere AS', 'Nowhere']), /City Nowhere is not allowed in CRM/],
			] as const) {
				await assert.rejects(
					target.upsert(plan, [row(0, [1, 'Acme Renamed AS', 'Oslo']), row(1, [2, 'Beta AS', 'Bergen']), refused], write),
					(error: Error & { number?: number }) => (error.number ?? 0) >= 50000 && words.test(error.message),
				);
				assert.deepEqual((await rows(COMPANY)).map((company) => [company.CustomerNo, company.Name]), [[1, 'Acme AS']], 'nothing of the refused batch is kept');
			}
			assert.deepEqual(statuses(await target.upsert(plan, [row(0, [1, 'Acme Renamed AS', 'Oslo']), row(1, [2, 'Beta AS', 'Bergen'])], write)), [[0, 'updated'], [1, 'inserted']]);
		});

		it('matches on a key whose collation is not the database\'s: case tells keys apart there, trailing spaces do not', async () => {
			const { target, rows } = await open();
			const table = await target.describe(CONTACT);
			const plan = planUpsert(table, manuallyMappedColumns(table, ['ContactCode', 'Title']), ['ContactCode'], []);
			assert.deepEqual(statuses(await target.upsert(plan, [row(0, ['ab', 'Один']), row(1, ['AB', 'Два'])], write)), [[0, 'inserted'], [1, 'inserted']]);
			assert.deepEqual(statuses(await target.upsert(plan, [row(0, ['ab  ', 'Один'])], write)), [[0, 'unchanged']]);
			assert.equal((await rows(CONTACT)).length, 2);
		});

		it('sees a change between two characters outside code page 1252 in a varchar of another code page, and compares text / ntext', async () => {
			const { target, rows } = await open();
			const table = await target.describe(CONTACT);
			const plan = planUpsert(table, manuallyMappedColumns(table, ['ContactCode', 'Title', 'Notes', 'Memo']), ['ContactCode'], []);
			await target.upsert(plan, [row(0, ['c1', 'Дом', 'long note', 'long memo ø'])], write);
			assert.deepEqual(statuses(await target.upsert(plan, [row(0, ['c1', 'Дом', 'long note', 'long memo ø'])], write)), [[0, 'unchanged']]);
			assert.deepEqual(statuses(await target.upsert(plan, [row(0, ['c1', 'Жом', 'long note', 'long memo ø'])], write)), [[0, 'updated']], 'Д and Ж are both "?" in code page 1252');
			assert.deepEqual(statuses(await target.upsert(plan, [row(0, ['c1', 'Жом', 'Long note', 'long memo ø'])], write)), [[0, 'updated']], 'a change of case in a text column');
			assert.deepEqual(statuses(await target.upsert(plan, [row(0, ['c1', 'Жом', 'Long note', 'long memo Ø'])], write)), [[0, 'updated']], 'a change of case in an ntext column');
			assert.deepEqual((await rows(CONTACT)).map((contact) => [contact.Title, contact.Notes, contact.Memo]), [['Жом', 'Long note', 'long memo Ø']]);
		});

		it('refuses two rows for one new key in one batch (the caller merges them first)', async () => {
			const { target, rows } = await open();
			const plan = await companyPlan(target);
			await assert.rejects(target.upsert(plan, [row(0, [1, 'Acme', null]), row(1, [1, 'Acme AS', null])], write), (error: Error & { number?: number }) =>
				[2627, 2601, 8672].includes(error.number ?? 0),
			);
			assert.equal((await rows(COMPANY)).length, 0);
		});

		async function deletes(target: UpsertTarget, handling: DeleteHandling['kind'], assignments = [{ column: 'IsActive', value: '0' }, { column: 'DeletedAt', value: 'now' }]) {
			const plan = await companyPlan(target);
			await target.upsert(plan, [row(0, [1, 'Acme', null]), row(1, [2, 'Bolt', null])], write);
			return planDelete(await target.describe(COMPANY), plan.matchColumns, handling, assignments);
		}

		it('deletes the matched CRM rows; a key CRM does not have is unchanged', async () => {
			const { target, rows } = await open();
			const plan = await deletes(target, 'delete');
			assert.deepEqual(statuses(await target.delete(plan, [{ ordinal: 0, key: [1] }, { ordinal: 1, key: [3] }], write)), [[0, 'deleted'], [1, 'unchanged']]);
			assert.deepEqual((await rows(COMPANY)).map((company) => company.CustomerNo), [2]);
		});

		it('marks deleted rows by setting columns, once: a second delete leaves the first DeletedAt', async () => {
			const { target, rows } = await open();
			const plan = await deletes(target, 'markDeleted');
			assert.deepEqual(statuses(await target.delete(plan, [{ ordinal: 0, key: [1] }], write)), [[0, 'deleted']]);
			const [marked] = (await rows(COMPANY)).filter((company) => company.CustomerNo === 1);
			assert.equal(marked.IsActive, false);
			assert.notEqual(marked.DeletedAt, null);
			assert.deepEqual(statuses(await target.delete(plan, [{ ordinal: 3, key: [1] }], write)), [[3, 'unchanged']]);
			const [again] = (await rows(COMPANY)).filter((company) => company.CustomerNo === 1);
			assert.deepEqual(again.DeletedAt, marked.DeletedAt);
			const [other] = (await rows(COMPANY)).filter((company) => company.CustomerNo === 2);
			assert.equal(other.IsActive, true);
		});

		it('dry run of deletes reports and writes nothing', async () => {
			const { target, rows } = await open();
			const plan = await deletes(target, 'delete');
			assert.deepEqual(statuses(await target.delete(plan, [{ ordinal: 0, key: [1] }, { ordinal: 1, key: [7] }], { dryRun: true })), [[0, 'deleted'], [1, 'unchanged']]);
			assert.equal((await rows(COMPANY)).length, 2);
		});

		it('ignores deletes when told to, without touching CRM', async () => {
			const { target, rows } = await open();
			const plan = await deletes(target, 'ignore');
			assert.deepEqual(statuses(await target.delete(plan, [{ ordinal: 0, key: [1] }], write)), [[0, 'ignored']]);
			assert.equal((await rows(COMPANY)).length, 2);
		});
	});
}
