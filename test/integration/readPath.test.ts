/**
 * The read path's SQL Server defects of issue 11, against the representative schemas (test/integration/sql):
 * dbo.Customers' legacy date + time pair (items 1 and 2), dbo.Orders' Change Tracking (item 6), key columns that
 * do not identify one row, on a table and through a view (item 7), and unique indexes that are filtered or disabled
 * (item 8). Each scenario makes the objects it needs and drops them again.
 */
import assert from 'node:assert/strict';

import { SqlServerChangeSource } from '../../nodes/Contracting/stores/sqlServerChangeSource';
import { columnNamed, describeTable } from '../../nodes/shared/catalog';
import { beginningCursor } from '../../nodes/shared/core/cursor';
import { identifiesOneRow } from '../../nodes/shared/core/mapping';
import { ChangeSourceError } from '../../nodes/shared/core/markers';
import { readEverything } from '../contract/changeSource.contract';
import { sourceSpecFor } from '../support/sourceSpec';
import { TEST_DATABASES, describeAgainstSqlServer } from './support/sqlServerUnderTest';

const LEGACY_MARKER = { kind: 'dateAndTime', dateColumn: 'LastChangeDate', timeColumn: 'LastChangeTime', timeEncoding: 'hhmmss' } as const;
const stoppedWith = (pattern: RegExp) => (error: unknown) => error instanceof ChangeSourceError && pattern.test(error.message);

describeAgainstSqlServer('the read path on SQL Server: issue 11', (suite) => {
	suite.test('item 1: rows of dbo.Customers without a last change date are all read, in (time, key) order, one per batch', async (server) => {
		const transport = server.transport(TEST_DATABASES.contracting);
		await transport.execute({
			text: `DELETE FROM dbo.Orders; DELETE FROM dbo.Customers;
INSERT INTO dbo.Customers (CustomerNo, Name, Active, LastChangeDate, LastChangeTime) VALUES
(2, N'midnight', 1, NULL, 0), (1, N'noon', 1, NULL, 120000), (3, N'dated', 1, 20100604, 93000);`,
			parameters: [],
		});
		const read = await readEverything(new SqlServerChangeSource(transport), sourceSpecFor('dbo.Customers', LEGACY_MARKER), beginningCursor('dateAndTime'), 1);
		assert.deepEqual(read.rows.map((row) => row.values.CustomerNo), [2, 1, 3]);
	});

	suite.test('item 2: a zero or impossible last change date/time is read as no date, and the stream goes on', async (server) => {
		const transport = server.transport(TEST_DATABASES.contracting);
		await transport.execute({
			text: `DELETE FROM dbo.Orders; DELETE FROM dbo.Customers;
INSERT INTO dbo.Customers (CustomerNo, Name, Active, LastChangeDate, LastChangeTime) VALUES
(1, N'zero', 1, 0, 0), (2, N'30 February', 1, 20100230, 93000), (3, N'25 o''clock', 1, 20100604, 250000), (4, N'good', 1, 20100604, 93000);`,
			parameters: [],
		});
		const source = new SqlServerChangeSource(transport);
		const read = await readEverything(source, sourceSpecFor('dbo.Customers', LEGACY_MARKER), beginningCursor('dateAndTime'), 2);
		assert.deepEqual(read.rows.map((row) => row.values.CustomerNo), [1, 2, 3, 4]);
		assert.deepEqual(read.rows.slice(0, 3).map((row) => row.marker), [null, null, null], 'read with the rows without a date, first');
		assert.match(read.rows[3].marker ?? '', /^2010-06-04T09:30:00(\.0+)?$/);
		const never = await readEverything(source, sourceSpecFor('dbo.Customers', LEGACY_MARKER, { nullMarkers: 'never' }), beginningCursor('dateAndTime'), 10);
		assert.deepEqual(never.rows.map((row) => row.values.CustomerNo), [4]);
	});

	suite.test('item 6: a Change Tracking read of dbo.Orders whose versions are forgotten after the window opened stops before any row', async (server) => {
		const transport = server.transport(TEST_DATABASES.contracting);
		await transport.execute({ text: "DELETE FROM dbo.Orders; INSERT INTO dbo.Orders (OrderNo, CustomerNo, Status) VALUES (1, 1, 'open');", parameters: [] });
		const source = new SqlServerChangeSource(transport);
		const spec = sourceSpecFor('dbo.Orders', { kind: 'changeTracking' }, { stream: 'orders' });
		const initial = await readEverything(source, spec, beginningCursor('changeTracking'), 10);
		await transport.execute({ text: "UPDATE dbo.Orders SET Status = 'closed' WHERE OrderNo = 1;", parameters: [] });
		const plan = await source.describe(spec);
		const window = await source.openWindow(plan, initial.last);
		// Turning Change Tracking off and on forgets the table's versions as a cleanup would, between the check and the read.
		await transport.execute({ text: 'ALTER TABLE dbo.Orders DISABLE CHANGE_TRACKING;\nALTER TABLE dbo.Orders ENABLE CHANGE_TRACKING WITH (TRACK_COLUMNS_UPDATED = OFF);', parameters: [] });
		await assert.rejects(source.readBatch(plan, window, initial.last, 10), stoppedWith(/no longer holds the changes/));
	});

	suite.test('item 7: keys of dbo.Customers that allow NULL or are not unique are refused; a view repeating a key stops the read', async (server) => {
		const transport = server.transport(TEST_DATABASES.contracting);
		await transport.execute({
			text: `DELETE FROM dbo.Orders; DELETE FROM dbo.Customers;
INSERT INTO dbo.Customers (CustomerNo, Name, City, Active, ChangedAt) VALUES (1, N'a', N'Oslo', 1, '2020-01-01'), (2, N'b', N'Oslo', 1, '2020-01-01');
IF OBJECT_ID(N'dbo.CustomersByCity', N'V') IS NOT NULL DROP VIEW dbo.CustomersByCity;`,
			parameters: [],
		});
		await transport.execute({ text: 'CREATE VIEW dbo.CustomersByCity AS SELECT City, Name, ChangedAt FROM dbo.Customers;', parameters: [] });
		try {
			const source = new SqlServerChangeSource(transport);
			const marker = { kind: 'datetime', column: 'ChangedAt' } as const;
			await assert.rejects(source.describe(sourceSpecFor('dbo.Customers', marker, { keyColumns: ['City'] })), stoppedWith(/"City" .* allows NULL/));
			await assert.rejects(source.describe(sourceSpecFor('dbo.Customers', marker, { keyColumns: ['Active'] })), stoppedWith(/are not unique/));
			const view = sourceSpecFor('dbo.CustomersByCity', marker, { keyColumns: ['City'] });
			await assert.rejects(readEverything(source, view, beginningCursor('datetime'), 1), stoppedWith(/Two rows of dbo\.CustomersByCity have the same key \(City "Oslo"\)/));
		} finally {
			await transport.execute({ text: 'DROP VIEW dbo.CustomersByCity;', parameters: [] });
		}
	});

	suite.test('item 8: a filtered or disabled unique index on dbo.Company is not a natural key', async (server) => {
		const transport = server.transport(TEST_DATABASES.crm);
		await transport.execute({
			text: `DELETE FROM dbo.SalesOrder; DELETE FROM dbo.Company;
CREATE UNIQUE INDEX UX_Company_OrgNo_Filtered ON dbo.Company (OrgNo) WHERE OrgNo IS NOT NULL;
CREATE UNIQUE INDEX UX_Company_Email_Disabled ON dbo.Company (Email);
ALTER INDEX UX_Company_Email_Disabled ON dbo.Company DISABLE;`,
			parameters: [],
		});
		try {
			const company = await describeTable(transport, { schema: 'dbo', name: 'Company' });
			assert.deepEqual(company.uniqueKeys, [['CompanyId'], ['CustomerNo']]);
			assert.equal(columnNamed(company, 'OrgNo').inUniqueIndex, false);
			assert.equal(identifiesOneRow(company, ['OrgNo']), false);
			assert.equal(identifiesOneRow(company, ['Email']), false);
		} finally {
			await transport.execute({ text: 'DROP INDEX UX_Company_OrgNo_Filtered ON dbo.Company;\nDROP INDEX UX_Company_Email_Disabled ON dbo.Company;', parameters: [] });
		}
	});

	suite.test('item 10: a geography column is listed as not mappable, with the reason', async (server) => {
		const transport = server.transport(TEST_DATABASES.crm);
		await transport.execute({ text: 'ALTER TABLE dbo.Company ADD Site geography NULL;', parameters: [] });
		try {
			const company = await describeTable(transport, { schema: 'dbo', name: 'Company' });
			assert.match(columnNamed(company, 'Site').notMappable ?? '', /CLR type \(geography\)/);
		} finally {
			await transport.execute({ text: 'ALTER TABLE dbo.Company DROP COLUMN Site;', parameters: [] });
		}
	});
});
