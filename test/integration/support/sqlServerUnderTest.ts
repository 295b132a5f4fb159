/**
 * The SQL Server the integration suite runs against: the one MSSQL_URL names, reached through the package's own
 * transport (connectWith, the mssql pool, the retry layer), exactly as the nodes reach a customer's server.
 * Without MSSQL_URL every test is registered as skipped, so the run ends with its count line and exit code 0.
 */
import type { ICredentialDataDecryptedObject } from 'n8n-workflow';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { after, before, describe, it } from 'node:test';

import { connectWith } from '../../../nodes/shared/transport/connect';
import { closeAllPools } from '../../../nodes/shared/transport/mssqlTransport';
import { SqlServerRequestError } from '../../../nodes/shared/transport/sqlServerError';
import type { SqlTransport } from '../../../nodes/shared/transport/types';
import type { MssqlUrl } from '../../support/mssqlUrl';
import { credentialData, describeMssqlUrl, parseMssqlUrl } from '../../support/mssqlUrl';
import { readRunOrder, readScriptBatches } from './sqlScripts';

/** The databases test/integration/sql creates (see its run-order). */
export const TEST_DATABASES = {
	contracting: 'ContractingTest',
	crm: 'CrmTest',
	/** Compatibility level 120: no OPENJSON. */
	crmLegacy: 'CrmLegacyTest',
} as const;

export const SKIP_REASON = "MSSQL_URL is not set; see nodes/README.md 'Integration tests'";

/** How long a server that refuses connections (a container still starting) is waited for. */
const SERVER_START_WAIT_MS = 120_000;
const SERVER_START_POLL_MS = 2_000;

export interface SqlServerUnderTest {
	readonly url: MssqlUrl;
	/** The data of a Contracting / CRM credential for one database on the server. */
	credential(database: string): ICredentialDataDecryptedObject;
	/** The production transport (mssql behind the bounded retry) for one database. */
	transport(database: string): SqlTransport;
}

function sqlServerNamedByEnvironment(): SqlServerUnderTest | undefined {
	const text = process.env.MSSQL_URL;
	if (text === undefined || text.trim() === '') return undefined;
	// A malformed MSSQL_URL fails the run: someone asked for the integration suite and would not get it.
	const url = parseMssqlUrl(text);
	return {
		url,
		credential: (database) => credentialData(url, database),
		transport: (database) => connectWith(credentialData(url, database)).transport,
	};
}

const sleep = async (ms: number) => await new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitUntilServerAnswers(server: SqlServerUnderTest, master: SqlTransport): Promise<void> {
	const deadline = Date.now() + SERVER_START_WAIT_MS;
	for (let attempt = 1; ; attempt++) {
		let failure: unknown;
		try {
			await master.execute({ text: 'SELECT 1 AS ready;', parameters: [] });
			return;
		} catch (error) {
			failure = error;
		}
		const stillStarting = failure instanceof SqlServerRequestError && failure.kind === 'transient';
		if (!stillStarting || Date.now() > deadline) throw failure;
		if (attempt === 1) {
			process.stdout.write(`integration: waiting up to ${SERVER_START_WAIT_MS / 1000} s for SQL Server at ${describeMssqlUrl(server.url)} to accept connections\n`);
		}
		await sleep(SERVER_START_POLL_MS);
	}
}

/** Drops and re-creates the test databases from test/integration/sql, as init.sh does with sqlcmd. */
export async function recreateTestDatabases(server: SqlServerUnderTest): Promise<void> {
	const steps = readRunOrder();
	await waitUntilServerAnswers(server, server.transport(steps[0].database));
	for (const { database, script } of steps) {
		const transport = server.transport(database);
		for (const batch of readScriptBatches(script)) await transport.execute({ text: batch, parameters: [] });
	}
}

/**
 * Each test file runs in its own process, so the skip notice is printed by the first integration file only
 * (or by any file run on its own), and a run shows it once.
 */
function announceSkip(): void {
	const underTestRunner = process.env.NODE_TEST_CONTEXT !== undefined;
	const integrationFiles = readdirSync(path.resolve(__dirname, '..'))
		.filter((name) => name.endsWith('.test.js'))
		.sort();
	if (!underTestRunner || path.basename(process.argv[1] ?? '') === integrationFiles[0]) {
		process.stdout.write(`integration: skipped — ${SKIP_REASON}\n`);
	}
}

export interface SqlServerSuite {
	/** A test against the server; without MSSQL_URL it is registered as skipped. */
	test(name: string, run: (server: SqlServerUnderTest, context: TestContext) => Promise<void>): void;
	/**
	 * Tests that another function registers (a store contract suite), in a describe block of their own; without
	 * MSSQL_URL one skipped test stands for them.
	 */
	tests(name: string, register: (server: SqlServerUnderTest) => void): void;
}

/**
 * A describe block against fresh test databases: they are dropped and re-created before its tests, and the
 * connection pools are closed after them so the test process can exit.
 */
export function describeAgainstSqlServer(title: string, body: (suite: SqlServerSuite) => void): void {
	const server = sqlServerNamedByEnvironment();
	if (server === undefined) {
		announceSkip();
		describe(title, () => {
			body({
				test: (name) => it(name, { skip: SKIP_REASON }),
				tests: (name) => it(name, { skip: SKIP_REASON }),
			});
		});
		return;
	}
	describe(title, () => {
		before(async () => await recreateTestDatabases(server));
		after(async () => await closeAllPools());
		body({
			test: (name, run) => it(name, async (context) => await run(server, context)),
			tests: (name, register) => describe(name, () => register(server)),
		});
	});
}
