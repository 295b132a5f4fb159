/**
 * The store contract suites (test/contract/) against the SQL Server adapters, on the real server MSSQL_URL names.
 * `npm test` runs the same suites against the in-memory adapters; passing both is what makes the in-memory
 * stores a faithful stand-in for SQL Server in the workflow-level tests.
 */
import { SqlServerUpsertTarget } from '../../nodes/Crm/stores/sqlServerUpsertTarget';
import type { QualifiedName } from '../../nodes/shared/core/identifiers';
import { quoteQualifiedName } from '../../nodes/shared/core/identifiers';
import { SqlServerWatermarkStore } from '../../nodes/Watermark/stores/sqlServerWatermarkStore';
import type { WatermarkTables } from '../../nodes/Watermark/stores/watermarkStore';
import { changeSourceContract, sqlServerChangeSourceHarness } from '../contract/changeSource.contract';
import { COMPANY, SALES_ORDER, upsertTargetContract } from '../contract/upsertTarget.contract';
import { watermarkStoreContract } from '../contract/watermarkStore.contract';
import type { SqlServerUnderTest } from './support/sqlServerUnderTest';
import { TEST_DATABASES, describeAgainstSqlServer } from './support/sqlServerUnderTest';

let watermarkTablesCreated = 0;

/** Tables of its own for each store, so no contract test sees another's streams. */
function freshWatermarkTables(): WatermarkTables {
	const name = `WatermarkContract${++watermarkTablesCreated}`;
	return { state: { schema: 'dbo', name }, history: { schema: 'dbo', name: `${name}History` } };
}

/** A target over the representative CRM tables of one database, emptied first (orders before the companies they reference). */
async function emptiedCrm(server: SqlServerUnderTest, database: string) {
	const transport = server.transport(database);
	await transport.execute({
		text: `DELETE FROM ${quoteQualifiedName(SALES_ORDER)};\nDELETE FROM ${quoteQualifiedName(COMPANY)};`,
		parameters: [],
	});
	return {
		target: new SqlServerUpsertTarget(transport),
		rows: async (table: QualifiedName) =>
			(await transport.execute({ text: `SELECT * FROM ${quoteQualifiedName(table)};`, parameters: [] })).recordsets[0] ?? [],
	};
}

describeAgainstSqlServer('store contracts against SQL Server', (suite) => {
	// Change Tracking scenarios need a database with Change Tracking on: ContractingTest has it.
	suite.tests(`change source in ${TEST_DATABASES.contracting}`, (server) => {
		changeSourceContract(`SQL Server, ${TEST_DATABASES.contracting}`, async () =>
			sqlServerChangeSourceHarness(server.transport(TEST_DATABASES.contracting)),
		);
	});

	// Level 160 writes through OPENJSON, level 120 through chunks of typed parameters: both must mean the same.
	for (const database of [TEST_DATABASES.crm, TEST_DATABASES.crmLegacy]) {
		suite.tests(`upsert target in ${database}`, (server) => {
			upsertTargetContract(`SQL Server, ${database}`, async () => await emptiedCrm(server, database));
		});
	}

	// The watermark tables may live in either database; a CRM database may still be at compatibility level 120.
	for (const database of [TEST_DATABASES.contracting, TEST_DATABASES.crmLegacy]) {
		suite.tests(`watermark store in ${database}`, (server) => {
			watermarkStoreContract(
				`SQL Server, ${database}`,
				async () => new SqlServerWatermarkStore(server.transport(database), freshWatermarkTables()),
			);
		});
	}
});
