/**
 * The benchmark against the real SQL Server MSSQL_URL names: the integration suite's databases are re-created
 * from test/integration/sql, Contracting gets N customers (the same values the fake server generates) by one
 * set-based INSERT … SELECT from a numbers CTE, and CRM gets them too, as a previous sync left them. The
 * watermark tables are new, so the sync starts from the beginning: the state a rewind to the beginning leaves.
 */
import { restoreAllSeams } from '../../nodes/shared/seams';
import { closeAllPools } from '../../nodes/shared/transport/mssqlTransport';
import { connectWith } from '../../nodes/shared/transport/connect';
import { credentialData, parseMssqlUrl } from '../support/mssqlUrl';
import { TEST_DATABASES, recreateTestDatabases } from '../integration/support/sqlServerUnderTest';
import type { ScenarioResult, ScenarioSpec } from './scenario';
import { measureScenario, sqlServerBackend } from './scenario';

/** Customer n as test/bench/fakeSqlServer.ts customerRow(n) has it. */
const LOAD_CUSTOMERS = `SET NOCOUNT ON;
WITH digits AS (SELECT d FROM (VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)) AS v(d)),
numbers AS (
	-- int, not ROW_NUMBER's bigint: DATEADD takes an int.
	SELECT TOP (@count) CONVERT(int, ROW_NUMBER() OVER (ORDER BY (SELECT NULL))) AS n
	FROM digits a CROSS JOIN digits b CROSS JOIN digits c CROSS JOIN digits d CROSS JOIN digits e CROSS JOIN digits f CROSS JOIN digits g
)
INSERT INTO dbo.Customers (CustomerNo, Name, OrgNo, Address, PostCode, City, Email, Phone, Active, ChangedAt, LastChangeDate, LastChangeTime)
SELECT n, CONCAT(N'Kunde ', n, N' AS'), CONVERT(varchar(20), 900000000 + n), CONCAT(N'Storgata ', n % 200 + 1),
       RIGHT(CONCAT('0000', 1000 + n % 9000), 4), CASE WHEN n % 3 = 0 THEN N'Bergen' ELSE N'Oslo' END,
       CONCAT(N'post', n, N'@kunde.example'), CONCAT('+47 ', 20000000 + n), CASE WHEN n % 10 = 0 THEN 0 ELSE 1 END,
       DATEADD(second, n, CONVERT(datetime2(7), '2024-01-01T00:00:00.1234567', 126)),
       YEAR(t.wallClock) * 10000 + MONTH(t.wallClock) * 100 + DAY(t.wallClock),
       DATEPART(hour, t.wallClock) * 10000 + DATEPART(minute, t.wallClock) * 100 + DATEPART(second, t.wallClock)
FROM numbers CROSS APPLY (SELECT DATEADD(second, n, CONVERT(datetime2(0), '2024-01-01T00:00:00', 126)) AS wallClock) AS t;`;

const COPY_INTO_CRM = `SET NOCOUNT ON;
INSERT INTO dbo.Company (CustomerNo, Name, OrgNo, Address, PostCode, City, Email, Phone, IsActive)
SELECT CustomerNo, Name, OrgNo, Address, PostCode, City, Email, Phone, Active FROM [${TEST_DATABASES.contracting}].[dbo].[Customers];`;

export async function runAgainstSqlServer(spec: ScenarioSpec): Promise<ScenarioResult> {
	const url = parseMssqlUrl(process.env.MSSQL_URL ?? '');
	const credential = (database: string) => credentialData(url, database);
	try {
		await recreateTestDatabases({ url, credential, transport: (database) => connectWith(credential(database)).transport });
		await connectWith(credential(TEST_DATABASES.contracting)).transport.execute({
			text: LOAD_CUSTOMERS,
			parameters: [{ name: 'count', type: { name: 'int' }, value: spec.customers }],
		});
		await connectWith(credential(TEST_DATABASES.crm)).transport.execute({ text: COPY_INTO_CRM, parameters: [] });
		const backend = sqlServerBackend({
			contractingSqlServerApi: credential(TEST_DATABASES.contracting),
			crmSqlServerApi: credential(TEST_DATABASES.crm),
		});
		return await measureScenario(spec, backend);
	} finally {
		restoreAllSeams();
		await closeAllPools();
	}
}
