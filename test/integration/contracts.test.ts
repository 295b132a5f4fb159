/**
 * The store contract suites (test/contract/) against the SQL Server adapters, on the real server MSSQL_URL names.
 * `npm test` runs the same suites against the in-memory adapters; passing both is what makes the in-memory
 * stores a faithful stand-in for SQL Server in the workflow-level tests.
 */
import { SqlServerWatermarkStore } from '../../nodes/Watermark/stores/sqlServerWatermarkStore';
import type { WatermarkTables } from '../../nodes/Watermark/stores/watermarkStore';
import { changeSourceContract, sqlServerChangeSourceHarness } from '../contract/changeSource.contract';
import { upsertTargetContract, upsertTargetOnSqlServer } from '../contract/upsertTarget.contract';
import { watermarkStatusContract } from '../contract/watermarkStatus.contract';
import { watermarkStoreContract } from '../contract/watermarkStore.contract';
import { TEST_DATABASES, describeAgainstSqlServer } from './support/sqlServerUnderTest';

let watermarkTablesCreated = 0;

/** Tables of its own for each store (the retry list's too, created by its first refused row), so no contract test sees another's streams. */
function freshWatermarkTables(): WatermarkTables {
	const name = `WatermarkContract${++watermarkTablesCreated}`;
	return { state: { schema: 'dbo', name }, history: { schema: 'dbo', name: `${name}History` }, retry: { schema: 'dbo', name: `${name}Retry` } };
}

describeAgainstSqlServer('store contracts against SQL Server', (suite) => {
	// Change Tracking scenarios need a database with Change Tracking on: ContractingTest has it.
	suite.tests(`change source in ${TEST_DATABASES.contracting}`, (server) => {
		changeSourceContract(`SQL Server, ${TEST_DATABASES.contracting}`, async () =>
			sqlServerChangeSourceHarness(server.transport(TEST_DATABASES.contracting)),
		);
	});

	// Level 160 writes through OPENJSON, level 120 through chunks of typed parameters: both must mean the same.
	// The harness empties dbo.Company and dbo.SalesOrder before each test.
	for (const database of [TEST_DATABASES.crm, TEST_DATABASES.crmLegacy]) {
		suite.tests(`upsert target in ${database}`, (server) => {
			upsertTargetContract(`SQL Server, ${database}`, upsertTargetOnSqlServer(server.transport(database)));
		});
	}

	// The watermark tables may live in either database; a CRM database may still be at compatibility level 120.
	for (const database of [TEST_DATABASES.contracting, TEST_DATABASES.crmLegacy]) {
		suite.tests(`watermark store in ${database}`, (server) => {
			watermarkStoreContract(
				`SQL Server, ${database}`,
				async () => new SqlServerWatermarkStore(server.transport(database), freshWatermarkTables()),
			);
			watermarkStatusContract(`SQL Server, ${database}`, async () => new SqlServerWatermarkStore(server.transport(database), freshWatermarkTables()));
		});
	}
});
