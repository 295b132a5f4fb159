/**
 * The outcome tables of the statements whose logic decides correctness, against the SQL Server adapters on the
 * real server MSSQL_URL names: the same rows `npm test` runs against the in-memory stores
 * (test/unit/watermarkOutcomes.test.ts), so the T-SQL is proven by what it decides, not by its text.
 */
import { SqlServerWatermarkStore } from '../../nodes/Watermark/stores/sqlServerWatermarkStore';
import { readOutcomeTables, sqlServerReadOutcomeHarness } from '../contract/readOutcomes.contract';
import { watermarkOutcomeTables } from '../contract/watermarkOutcomes.contract';
import { TEST_DATABASES, describeAgainstSqlServer } from './support/sqlServerUnderTest';

let tablesCreated = 0;

describeAgainstSqlServer('outcome tables against SQL Server', (suite) => {
	// Change Tracking is on in ContractingTest.
	suite.tests(`the Contracting read in ${TEST_DATABASES.contracting}`, (server) => {
		readOutcomeTables(`SQL Server, ${TEST_DATABASES.contracting}`, async () => sqlServerReadOutcomeHarness(server.transport(TEST_DATABASES.contracting)));
	});

	// Level 120 has no OPENJSON: the retry list's XML must decide the same there.
	for (const database of [TEST_DATABASES.contracting, TEST_DATABASES.crmLegacy]) {
		suite.tests(`watermark Set and the retry list in ${database}`, (server) => {
			watermarkOutcomeTables(`SQL Server, ${database}`, async () => {
				const name = `WatermarkOutcomes${++tablesCreated}`;
				return new SqlServerWatermarkStore(server.transport(database), {
					state: { schema: 'dbo', name },
					history: { schema: 'dbo', name: `${name}History` },
					retry: { schema: 'dbo', name: `${name}Retry` },
				});
			});
		});
	}
});
