import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import type { ICredentialTestFunctions } from 'n8n-workflow';

import { markerProblem } from '../../nodes/shared/core/cursor';
import { PARAMETERS_FOR_VALUES } from '../../nodes/shared/core/upsertSql';
import { sqlServerConnectionTest } from '../../nodes/shared/methods/credentialTest';
import { connectWith } from '../../nodes/shared/transport/connect';
import { DEFAULT_RETRY_POLICY } from '../../nodes/shared/transport/errorClassification';
import { SqlServerRequestError } from '../../nodes/shared/transport/sqlServerError';
import type { SqlParameter, SqlRow, SqlTransport } from '../../nodes/shared/transport/types';
import type { SqlServerUnderTest } from './support/sqlServerUnderTest';
import { TEST_DATABASES, describeAgainstSqlServer } from './support/sqlServerUnderTest';

/** A password no server has, so a login with it must fail; it must then appear in no message. */
const mistypedPassword = `Mistyped-${randomUUID()}`;

async function rows(transport: SqlTransport, text: string, parameters: SqlParameter[] = []): Promise<SqlRow[]> {
	const result = await transport.execute({ text, parameters });
	return result.recordsets[result.recordsets.length - 1] ?? [];
}

const int = (name: string, value: number): SqlParameter => ({ name, type: { name: 'int' }, value });
/** Temporal values travel as text and are CONVERTed in T-SQL (style 126), as the stores send them. */
const isoText = (name: string, value: string): SqlParameter => ({ name, type: { name: 'varchar', length: 33 }, value });

async function sqlServerError(promise: Promise<unknown>): Promise<SqlServerRequestError> {
	let failure: unknown;
	try {
		await promise;
	} catch (error) {
		failure = error;
	}
	assert.ok(failure instanceof SqlServerRequestError, `expected a SqlServerRequestError, got ${String(failure)}`);
	return failure;
}

async function testCredential(server: SqlServerUnderTest, database: string, password?: string) {
	const data = { ...server.credential(database), ...(password === undefined ? {} : { password }) };
	return await sqlServerConnectionTest.call({} as ICredentialTestFunctions, {
		id: 'integration',
		name: 'Integration',
		type: 'contractingSqlServerApi',
		data,
	});
}

describeAgainstSqlServer('the SQL transport against a real SQL Server', (suite) => {
	suite.test('a datetime2(7) marker read as text selects its own row again, to the 100 ns', async (server) => {
		const transport = server.transport(TEST_DATABASES.contracting);
		const markers = ['2024-02-29T23:59:59.9999999', '2024-03-31T02:30:00.1234567', '0001-01-01T00:00:00.0000001'];
		for (const [index, marker] of markers.entries()) {
			const [row] = await rows(
				transport,
				`INSERT INTO dbo.Customers (CustomerNo, Name, Active, ChangedAt) VALUES (@no, N'Marker', 1, CONVERT(datetime2(7), @at, 126));
SELECT CONVERT(varchar(33), ChangedAt, 126) AS marker,
       CASE WHEN ChangedAt = CONVERT(datetime2(7), @at, 126) THEN 1 ELSE 0 END AS atMarker,
       CASE WHEN ChangedAt > CONVERT(datetime2(7), @at, 126) THEN 1 ELSE 0 END AS afterMarker
FROM dbo.Customers WHERE CustomerNo = @no;`,
				[int('no', 1000 + index), isoText('at', marker)],
			);
			assert.deepEqual(row, { marker, atMarker: 1, afterMarker: 0 });
		}
	});

	suite.test('a whole-second datetime2(7) marker, in whatever form style 126 gives it, is a valid marker that selects its row again', async (server, context) => {
		const transport = server.transport(TEST_DATABASES.contracting);
		const [row] = await rows(
			transport,
			`INSERT INTO dbo.Customers (CustomerNo, Name, Active, ChangedAt) VALUES (@no, N'Whole second', 1, CONVERT(datetime2(7), @at, 126));
SELECT CONVERT(varchar(33), ChangedAt, 126) AS marker FROM dbo.Customers WHERE CustomerNo = @no;`,
			[int('no', 1100), isoText('at', '2024-10-27T02:30:00')],
		);
		const marker = String(row.marker);
		// The in-memory adapters write whole seconds as .0000000; this line shows what SQL Server writes.
		context.diagnostic(`CONVERT(varchar(33), <whole-second datetime2(7)>, 126) gives "${marker}"`);
		assert.equal(markerProblem('datetime', marker), undefined, marker);
		assert.ok(marker.startsWith('2024-10-27T02:30:00'), marker);
		const [again] = await rows(
			transport,
			`SELECT CASE WHEN ChangedAt = CONVERT(datetime2(7), @marker, 126) THEN 1 ELSE 0 END AS atMarker,
       CASE WHEN ChangedAt > CONVERT(datetime2(7), @marker, 126) THEN 1 ELSE 0 END AS afterMarker
FROM dbo.Customers WHERE CustomerNo = @no;`,
			[int('no', 1100), isoText('marker', marker)],
		);
		assert.deepEqual(again, { atMarker: 1, afterMarker: 0 });
	});

	suite.test('a legacy datetime rounds to 1/300 s, and the rounded text is what selects the row again', async (server) => {
		const transport = server.transport(TEST_DATABASES.contracting);
		const rounding: Array<[sent: string, stored: string]> = [
			['2024-01-02T03:04:05.122', '2024-01-02T03:04:05.123'],
			['2024-01-02T03:04:05.125', '2024-01-02T03:04:05.127'],
			['2024-01-02T03:04:05.998', '2024-01-02T03:04:05.997'],
			// Style 126 leaves out a fraction of .000.
			['2024-12-31T23:59:59.999', '2025-01-01T00:00:00'],
		];
		for (const [index, [sent, stored]] of rounding.entries()) {
			const orderNo = 2000 + index;
			const [row] = await rows(
				transport,
				`INSERT INTO dbo.Orders (OrderNo, CustomerNo, ChangedAt) VALUES (@no, 1, CONVERT(datetime, @at, 126));
SELECT CONVERT(varchar(33), ChangedAt, 126) AS marker FROM dbo.Orders WHERE OrderNo = @no;`,
				[int('no', orderNo), isoText('at', sent)],
			);
			assert.equal(row.marker, stored, `datetime ${sent}`);
			const [again] = await rows(
				transport,
				'SELECT COUNT(*) AS matches FROM dbo.Orders WHERE OrderNo = @no AND ChangedAt = CONVERT(datetime, @marker, 126);',
				[int('no', orderNo), isoText('marker', stored)],
			);
			assert.equal(again.matches, 1, `marker ${stored}`);
		}
	});

	suite.test('decimal(18,2) amounts are stored and read back exactly, rounded to the column scale', async (server) => {
		const transport = server.transport(TEST_DATABASES.contracting);
		const amounts: Array<[sent: number, text: string, read: number]> = [
			[1234567890123.45, '1234567890123.45', 1234567890123.45],
			[-0.01, '-0.01', -0.01],
			[0.1 + 0.2, '0.30', 0.3],
		];
		for (const [index, [sent, text, read]] of amounts.entries()) {
			const orderNo = 3000 + index;
			const [row] = await rows(
				transport,
				`INSERT INTO dbo.Orders (OrderNo, CustomerNo, Amount) VALUES (@no, 1, @amount);
SELECT CONVERT(varchar(40), Amount) AS text, Amount AS amount FROM dbo.Orders WHERE OrderNo = @no;`,
				[int('no', orderNo), { name: 'amount', type: { name: 'decimal', precision: 18, scale: 2 }, value: sent }],
			);
			assert.deepEqual(row, { text, amount: read });
		}
	});

	suite.test('nvarchar text keeps Norwegian letters, other scripts and emoji unchanged', async (server) => {
		const transport = server.transport(TEST_DATABASES.contracting);
		const names = ['Ærlige Østby & Søn AS', 'Zoë Łukasiewicz – 日本語', 'Blåbær 😀 Café'];
		for (const [index, name] of names.entries()) {
			const customerNo = 4000 + index;
			const [row] = await rows(
				transport,
				`INSERT INTO dbo.Customers (CustomerNo, Name, Active) VALUES (@no, @name, 1);
SELECT Name AS name, DATALENGTH(Name) AS bytes FROM dbo.Customers WHERE CustomerNo = @no;`,
				[int('no', customerNo), { name: 'name', type: { name: 'nvarchar', length: 100 }, value: name }],
			);
			assert.deepEqual(row, { name, bytes: 2 * name.length });
		}
	});

	suite.test('a request carries as many parameters as the CRM VALUES path counts on, and one more is refused (8003)', async (server) => {
		const transport = server.transport(TEST_DATABASES.crmLegacy);
		const parameters = (count: number) => Array.from({ length: count }, (_, index) => int(`p${index}`, index));
		const last = PARAMETERS_FOR_VALUES - 1;
		const [row] = await rows(transport, `SELECT @p0 + @p${last} AS total;`, parameters(PARAMETERS_FOR_VALUES));
		assert.equal(row.total, last);
		const error = await sqlServerError(
			transport.execute({ text: `SELECT @p0 + @p${last} AS total;`, parameters: parameters(PARAMETERS_FOR_VALUES + 1) }),
		);
		assert.equal(error.number, 8003);
		assert.equal(error.kind, 'permanent');
	});

	suite.test('a lock timeout (1222) is retried to the bound, then reported as transient with nothing written', async (server) => {
		const transport = server.transport(TEST_DATABASES.crm);
		await transport.execute({
			text: `CREATE TABLE dbo.LockProbe (Id int NOT NULL PRIMARY KEY, Value int NOT NULL);
CREATE TABLE dbo.LockProbeRelease (Released bit NOT NULL);
INSERT INTO dbo.LockProbe (Id, Value) VALUES (1, 0);`,
			parameters: [],
		});
		// Holds an exclusive lock on row 1 in another session until the test inserts into LockProbeRelease.
		const holder = transport.execute({
			text: `BEGIN TRANSACTION;
UPDATE dbo.LockProbe SET Value = Value + 1 WHERE Id = 1;
DECLARE @polls int = 0;
WHILE NOT EXISTS (SELECT 1 FROM dbo.LockProbeRelease) AND @polls < 600
BEGIN
    WAITFOR DELAY '00:00:00.050';
    SET @polls += 1;
END;
ROLLBACK TRANSACTION;
SELECT CASE WHEN EXISTS (SELECT 1 FROM dbo.LockProbeRelease) THEN 1 ELSE 0 END AS released;`,
			parameters: [],
		});
		// Awaited below; until then a failure of the holder must not end the process as an unhandled rejection.
		holder.catch(() => undefined);
		try {
			// READPAST skips a locked row: once row 1 is invisible to it, the holder has its lock.
			const [probe] = await rows(
				transport,
				`DECLARE @polls int = 0;
WHILE EXISTS (SELECT 1 FROM dbo.LockProbe WITH (READPAST) WHERE Id = 1) AND @polls < 600
BEGIN
    WAITFOR DELAY '00:00:00.050';
    SET @polls += 1;
END;
SELECT CASE WHEN EXISTS (SELECT 1 FROM dbo.LockProbe WITH (READPAST) WHERE Id = 1) THEN 0 ELSE 1 END AS locked;`,
			);
			assert.equal(probe.locked, 1, 'the holding session never took its lock');

			const error = await sqlServerError(
				transport.execute({
					text: `SET LOCK_TIMEOUT 1;
BEGIN TRY
    UPDATE dbo.LockProbe SET Value = Value + 10 WHERE Id = 1;
END TRY
BEGIN CATCH
    SET LOCK_TIMEOUT -1;
    THROW;
END CATCH;
SET LOCK_TIMEOUT -1;`,
					parameters: [],
				}),
			);
			assert.equal(error.number, 1222);
			assert.equal(error.kind, 'transient');
			assert.equal(error.attempts, DEFAULT_RETRY_POLICY.maxAttempts);
			assert.match(error.message, /database CrmTest\]$/);
			assert.match(error.advice, /busy with locks/);
		} finally {
			await transport.execute({ text: 'INSERT INTO dbo.LockProbeRelease (Released) VALUES (1);', parameters: [] });
		}
		const held = await holder;
		assert.deepEqual(held.recordsets[0], [{ released: 1 }]);
		assert.deepEqual(await rows(transport, 'SELECT Value AS value FROM dbo.LockProbe WHERE Id = 1;'), [{ value: 0 }]);
	});

	suite.test('an unknown table (208) fails at once as permanent, naming the database and what to check', async (server) => {
		const error = await sqlServerError(
			server.transport(TEST_DATABASES.contracting).execute({ text: 'SELECT * FROM dbo.Customer;', parameters: [] }),
		);
		assert.equal(error.number, 208);
		assert.equal(error.kind, 'permanent');
		assert.equal(error.attempts, 1);
		assert.match(error.message, /Invalid object name 'dbo\.Customer'/);
		assert.match(error.message, /database ContractingTest\]$/);
		assert.match(error.advice, /does not exist/);
	});

	suite.test('a wrong password fails at once as a login failure, and the password appears nowhere', async (server) => {
		const { transport } = connectWith({ ...server.credential(TEST_DATABASES.crm), password: mistypedPassword });
		const error = await sqlServerError(transport.execute({ text: 'SELECT 1;', parameters: [] }));
		assert.equal(error.kind, 'permanent');
		assert.equal(error.attempts, 1);
		assert.match(error.advice, /^Login failed/);
		assert.ok(!error.message.includes(mistypedPassword) && !error.advice.includes(mistypedPassword));
	});

	suite.test('OPENJSON exists at compatibility level 160 and not at 120', async (server) => {
		const json: SqlParameter = { name: 'json', type: { name: 'nvarchar', length: -1 }, value: '[10,20,30]' };
		const query = 'SELECT CAST([value] AS int) AS n FROM OPENJSON(@json) ORDER BY CAST([key] AS int);';
		assert.deepEqual(await rows(server.transport(TEST_DATABASES.crm), query, [json]), [{ n: 10 }, { n: 20 }, { n: 30 }]);
		const error = await sqlServerError(server.transport(TEST_DATABASES.crmLegacy).execute({ text: query, parameters: [json] }));
		assert.equal(error.number, 208);
		assert.match(error.message, /OPENJSON/);
	});

	suite.test('the credential test names the server and the database, and warns below compatibility level 130', async (server) => {
		const current = await testCredential(server, TEST_DATABASES.contracting);
		assert.equal(current.status, 'OK');
		assert.match(
			current.message,
			/^Connected to SQL Server \d+\.\d+\.\d+\.\d+ \(.+\), database ContractingTest at compatibility level 160\.$/,
		);

		const legacy = await testCredential(server, TEST_DATABASES.crmLegacy);
		assert.equal(legacy.status, 'OK');
		assert.match(legacy.message, /database CrmLegacyTest at compatibility level 120\. The database is at compatibility level 120, below 130: SQL Server has no OPENJSON/);
		assert.match(legacy.message, /ALTER DATABASE \[CrmLegacyTest\] SET COMPATIBILITY_LEVEL = 130/);

		const refused = await testCredential(server, TEST_DATABASES.crm, mistypedPassword);
		assert.equal(refused.status, 'Error');
		assert.match(refused.message, /Login failed/);
		assert.ok(!refused.message.includes(mistypedPassword));
	});
});
