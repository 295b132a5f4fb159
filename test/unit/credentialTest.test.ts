import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { ICredentialTestFunctions, INodeProperties } from 'n8n-workflow';

import { ContractingSqlServerApi } from '../../credentials/ContractingSqlServerApi.credentials';
import { CrmSqlServerApi } from '../../credentials/CrmSqlServerApi.credentials';
import { SERVER_FACTS_QUERY, sqlServerConnectionTest } from '../../nodes/shared/methods/credentialTest';
import { restoreAllSeams } from '../../nodes/shared/seams';
import { RecordingSqlTransport, resultOf, useRecordingTransport } from '../support/recordingTransport';

const credential = {
	id: '1',
	name: 'CRM',
	type: 'crmSqlServerApi',
	data: { server: 'sql01', port: 1433, database: 'CRM', user: 'crm', password: 'Hunter2!' },
};

async function testCredentialAgainst(double: RecordingSqlTransport) {
	useRecordingTransport(double);
	return await sqlServerConnectionTest.call({} as ICredentialTestFunctions, credential);
}

const facts = (compatibilityLevel: number, productVersion = '16.0.4135.4') =>
	resultOf([{ productVersion, edition: 'Standard Edition (64-bit)', databaseName: 'CRM', compatibilityLevel }]);

describe('credential test', () => {
	afterEach(restoreAllSeams);

	it('reports the server version and compatibility level of a good server', async () => {
		const double = new RecordingSqlTransport(() => facts(150));
		const result = await testCredentialAgainst(double);
		assert.equal(result.status, 'OK');
		assert.equal(
			result.message,
			'Connected to SQL Server 16.0.4135.4 (Standard Edition (64-bit)), database CRM at compatibility level 150.',
		);
		assert.equal(double.requests[0].text, SERVER_FACTS_QUERY);
	});

	it('warns in plain words below compatibility level 130', async () => {
		const result = await testCredentialAgainst(new RecordingSqlTransport(() => facts(120)));
		assert.equal(result.status, 'OK');
		assert.match(result.message, /compatibility level 120\. The database is at compatibility level 120, below 130: SQL Server has no OPENJSON/);
		assert.match(result.message, /ALTER DATABASE \[CRM\] SET COMPATIBILITY_LEVEL = 130/);
	});

	it('accepts SQL Server 2012 (version 11, at most level 110) with the OPENJSON warning, and refuses an older server naming the minimum (issue 11, item 14)', async () => {
		const sql2012 = await testCredentialAgainst(new RecordingSqlTransport(() => facts(110, '11.0.7001.0')));
		assert.equal(sql2012.status, 'OK');
		assert.match(sql2012.message, /SQL Server 11\.0\.7001\.0 .* compatibility level 110\..* below 130: SQL Server has no OPENJSON/);
		const sql2008 = await testCredentialAgainst(new RecordingSqlTransport(() => facts(100, '10.50.6000.34')));
		assert.equal(sql2008.status, 'Error');
		assert.match(sql2008.message, /sql01:1433, database CRM is SQL Server 10\.50\.6000\.34, older than SQL Server 2012 \(version 11\), which these nodes need/);
		assert.doesNotMatch(`${sql2012.message} ${sql2008.message}`, /2016/);
	});

	it('says what to check on a wrong password, and never shows the password', async () => {
		const double = new RecordingSqlTransport().failOn(1, {
			code: 'ELOGIN',
			message: "Login failed for user 'crm' (password 'Hunter2!').",
		});
		const result = await testCredentialAgainst(double);
		assert.equal(result.status, 'Error');
		assert.match(result.message, /^SQL Server sql01:1433, database CRM refused the login: Login failed for user 'crm' \(password '•••'\)\. Check the user, password and, for a Windows login, the domain/);
		assert.doesNotMatch(result.message, /Hunter2!/);
		assert.equal(double.roundTrips, 1, 'a failed login is not retried');
	});

	it('names the server when it cannot be reached', async () => {
		const double = new RecordingSqlTransport();
		for (let n = 1; n <= 4; n++) double.failOn(n, { code: 'ESOCKET', message: 'Failed to connect to sql01:1433' });
		const result = await testCredentialAgainst(double);
		assert.equal(result.status, 'Error');
		assert.match(result.message, /^Cannot connect to SQL Server sql01:1433, database CRM: the server cannot be reached/);
		assert.match(result.message, /Check the Server and Port fields in the credential.*firewall/);
	});
});

describe('the two credentials in the editor', () => {
	const field = (properties: INodeProperties[], name: string) => properties.find((property) => property.name === name);

	it('each suggests its own database', () => {
		assert.equal(field(new CrmSqlServerApi().properties, 'database')?.placeholder, 'e.g. CRM');
		assert.equal(field(new ContractingSqlServerApi().properties, 'database')?.placeholder, 'e.g. CONTRACTING');
	});

	it('the CRM credential says what its test cannot show: the slower path below compatibility level 130', () => {
		const [first] = new CrmSqlServerApi().properties;
		assert.equal(first.type, 'notice');
		assert.match(first.displayName, /compatibility level 130 .*slower path.*warning above its output/);
		assert.equal(new ContractingSqlServerApi().properties.some((property) => property.type === 'notice'), false, 'Contracting is only read: no such notice');
	});
});
