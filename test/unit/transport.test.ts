import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import { restoreAllSeams } from '../../nodes/shared/seams';
import {
	DEFAULT_RETRY_POLICY,
	backoffDelayMs,
	classifySqlServerError,
} from '../../nodes/shared/transport/errorClassification';
import { connectionSettingsFromCredentials, redactSecrets } from '../../nodes/shared/transport/connectionSettings';
import { connectWith } from '../../nodes/shared/transport/connect';
import { mssqlTransport } from '../../nodes/shared/transport/mssqlTransport';
import { retrying } from '../../nodes/shared/transport/retryingTransport';
import { SqlServerRequestError } from '../../nodes/shared/transport/sqlServerError';
import { RecordingSqlTransport, resultOf, useRecordingTransport } from '../support/recordingTransport';
import type { SqlValue } from '../../nodes/shared/transport/types';

const request = { text: 'SELECT 1 AS one;', parameters: [] };

function retryingDouble(double: RecordingSqlTransport, sleeps: number[] = []) {
	return retrying(double, {
		target: 'sql01:1433, database CRM',
		sleep: async (ms) => void sleeps.push(ms),
	});
}

async function rejection(promise: Promise<unknown>): Promise<SqlServerRequestError> {
	try {
		await promise;
	} catch (error) {
		assert.ok(error instanceof SqlServerRequestError, `expected SqlServerRequestError, got ${String(error)}`);
		return error;
	}
	assert.fail('expected the request to fail');
}

describe('error classification', () => {
	for (const number of [1205, 1222, 40501, 40613]) {
		it(`treats SQL Server error ${number} as transient`, () => {
			assert.equal(classifySqlServerError({ number, message: '' }), 'transient');
		});
	}
	for (const code of ['ESOCKET', 'ECONNRESET', 'ETIMEOUT', 'ECONNCLOSED']) {
		it(`treats a ${code} connection failure as transient`, () => {
			assert.equal(classifySqlServerError({ code, message: '' }), 'transient');
		});
	}
	for (const number of [208, 207, 515, 2627, 8114, 18456]) {
		it(`treats SQL Server error ${number} as permanent`, () => {
			assert.equal(classifySqlServerError({ number, message: '' }), 'permanent');
		});
	}
	it('treats a failed login as permanent', () => {
		assert.equal(classifySqlServerError({ code: 'ELOGIN', message: '' }), 'permanent');
	});
	it('backs off exponentially up to a cap', () => {
		const policy = { maxAttempts: 10, initialDelayMs: 100, maxDelayMs: 1_000 };
		assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffDelayMs(policy, n)), [100, 200, 400, 800, 1_000]);
	});
});

describe('bounded retry', () => {
	it('retries a deadlock victim and then succeeds', async () => {
		const double = new RecordingSqlTransport(() => resultOf([{ one: 1 }])).failOn(1, { number: 1205 });
		const sleeps: number[] = [];
		const result = await retryingDouble(double, sleeps).execute(request);
		assert.deepEqual(result.recordsets, [[{ one: 1 }]]);
		assert.equal(double.roundTrips, 2);
		assert.deepEqual(sleeps, [DEFAULT_RETRY_POLICY.initialDelayMs]);
	});

	it('does not retry a permanent error and keeps its number', async () => {
		const double = new RecordingSqlTransport().failOn(1, { number: 208, message: "Invalid object name 'dbo.Nope'." });
		const error = await rejection(retryingDouble(double).execute(request));
		assert.equal(double.roundTrips, 1);
		assert.equal(error.number, 208);
		assert.equal(error.kind, 'permanent');
		assert.match(error.message, /Invalid object name 'dbo\.Nope'\. \(SQL Server error 208\) \[sql01:1433, database CRM\]/);
		assert.match(error.advice, /does not exist/);
	});

	it('stops retrying at the bound and reports how often it tried', async () => {
		const double = new RecordingSqlTransport();
		for (let n = 1; n <= 10; n++) double.failOn(n, { code: 'ESOCKET', message: 'Connection lost - read ECONNRESET' });
		const error = await rejection(retryingDouble(double).execute(request));
		assert.equal(double.roundTrips, DEFAULT_RETRY_POLICY.maxAttempts);
		assert.equal(error.attempts, DEFAULT_RETRY_POLICY.maxAttempts);
		assert.match(error.advice, /could not be reached|connection dropped/);
	});
});

describe('connection settings', () => {
	it('reads a credential with defaults for what is left empty', () => {
		const settings = connectionSettingsFromCredentials({ server: ' sql01 ', database: 'CRM', user: 'crm', password: 'pw' });
		assert.equal(settings.server, 'sql01');
		assert.equal(settings.port, 1433);
		assert.equal(settings.encrypt, true);
		assert.equal(settings.trustServerCertificate, false);
		assert.equal(settings.domain, '');
	});

	it('removes the password from any message a driver produces', () => {
		const settings = connectionSettingsFromCredentials({ password: 's3cr3t!' });
		assert.equal(redactSecrets("Login failed for 's3cr3t!' and s3cr3t!", settings), "Login failed for '•••' and •••");
	});
});

describe('typed parameters', () => {
	it('refuses a temporal parameter sent as text, before any connection is made', async () => {
		const transport = mssqlTransport(connectionSettingsFromCredentials({ server: '127.0.0.1', port: 1 }));
		const error = await rejection(
			transport.execute({
				text: 'SELECT 1 WHERE @m < SYSDATETIME()',
				parameters: [{ name: 'm', type: { name: 'datetime2', scale: 7 }, value: '2024-03-31T01:59:59.1234567' }],
			}),
		);
		assert.match(error.message, /@m carries a datetime2 as text; send it as varchar/);
		assert.equal(error.attempts, 1);
	});

	it('refuses a bit that is not true, false, 1, 0 or NULL (the driver would send the text "false" as 1), in the real transport and the double', async () => {
		const asking = (value: SqlValue) => ({ text: 'SELECT 1 WHERE @allow = 1', parameters: [{ name: 'allow', type: { name: 'bit' as const }, value }] });
		const transport = mssqlTransport(connectionSettingsFromCredentials({ server: '127.0.0.1', port: 1 }));
		const error = await rejection(transport.execute(asking('false')));
		assert.match(error.message, /Parameter @allow is a bit but carries "false", which the driver would send as 1; convert it to true or false first/);
		assert.equal(error.attempts, 1);
		const double = new RecordingSqlTransport(() => resultOf([{ ok: 1 }]));
		await assert.rejects(double.execute(asking('0')), /@allow is a bit but carries "0"/);
		for (const value of [true, false, 1, 0, null]) assert.deepEqual((await double.execute(asking(value))).recordsets[0], [{ ok: 1 }]);
		assert.equal(double.roundTrips, 5, 'a refused request is never counted as sent');
	});
});

describe('transport seam', () => {
	afterEach(restoreAllSeams);

	it('hands every connection the double, behind the production retry', async () => {
		const double = new RecordingSqlTransport(() => resultOf([{ ok: 1 }])).failOn(1, { number: 40613 });
		const opened = useRecordingTransport(double);
		const { transport } = connectWith({ server: 'sql01', database: 'CRM', password: 'pw' });
		const result = await transport.execute(request);
		assert.deepEqual(result.recordsets[0], [{ ok: 1 }]);
		assert.equal(double.roundTrips, 2);
		assert.deepEqual(opened.map((s) => s.database), ['CRM']);
		assert.equal(double.requests[0].text, request.text);
	});
});

describe('the real transport keeps the password out of its errors', () => {
	it('passes every message through the redactor before it becomes an error (a driver may echo the password)', async () => {
		// The one message the real transport makes without a server: it names the parameter, here spelled like the password.
		const password = 'Sommer2025x';
		const transport = mssqlTransport(connectionSettingsFromCredentials({ server: '127.0.0.1', port: 1, password }));
		const error = await rejection(
			transport.execute({ text: 'SELECT 1 WHERE @Sommer2025x < SYSDATETIME()', parameters: [{ name: password, type: { name: 'datetime2', scale: 7 }, value: '2024-03-31T01:59:59.1234567' }] }),
		);
		assert.match(error.message, /Parameter @••• carries a datetime2 as text/);
		assert.ok(!error.message.includes(password));
	});
});
