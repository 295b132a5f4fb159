import assert from 'node:assert/strict';

import type { CatalogTable } from '../../nodes/shared/catalog';
import { UnknownTableError, columnNamed, describeTable, listTables } from '../../nodes/shared/catalog';
import { displayQualifiedName } from '../../nodes/shared/core/identifiers';
import type { SqlType } from '../../nodes/shared/transport/types';
import { TEST_DATABASES, describeAgainstSqlServer } from './support/sqlServerUnderTest';

const dbo = (name: string) => ({ schema: 'dbo', name });

function typeOf(table: CatalogTable, column: string): SqlType | undefined {
	return columnNamed(table, column).sqlType;
}

describeAgainstSqlServer('the catalogue read from a real SQL Server', (suite) => {
	suite.test('lists the tables of a database, filtered by name', async (server) => {
		const transport = server.transport(TEST_DATABASES.contracting);
		const all = await listTables(transport);
		assert.deepEqual(all.map((table) => displayQualifiedName(table.name)).sort(), ['dbo.Customers', 'dbo.Orders']);
		const filtered = await listTables(transport, 'Cust');
		assert.deepEqual(filtered.map((table) => table.name), [dbo('Customers')]);
	});

	suite.test('describes each kind of change marker column with the parameter type that matches it', async (server) => {
		const transport = server.transport(TEST_DATABASES.contracting);
		const customers = await describeTable(transport, dbo('Customers'));
		assert.deepEqual(customers.primaryKey, ['CustomerNo']);
		assert.equal(customers.changeTracking, false);
		assert.deepEqual(typeOf(customers, 'ChangedAt'), { name: 'datetime2', scale: 7 });
		assert.deepEqual(typeOf(customers, 'LastChangeDate'), { name: 'int' });
		assert.deepEqual(typeOf(customers, 'RowVer'), { name: 'rowversion', length: 8 });
		assert.deepEqual(typeOf(customers, 'Name'), { name: 'nvarchar', length: 100 });
		assert.deepEqual(typeOf(customers, 'OrgNo'), { name: 'varchar', length: 20 });
		assert.equal(columnNamed(customers, 'Name').nullable, false);
		assert.equal(columnNamed(customers, 'Email').nullable, true);

		const orders = await describeTable(transport, dbo('Orders'));
		assert.equal(orders.changeTracking, true);
		assert.deepEqual(typeOf(orders, 'ChangedAt'), { name: 'datetime' });
		assert.deepEqual(typeOf(orders, 'Amount'), { name: 'decimal', precision: 18, scale: 2 });
		assert.deepEqual(typeOf(orders, 'OrderDate'), { name: 'date' });
	});

	suite.test('finds the natural keys of the CRM tables next to their identity keys', async (server) => {
		const transport = server.transport(TEST_DATABASES.crm);
		const company = await describeTable(transport, dbo('Company'));
		assert.deepEqual(company.primaryKey, ['CompanyId']);
		assert.deepEqual(company.uniqueKeys, [['CompanyId'], ['CustomerNo']]);
		assert.equal(columnNamed(company, 'CompanyId').isIdentity, true);
		assert.equal(columnNamed(company, 'IsActive').hasDefault, true);
		assert.deepEqual(typeOf(company, 'DeletedAt'), { name: 'datetime2', scale: 3 });

		const salesOrder = await describeTable(transport, dbo('SalesOrder'));
		assert.deepEqual(salesOrder.uniqueKeys, [['SalesOrderId'], ['OrderNo']]);
		assert.equal(columnNamed(salesOrder, 'OrderNo').inUniqueIndex, true);
		assert.equal(columnNamed(salesOrder, 'CompanyId').inUniqueIndex, false);
	});

	suite.test('describes the same CRM tables on a database at compatibility level 120', async (server) => {
		const company = await describeTable(server.transport(TEST_DATABASES.crmLegacy), dbo('Company'));
		assert.deepEqual(company.uniqueKeys, [['CompanyId'], ['CustomerNo']]);
	});

	suite.test('names a table SQL Server does not know', async (server) => {
		await assert.rejects(
			describeTable(server.transport(TEST_DATABASES.crm), dbo('Customer')),
			(error: unknown) => error instanceof UnknownTableError && error.message.includes('dbo.Customer'),
		);
	});
});
