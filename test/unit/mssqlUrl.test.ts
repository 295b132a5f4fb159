import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { connectionSettingsFromCredentials } from '../../nodes/shared/transport/connectionSettings';
import { MssqlUrlError, credentialData, describeMssqlUrl, parseMssqlUrl } from '../support/mssqlUrl';

describe('MSSQL_URL', () => {
	it('reads the local Docker URL into the settings the transport opens', () => {
		const url = parseMssqlUrl('mssql://sa:Passw0rd!@localhost:1433?encrypt=false&trustServerCertificate=true');
		assert.deepEqual(connectionSettingsFromCredentials(credentialData(url, 'ContractingTest')), {
			server: 'localhost',
			port: 1433,
			database: 'ContractingTest',
			user: 'sa',
			password: 'Passw0rd!',
			domain: '',
			encrypt: false,
			trustServerCertificate: true,
			connectTimeoutMs: 15_000,
			requestTimeoutMs: 60_000,
		});
	});

	it('defaults to an encrypted connection that checks the certificate, on port 1433', () => {
		const url = parseMssqlUrl('mssql://sync:secret@sql01.customer.local');
		assert.equal(url.port, 1433);
		assert.equal(url.encrypt, true);
		assert.equal(url.trustServerCertificate, false);
		assert.equal(url.database, undefined);
	});

	it('decodes percent-encoded characters in the user and password', () => {
		const url = parseMssqlUrl('mssql://sync%20user:p%40ss%3Aw%23rd%2F%3F%25@db:1444');
		assert.equal(url.user, 'sync user');
		assert.equal(url.password, 'p@ss:w#rd/?%');
		assert.equal(url.port, 1444);
	});

	it('takes the database from the path, the domain and timeouts from options', () => {
		const url = parseMssqlUrl('mssql://joe:pw@[::1]:1433/Crm%20Prod?domain=CORP&connectTimeout=5000&requestTimeout=120000');
		assert.equal(url.server, '::1');
		assert.equal(url.database, 'Crm Prod');
		assert.equal(url.domain, 'CORP');
		assert.equal(url.connectTimeout, 5000);
		assert.equal(url.requestTimeout, 120_000);
		assert.equal(describeMssqlUrl(url), 'CORP\\joe@::1:1433');
	});

	it('hands each test the database it asks for, whatever the URL names', () => {
		const url = parseMssqlUrl('mssql://sa:pw@localhost/master');
		assert.equal(credentialData(url, 'CrmLegacyTest').database, 'CrmLegacyTest');
	});

	const password = 'S3cret-Pa55';
	const refusals: Array<[string, string, RegExp]> = [
		['text that is not a URL', `//sa:${password}@localhost`, /is not a URL/],
		['another scheme', `postgres://sa:${password}@localhost`, /must start with mssql:\/\//],
		['an unencoded # in the password', `mssql://sa:${password}#x@localhost`, /is not a URL/],
		['a # after the host', `mssql://sa:${password}@localhost/#${password}`, /contains a #/],
		['no user', 'mssql://localhost:1433', /names no user/],
		['an unknown option', `mssql://sa:${password}@localhost?encrypted=false`, /unknown option encrypted/],
		['a boolean option that is not true or false', `mssql://sa:${password}@localhost?encrypt=no`, /encrypt must be true or false/],
		['a timeout that is not a positive number', `mssql://sa:${password}@localhost?requestTimeout=0`, /requestTimeout must be a positive/],
		['a malformed percent-encoding', `mssql://sa:${password}%zz@localhost`, /malformed percent-encoding in its password/],
		['two path segments', `mssql://sa:${password}@localhost/a/b`, /more than one database/],
	];
	for (const [problem, text, reason] of refusals) {
		it(`refuses ${problem}, naming the problem but never the password`, () => {
			assert.throws(
				() => parseMssqlUrl(text),
				(error: unknown) => {
					assert.ok(error instanceof MssqlUrlError);
					assert.match(error.message, reason);
					assert.ok(!error.message.includes(password), error.message);
					return true;
				},
			);
		});
	}

	it('describes the target without the password', () => {
		const url = parseMssqlUrl(`mssql://sa:${password}@localhost:1433`);
		assert.equal(describeMssqlUrl(url), 'sa@localhost:1433');
	});
});
