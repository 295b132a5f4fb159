/**
 * The store contract suites (test/contract/) against the SQL Server adapters, on the real server MSSQL_URL names.
 * `npm test` runs the same suites against the in-memory adapters; passing both is what makes the in-memory
 * stores a faithful stand-in for SQL Server in the workflow-level tests.
 */
import { SqlServerWatermarkStore } from '../../nodes/Watermark/stores/sqlServerWatermarkStore';
import type { WatermarkTables } from '../../nodes/Watermark/stores/watermarkStore';
import { watermarkStoreContract } from '../contract/watermarkStore.contract';
import { TEST_DATABASES, describeAgainstSqlServer } from './support/sqlServerUnderTest';

let tablesCreated = 0;

/** Tables of its own for each store, so no contract test sees another's streams. */
function freshWatermarkTables(): WatermarkTables {
	const name = `WatermarkContract${++tablesCreated}`;
	return { state: { schema: 'dbo', name }, history: { schema: 'dbo', name: `${name}History` } };
}

describeAgainstSqlServer('store contracts against SQL Server', (suite) => {
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
