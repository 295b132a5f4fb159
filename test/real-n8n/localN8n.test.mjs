// The decisions in localN8n.mjs that need no n8n: run with `node --test test/real-n8n/localN8n.test.mjs` (milliseconds).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';

import {
	credentialReferences,
	credentialsFromEnvironment,
	errorWorkflows,
	existingOwnerNotice,
	generatePassword,
	n8nEnvironment,
	ownerPasswordRule,
	ownerSetupProblems,
	reachableUrl,
	readWorkflow,
	workflowFiles,
} from './localN8n.mjs';

const workflowUsing = (credentials) => ({ nodes: [{ name: 'A', type: 'x.y', credentials }] });

describe('credentialReferences', () => {
	test('takes the first {id, name} each credential type is referenced by', () => {
		const references = credentialReferences([
			workflowUsing({ crmSqlServerApi: { id: 'crm1', name: 'Visma CRM' } }),
			workflowUsing({ crmSqlServerApi: { id: 'crm2', name: 'Other' }, contractingSqlServerApi: { id: 'con1', name: 'Visma Contracting' } }),
		]);
		assert.deepEqual(references, {
			crmSqlServerApi: { id: 'crm1', name: 'Visma CRM' },
			contractingSqlServerApi: { id: 'con1', name: 'Visma Contracting' },
		});
	});

	test('ignores references without an id (n8n would ask the user to pick one)', () => {
		assert.deepEqual(credentialReferences([workflowUsing({ crmSqlServerApi: { id: null, name: 'x' } }), { nodes: [{ name: 'B' }] }]), {});
	});
});

describe('credentialsFromEnvironment', () => {
	test('builds only the credentials whose SERVER is set, with the ids the workflows use', () => {
		const credentials = credentialsFromEnvironment(
			{ CRM_SQL_SERVER: 'sql02', CRM_SQL_DATABASE: 'CRM', CRM_SQL_USER: 'u', CRM_SQL_PASSWORD: 'p', CONTRACTING_SQL_DATABASE: 'ignored without a server' },
			{ crmSqlServerApi: { id: 'VismaCrm1', name: 'Visma CRM' } },
		);
		assert.deepEqual(credentials, [
			{
				id: 'VismaCrm1',
				name: 'Visma CRM',
				type: 'crmSqlServerApi',
				data: { server: 'sql02', port: 1433, database: 'CRM', user: 'u', password: 'p', domain: '', encrypt: true, trustServerCertificate: false },
			},
		]);
	});

	test('reads port, booleans and timeouts from text; falls back to its own id and name', () => {
		const [credential] = credentialsFromEnvironment(
			{
				CONTRACTING_SQL_SERVER: 'sql01\\VISMA',
				CONTRACTING_SQL_PORT: '1434',
				CONTRACTING_SQL_ENCRYPT: 'false',
				CONTRACTING_SQL_TRUST_SERVER_CERTIFICATE: 'yes',
				CONTRACTING_SQL_DOMAIN: 'CUSTOMER',
				CONTRACTING_SQL_CONNECT_TIMEOUT: '5000',
				CONTRACTING_SQL_REQUEST_TIMEOUT: '120000',
			},
			{},
		);
		assert.equal(credential.id, 'contractingSqlSrv');
		assert.equal(credential.name, 'Contracting SQL Server');
		assert.deepEqual(credential.data, {
			server: 'sql01\\VISMA',
			port: 1434,
			database: '',
			user: '',
			password: '',
			domain: 'CUSTOMER',
			encrypt: false,
			trustServerCertificate: true,
			connectTimeout: 5000,
			requestTimeout: 120000,
		});
	});
});

describe('readWorkflow', () => {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'local-n8n-test-'));
	const write = (name, workflow) => {
		const file = path.join(dir, name);
		writeFileSync(file, JSON.stringify(workflow));
		return file;
	};

	test('keeps the id a workflow file has', () => {
		assert.equal(readWorkflow(write('a.json', { id: 'Given1', nodes: [] })).id, 'Given1');
	});

	test('gives a file without an id the same 16-character id every time, different per file name', () => {
		const first = readWorkflow(write('sync.json', { nodes: [] })).id;
		assert.match(first, /^[a-zA-Z0-9]{16}$/);
		assert.equal(readWorkflow(write('sync.json', { name: 'changed', nodes: [] })).id, first);
		assert.notEqual(readWorkflow(write('rewind.json', { nodes: [] })).id, first);
		rmSync(dir, { recursive: true, force: true });
	});
});

test('generatePassword meets n8n\'s rule (8 to 64 characters, a digit, an upper-case letter) and differs each time', () => {
	const passwords = Array.from({ length: 50 }, generatePassword);
	for (const password of passwords) {
		assert.ok(password.length >= 8 && password.length <= 64, password);
		assert.match(password, /\d/);
		assert.match(password, /[A-Z]/);
	}
	assert.equal(new Set(passwords).size, passwords.length);
});

describe('n8nEnvironment', () => {
	const node = { nodeBin: '/opt/node24/bin/node' };

	test("lets the caller's own n8n variables win over the defaults, and `forced` and the user folder over both", () => {
		const saved = { ...process.env };
		Object.assign(process.env, { N8N_PORT: '5680', N8N_DIAGNOSTICS_ENABLED: 'true', N8N_USER_FOLDER: '/elsewhere', npm_config_nodedir: '/usr' });
		try {
			const env = n8nEnvironment({ node, userFolder: '/data/user', forced: { N8N_RUNNERS_BROKER_PORT: '7000' } });
			assert.equal(env.N8N_PORT, '5680');
			assert.equal(env.N8N_DIAGNOSTICS_ENABLED, 'true');
			assert.equal(env.N8N_RUNNERS_BROKER_PORT, '7000');
			assert.equal(env.N8N_USER_FOLDER, '/data/user');
			assert.equal(env.N8N_VERSION_NOTIFICATIONS_ENABLED, 'false');
			assert.equal(env.npm_config_nodedir, undefined, "npm's own settings for the machine's Node are not passed on");
			assert.ok(env.PATH.startsWith(`/opt/node24/bin${path.delimiter}`), 'n8n and its children find Node 24 first');
		} finally {
			for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
			Object.assign(process.env, saved);
		}
	});
});

test('reachableUrl goes to 127.0.0.1 for the local and any-interface addresses, else to the address n8n listens on', () => {
	assert.equal(reachableUrl({ N8N_PORT: '5678', N8N_LISTEN_ADDRESS: '127.0.0.1' }), 'http://127.0.0.1:5678');
	assert.equal(reachableUrl({ N8N_PORT: '5678', N8N_LISTEN_ADDRESS: '0.0.0.0' }), 'http://127.0.0.1:5678');
	assert.equal(reachableUrl({ N8N_PORT: '5680', N8N_LISTEN_ADDRESS: '::' }), 'http://127.0.0.1:5680');
	assert.equal(reachableUrl({ N8N_PORT: '5678' }), 'http://127.0.0.1:5678');
	assert.equal(reachableUrl({ N8N_PORT: '5678', N8N_LISTEN_ADDRESS: '10.0.0.5' }), 'http://10.0.0.5:5678');
	assert.equal(reachableUrl({ N8N_PORT: '5678', N8N_LISTEN_ADDRESS: '::1' }), 'http://[::1]:5678');
});

describe('ownerSetupProblems: the owner n8n would refuse, found before npm start changes anything', () => {
	test('accepts what n8n accepts, and nothing set at all', () => {
		assert.deepEqual(ownerSetupProblems({ N8N_OWNER_EMAIL: 'you@partner.no', N8N_OWNER_PASSWORD: 'Choose1Good' }), []);
		assert.deepEqual(ownerSetupProblems({}), []);
		assert.deepEqual(ownerSetupProblems({ N8N_OWNER_PASSWORD: `A1${'x'.repeat(62)}` }), [], '64 characters is the most n8n takes');
	});

	for (const [password, why] of [
		['Short1A', /it is 7 characters long/],
		[`A1${'x'.repeat(63)}`, /it is 65 characters long/],
		['nouppercase1', /it has no upper-case letter/],
		['NoNumberHere', /it has no number/],
		['weak', /it is 4 characters long, it has no number, it has no upper-case letter/],
	]) {
		test(`refuses "${password.slice(0, 12)}…", naming the variable, n8n's rule and what is missing`, () => {
			const [problem, ...more] = ownerSetupProblems({ N8N_OWNER_PASSWORD: password });
			assert.equal(more.length, 0);
			assert.match(problem, /^N8N_OWNER_PASSWORD does not meet n8n's rule for passwords \(8 to 64 characters, with at least 1 number and 1 upper-case letter \(A-Z\)\)/);
			assert.match(problem, why);
			assert.ok(!problem.includes(password), 'the password itself is not printed');
		});
	}

	test('follows N8N_PASSWORD_MIN_LENGTH as n8n does (held between 8 and 64)', () => {
		assert.match(ownerSetupProblems({ N8N_PASSWORD_MIN_LENGTH: '12', N8N_OWNER_PASSWORD: 'Choose1Good' })[0], /12 to 64 characters.*it is 11 characters long/);
		assert.equal(ownerPasswordRule({ N8N_PASSWORD_MIN_LENGTH: '4' }).startsWith('8 to 64'), true);
		assert.equal(ownerPasswordRule({ N8N_PASSWORD_MIN_LENGTH: '100' }).startsWith('64 to 64'), true);
	});

	test('refuses an e-mail address n8n would not take', () => {
		assert.deepEqual(ownerSetupProblems({ N8N_OWNER_EMAIL: 'admin' }), ['N8N_OWNER_EMAIL "admin" is not an e-mail address n8n accepts.']);
	});
});

describe('existingOwnerNotice: a later start with N8N_OWNER_EMAIL says which owner exists', () => {
	test('names the owner there is and how to replace it', () => {
		const notice = existingOwnerNotice({ requestedEmail: 'new@partner.no', knownOwnerEmail: 'admin@example.com' });
		assert.match(notice, /N8N_OWNER_EMAIL=new@partner\.no is not used: n8n already has the owner account admin@example\.com/);
		assert.match(notice, /npm start -- --reset-owner/);
	});

	test('says nothing when the asked-for owner is the one there is, or none was asked for', () => {
		assert.equal(existingOwnerNotice({ requestedEmail: 'admin@example.com', knownOwnerEmail: 'admin@example.com' }), undefined);
		assert.equal(existingOwnerNotice({ requestedEmail: undefined, knownOwnerEmail: 'admin@example.com' }), undefined);
	});

	test('an owner this folder has no record of is still said to exist', () => {
		assert.match(existingOwnerNotice({ requestedEmail: 'new@partner.no', knownOwnerEmail: undefined }), /n8n already has an owner account/);
	});
});

test('npm start with a password n8n would refuse stops before it installs, imports or resets anything', () => {
	const start = path.join(path.dirname(new URL(import.meta.url).pathname), 'start.mjs');
	const result = spawnSync(process.execPath, [start, '--reset-owner'], {
		env: { PATH: process.env.PATH, N8N_OWNER_EMAIL: 'you@partner.no', N8N_OWNER_PASSWORD: 'weakpassword' },
		encoding: 'utf8',
		timeout: 30_000,
	});
	assert.equal(result.status, 1, result.stdout + result.stderr);
	assert.match(result.stdout, /N8N_OWNER_PASSWORD does not meet n8n's rule for passwords .*: it has no number, it has no upper-case letter\./);
	assert.match(result.stdout, /Nothing was changed/);
	assert.doesNotMatch(result.stdout, /Installing|Importing|Resetting|Starting|Package/, 'nothing ran before the check');
});

test('of the shipped workflows, the alert is the one npm start publishes: n8n 2.x runs only a published error workflow', () => {
	const shipped = workflowFiles().map((file) => readWorkflow(file));
	const sync = shipped.find(({ name }) => name === 'Contracting → CRM sync');
	assert.deepEqual(errorWorkflows(shipped).map(({ id }) => id), [sync.settings.errorWorkflow]);
	assert.deepEqual(errorWorkflows([{ nodes: [{ type: 'n8n-nodes-base.manualTrigger' }] }, { name: 'no nodes' }]), []);
});
