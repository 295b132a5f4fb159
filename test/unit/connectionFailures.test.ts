/**
 * A connection that fails says so in our words first, naming the server, with what to check: for a server name
 * that does not resolve, a refused port, a timeout, TLS and a login. The first three run the real driver
 * against this machine; TLS and login use the shapes the driver gives them.
 */
import assert from 'node:assert/strict';
import type { AddressInfo, Server, Socket } from 'node:net';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import type { INode } from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

import { toNodeError } from '../../nodes/shared/nodeErrors';
import { classifySqlServerError, connectionFailureOf } from '../../nodes/shared/transport/errorClassification';
import { connectionSettingsFromCredentials } from '../../nodes/shared/transport/connectionSettings';
import { closeAllPools, mssqlTransport } from '../../nodes/shared/transport/mssqlTransport';
import { SqlServerRequestError } from '../../nodes/shared/transport/sqlServerError';
import type { SqlServerErrorInfo } from '../../nodes/shared/transport/types';

const NODE: INode = { id: '1', name: 'Get watermark', type: 'n8n-nodes-contracting-crm.watermark', typeVersion: 1, position: [0, 0], parameters: {} };
const PASSWORD_GIVEN = ['Not', 'the', 'password', '1'].join('-');
/** Words of n8n's generic texts and of the driver that must not lead (or appear at all). */
const NOT_OURS = /incorrect host|refused the connection - perhaps|sequence|parallel|ENOTFOUND|ECONNREFUSED|EAI_AGAIN|getaddrinfo|ESOCKET|ETIMEOUT/;

async function failureOf(credential: Record<string, unknown>): Promise<SqlServerRequestError> {
	const transport = mssqlTransport(connectionSettingsFromCredentials({ database: 'CRM', user: 'sync', password: PASSWORD_GIVEN, encrypt: false, ...credential }));
	try {
		await transport.execute({ text: 'SELECT 1;', parameters: [] });
	} catch (error) {
		assert.ok(error instanceof SqlServerRequestError, String(error));
		return error;
	}
	assert.fail('the request should fail');
}

/** What the partner sees on the node: n8n's NodeApiError built from the transport's error. */
function shownOnNode(error: unknown): { message: string; description: string } {
	const nodeError = toNodeError(NODE, error, { doing: 'getting the watermark of stream "customers"' });
	assert.ok(nodeError instanceof NodeApiError);
	return { message: nodeError.message, description: nodeError.description ?? '' };
}

function assertOursLeads(shown: { message: string; description: string }, headline: RegExp, advice: RegExp) {
	assert.match(shown.message, headline);
	assert.doesNotMatch(shown.message, NOT_OURS);
	assert.match(shown.description, advice);
	assert.match(shown.description, /\(This happened while getting the watermark of stream "customers"\.\)$/, 'what the node was doing comes below');
	assert.ok(!`${shown.message}${shown.description}`.includes(PASSWORD_GIVEN), 'the password is not shown');
}

const listening = async (onConnection: (socket: Socket) => void): Promise<Server> =>
	await new Promise((resolve) => {
		const server = createServer(onConnection);
		server.listen(0, '127.0.0.1', () => resolve(server));
	});

describe('connection failures, through the real driver', () => {
	const servers: Server[] = [];
	after(async () => {
		await closeAllPools();
		for (const server of servers) server.close();
	});

	it('a server name that does not resolve: named, what to check, and not retried', async () => {
		const error = await failureOf({ server: 'no-such-sql-server.invalid', connectTimeout: 5000 });
		assertOursLeads(
			shownOnNode(error),
			/^Cannot connect to SQL Server no-such-sql-server\.invalid:1433, database CRM: the server name does not resolve$/,
			/Check the Server field in the credential/,
		);
		assert.equal(error.attempts, 1, 'a name that does not exist is not retried');
	});

	it('a port nothing listens on: named, refused, what to check', async () => {
		const closed = await listening(() => undefined);
		const { port } = closed.address() as AddressInfo;
		await new Promise((resolve) => closed.close(resolve));
		const error = await failureOf({ server: '127.0.0.1', port });
		assertOursLeads(
			shownOnNode(error),
			new RegExp(`^Cannot connect to SQL Server 127\\.0\\.0\\.1:${port}, database CRM: nothing accepts connections on that port$`),
			/check the Port field/,
		);
	});

	it('a server that never answers: named, with the timeout in seconds', async () => {
		const silent = await listening(() => undefined);
		servers.push(silent);
		const { port } = silent.address() as AddressInfo;
		const error = await failureOf({ server: '127.0.0.1', port, connectTimeout: 300 });
		assertOursLeads(
			shownOnNode(error),
			new RegExp(`^Cannot connect to SQL Server 127\\.0\\.0\\.1:${port}, database CRM: no answer within 0\\.3 s$`),
			/raise Connect Timeout/,
		);
	});
});

describe('connection failures, as the driver reports them', () => {
	const target = 'sql01:1433, database CRM';
	const shapes: Array<{ what: string; info: SqlServerErrorInfo; headline: RegExp; advice: RegExp; kind: 'permanent' | 'transient' }> = [
		{
			what: 'an untrusted certificate',
			info: { code: 'ESOCKET', message: 'Failed to connect to sql01:1433 - self-signed certificate', causes: ['DEPTH_ZERO_SELF_SIGNED_CERT'] },
			headline: /^Cannot connect to SQL Server sql01:1433, database CRM: the encrypted \(TLS\) connection failed \(self-signed certificate\)$/,
			advice: /Trust Server Certificate/,
			kind: 'permanent',
		},
		{
			what: 'a certificate for another name',
			info: { code: 'ESOCKET', message: "Failed to connect to sql01:1433 - Hostname/IP does not match certificate's altnames: Host: sql01. is not cert's CN: other", causes: ['ERR_TLS_CERT_ALTNAME_INVALID'] },
			headline: /^Cannot connect to SQL Server sql01:1433, database CRM: the encrypted \(TLS\) connection failed \(Hostname\/IP does not match/,
			advice: /its name must match the Server field/,
			kind: 'permanent',
		},
		{
			what: 'a refused login',
			info: { code: 'ELOGIN', message: "Login failed for user 'sync'." },
			headline: /^SQL Server sql01:1433, database CRM refused the login: Login failed for user 'sync'\.$/,
			advice: /user, password/,
			kind: 'permanent',
		},
		{
			what: 'a named instance SQL Server Browser does not know',
			info: { code: 'EINSTLOOKUP', message: 'Port for VISMA not found in ServerName;sql01;InstanceName;SQLEXPRESS' },
			headline: /^Cannot connect to SQL Server sql01:1433, database CRM: SQL Server Browser did not answer for the instance name$/,
			advice: /SQL Server Browser service/,
			kind: 'permanent',
		},
		{
			what: 'a host no route leads to',
			info: { code: 'ESOCKET', message: 'Failed to connect to 10.1.2.3:1433 - Could not connect (sequence)', causes: ['EHOSTUNREACH'] },
			headline: /^Cannot connect to SQL Server sql01:1433, database CRM: the server cannot be reached from the n8n machine$/,
			advice: /firewall/,
			kind: 'transient',
		},
		{
			what: 'a connection lost while working',
			info: { code: 'ESOCKET', message: 'Connection lost - read ECONNRESET', causes: ['ECONNRESET'] },
			headline: /^The connection to SQL Server sql01:1433, database CRM was lost$/,
			advice: /retried and gave up/,
			kind: 'transient',
		},
	];
	for (const { what, info, headline, advice, kind } of shapes) {
		it(`${what}: our message leads, naming the server`, () => {
			assert.equal(classifySqlServerError(info), kind);
			assertOursLeads(shownOnNode(new SqlServerRequestError(info, target, 1)), headline, advice);
		});
	}

	it('an error SQL Server answers a statement with is no connection failure, and keeps its text', () => {
		const info = { number: 208, message: "Invalid object name 'dbo.Nope'." };
		assert.equal(connectionFailureOf(info), undefined);
		assert.match(shownOnNode(new SqlServerRequestError(info, target, 1)).message, /^Failed while getting the watermark of stream "customers": Invalid object name 'dbo\.Nope'\. \(SQL Server error 208\) \[sql01:1433, database CRM\]$/);
	});

	it('a statement that outlives the request timeout says to raise it, not to check the server', () => {
		const info = { code: 'ETIMEOUT', message: 'Timeout: Request failed to complete in 60000ms' };
		assert.equal(connectionFailureOf(info), undefined);
		assert.match(new SqlServerRequestError(info, target, 1).advice, /Request Timeout/);
	});
});
