// `npm run test:e2e`: this package in a real, pinned n8n (installed into .n8n-local/ on first use, see
// localN8n.mjs), started on free ports with a throw-away user folder and stopped at the end in every case.
// No SQL Server is needed: the credentials point at a closed port on 127.0.0.1, which is what the failure
// test wants. The last test saves the partner guide's screenshots from the editor (headless Chromium).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
	buildPackage,
	ensureN8n,
	ensureNode,
	ensureTool,
	freePort,
	generatePassword,
	importCredentials,
	importWorkflows,
	installPackage,
	N8nRest,
	n8nEnvironment,
	PACKAGE_NAME,
	publishErrorWorkflows,
	readWorkflow,
	repoRoot,
	startN8n,
	step,
	waitUntilReady,
	workflowFiles,
	CREDENTIALS_FROM_ENV,
	credentialReferences,
	credentialsFromEnvironment,
} from './localN8n.mjs';
import { queueModeSuite } from './queueMode.mjs';

const PACKAGE_NODE_TYPES = ['contracting', 'crm', 'watermark'].map((name) => `${PACKAGE_NAME}.${name}`);
const PACKAGE_CREDENTIAL_TYPES = CREDENTIALS_FROM_ENV.map(({ type }) => type);
const SCHEDULE_TRIGGER = 'n8n-nodes-base.scheduleTrigger';
const SCHEDULE_SECONDS = 5;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PLAYWRIGHT_CORE_VERSION = '1.65.1';
const OWNER = { email: 'e2e-owner@example.com', password: generatePassword() };
const resultsDir = path.join(repoRoot, 'test-results');
const SECRET = 'e2e-not-a-secret';
const UNKNOWN_SERVER = 'no-such-sql-server.invalid';

/** A copy of the sync workflow that runs every few seconds instead of every few minutes, under its own id. */
function scheduledEverySeconds(workflow, copy = { suffix: 'e2e1', what: `every ${SCHEDULE_SECONDS} s` }) {
	return {
		...workflow,
		id: `${workflow.id.slice(0, 12)}${copy.suffix}`,
		name: `${workflow.name} (e2e: ${copy.what})`,
		nodes: workflow.nodes.map((node) =>
			node.type === SCHEDULE_TRIGGER
				? { ...node, parameters: { ...node.parameters, rule: { interval: [{ field: 'seconds', secondsInterval: SCHEDULE_SECONDS }] } } }
				: node,
		),
	};
}

/** Each workflow's own credential references, bound to test credentials when a package node has none. */
function withCredentialsBound(workflow, references) {
	return {
		...workflow,
		nodes: workflow.nodes.map((node) =>
			node.type.startsWith(`${PACKAGE_NAME}.`) && !node.credentials ? { ...node, credentials: references } : node,
		),
	};
}

/** Every credential reference of the package's nodes pointed at `references` (by credential type). */
function withCredentialsReplaced(workflow, references) {
	return {
		...workflow,
		nodes: workflow.nodes.map((node) =>
			node.credentials && node.type.startsWith(`${PACKAGE_NAME}.`)
				? { ...node, credentials: Object.fromEntries(Object.keys(node.credentials).map((type) => [type, references[type]])) }
				: node,
		),
	};
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns a truthy value; fails with `what` when the deadline passes. */
async function eventually(what, probe, timeoutMs) {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await probe();
		if (value) return value;
		if (Date.now() > deadline) assert.fail(`${what} (waited ${timeoutMs / 1000} s)`);
		await sleep(500);
	}
}

describe('this package in a real n8n', { concurrency: 1 }, () => {
	const userFolder = mkdtempSync(path.join(os.tmpdir(), 'contracting-crm-e2e-'));
	const logLines = [];
	let n8n;
	let rest;
	let baseUrl;
	let flatted;
	let shipped; // [{ file, workflow }]
	let syncCopy;
	let unknownServerCopy;
	let missingCredentialCopy;
	let madeByPartner;
	let credentialIdsByType;
	let closedPort;
	const byTrigger = (type, what) => {
		const found = shipped.find(({ workflow }) => workflow.nodes.some((node) => node.type === type));
		assert.ok(found, `one of the workflows starts with ${type} (${what})`);
		return found.workflow;
	};
	const syncWorkflow = () => byTrigger(SCHEDULE_TRIGGER, 'the sync');
	const alertWorkflow = () => byTrigger('n8n-nodes-base.errorTrigger', 'the alert');
	const rewindWorkflow = () => byTrigger('n8n-nodes-base.formTrigger', 'the rewind');

	before(async () => {
		const node = ensureNode();
		const { n8nBin } = ensureN8n(node);
		flatted = createRequire(n8nBin)('flatted');
		buildPackage();
		installPackage(userFolder);

		const [port, brokerPort] = [await freePort(), await freePort()];
		closedPort = await freePort();
		baseUrl = `http://127.0.0.1:${port}`;
		const env = n8nEnvironment({
			node,
			userFolder,
			forced: { N8N_PORT: String(port), N8N_LISTEN_ADDRESS: '127.0.0.1', N8N_RUNNERS_BROKER_PORT: String(brokerPort), N8N_LOG_LEVEL: 'info' },
		});
		const runtime = { node, n8nBin, env };

		shipped = workflowFiles().map((file) => ({ file, workflow: readWorkflow(file) }));
		const references = credentialReferences(shipped.map(({ workflow }) => workflow));
		// The same path as `npm start` with CONTRACTING_SQL_* / CRM_SQL_* set, aimed at a port nothing listens on.
		const unreachable = Object.fromEntries(
			CREDENTIALS_FROM_ENV.flatMap(({ prefix }) =>
				Object.entries({ SERVER: '127.0.0.1', PORT: String(closedPort), DATABASE: 'E2E_NO_SUCH_DB', USER: 'e2e', PASSWORD: SECRET, ENCRYPT: 'false', CONNECT_TIMEOUT: '2000' }).map(
					([name, value]) => [`${prefix}${name}`, value],
				),
			),
		);
		const credentials = credentialsFromEnvironment(unreachable, references);
		assert.equal(credentials.length, 2);
		// The same again for a server name that does not resolve (.invalid never does), under ids of its own.
		const unknownServer = credentials.map((credential) => ({
			...credential,
			id: `${credential.id.slice(0, 10)}Dns001`,
			name: `${credential.name} (e2e: unknown server)`,
			data: { ...credential.data, server: UNKNOWN_SERVER },
		}));
		credentials.push(...unknownServer);
		const boundReferences = Object.fromEntries(credentials.map(({ type, id, name }) => [type, { id, name }]));
		syncCopy = withCredentialsBound(scheduledEverySeconds(syncWorkflow()), boundReferences);
		unknownServerCopy = withCredentialsReplaced(
			scheduledEverySeconds(syncWorkflow(), { suffix: 'dns1', what: 'unknown server' }),
			Object.fromEntries(unknownServer.map(({ type, id, name }) => [type, { id, name }])),
		);
		// As a workflow imported from file arrives in an n8n that has none of its credentials.
		missingCredentialCopy = withCredentialsReplaced(
			scheduledEverySeconds(syncWorkflow(), { suffix: 'nocr', what: 'no credentials' }),
			Object.fromEntries(PACKAGE_CREDENTIAL_TYPES.map((type) => [type, { id: `e2eMissing${type.slice(0, 6)}`, name: 'Not in this n8n' }])),
		);

		// The shipped workflows as they reach an n8n where the partner made the credentials (other ids, the names the
		// workflows refer to): n8n must give every node the one credential of that name.
		madeByPartner = shipped.map(({ workflow }) => ({
			...withCredentialsReplaced(
				{ ...workflow, id: `${workflow.id.slice(0, 12)}mine`, name: `${workflow.name} (e2e: credentials made by the partner)` },
				Object.fromEntries(Object.entries(references).map(([type, { name }]) => [type, { id: `NotThisId${type.slice(0, 7)}`, name }])),
			),
		}));

		step(`Importing credentials and ${shipped.length} workflows (+ the test's copies of them) ...`);
		importCredentials(runtime, credentials);
		importWorkflows(runtime, [...shipped.map(({ workflow }) => workflow), syncCopy, unknownServerCopy, missingCredentialCopy, ...madeByPartner]);
		publishErrorWorkflows(runtime, shipped.map(({ workflow }) => workflow)); // as `npm start` does
		credentialIdsByType = Object.fromEntries(credentials.filter(({ id }) => !unknownServer.some((other) => other.id === id)).map(({ type, id }) => [type, id]));

		step(`Starting n8n on ${baseUrl} (user folder ${userFolder}) ...`);
		n8n = startN8n(runtime, ['ignore', 'pipe', 'pipe']);
		// Last resort when the test process is torn down without `after` (Ctrl+C, a crash): n8n must not outlive it.
		process.once('exit', () => n8n.kill('SIGKILL'));
		for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130));
		for (const stream of [n8n.stdout, n8n.stderr]) {
			stream.setEncoding('utf8');
			stream.on('data', (chunk) => logLines.push(...chunk.split('\n').filter(Boolean)));
		}
		await waitUntilReady(baseUrl, n8n, 600_000); // a machine shared with other builds may need minutes
		rest = new N8nRest(baseUrl);
		assert.equal(await rest.setupOwner(OWNER), true, 'a fresh n8n asks for an owner account');
		await rest.login(OWNER.email, OWNER.password);
	});

	after(async () => {
		await stopN8n(n8n);
		mkdirSync(resultsDir, { recursive: true });
		writeFileSync(path.join(resultsDir, 'e2e-n8n.log'), `${logLines.join('\n')}\n`);
		rmSync(userFolder, { recursive: true, force: true });
	});

	test("the package's three nodes and two credentials load, and every node type the workflows use is known", async () => {
		const nodeTypes = await rest.request('GET', '/types/nodes.json');
		const credentialTypes = await rest.request('GET', '/types/credentials.json');
		const knownNodes = new Set(nodeTypes.map(({ name }) => name));
		const knownCredentials = new Set(credentialTypes.map(({ name }) => name));
		assert.deepEqual(PACKAGE_NODE_TYPES.filter((type) => !knownNodes.has(type)), [], 'node types of this package that n8n did not load');
		assert.deepEqual(PACKAGE_CREDENTIAL_TYPES.filter((type) => !knownCredentials.has(type)), [], 'credential types of this package that n8n did not load');
		const versions = (name) => nodeTypes.filter((type) => type.name === name).flatMap(({ version }) => [version].flat());
		const unknownNodes = shipped.flatMap(({ file, workflow }) =>
			workflow.nodes
				.filter((node) => !versions(node.type).includes(node.typeVersion))
				.map((node) => `${path.basename(file)}: "${node.name}" is ${node.type} v${node.typeVersion}; n8n has ${versions(node.type).join(', ') || 'no such type'}`),
		);
		assert.deepEqual(unknownNodes, [], 'nodes of the workflows whose type and version n8n does not know');
		const loadProblems = logLines.filter((line) => /unrecognized node type|unknown node type|failed to load|error loading|skipping package/i.test(line));
		assert.deepEqual(loadProblems, [], "n8n's log reports no node type it could not load");
	});

	test("n8n's node list finds each node by Visma, SQL Server, MSSQL, sync and watermark, under Data & Storage", async () => {
		const nodeTypes = await rest.request('GET', '/types/nodes.json');
		const ours = nodeTypes.filter(({ name }) => PACKAGE_NODE_TYPES.includes(name));
		assert.deepEqual(ours.map(({ displayName }) => displayName).sort(), ['Sync Watermark', 'Visma CRM', 'Visma Contracting']);
		// What the node panel's search looks at: the name and the codex aliases.
		const found = (term) => ours.filter(({ displayName, codex }) => [displayName, ...(codex?.alias ?? [])].some((text) => text.toLowerCase().includes(term.toLowerCase())));
		for (const term of ['Visma', 'SQL Server', 'MSSQL', 'sync', 'watermark']) {
			assert.equal(found(term).length, ours.length, `"${term}" finds all three nodes`);
		}
		for (const { displayName, codex } of ours) assert.ok(codex?.categories?.includes('Data & Storage'), `${displayName} is under Data & Storage`);
	});

	test('the four workflows import with all their nodes, the sync, the rewind and the status switched off, the alert published; the sync names the alert workflow as its error workflow', async () => {
		assert.equal(shipped.length, 4, `the sync, the rewind, the alert and the status (found ${shipped.map(({ file }) => path.basename(file))})`);
		for (const { file, workflow } of shipped) {
			const imported = await rest.request('GET', `/rest/workflows/${workflow.id}`);
			assert.equal(imported.name, workflow.name, path.basename(file));
			assert.deepEqual(imported.nodes.map(({ name }) => name).sort(), workflow.nodes.map(({ name }) => name).sort(), path.basename(file));
			const published = workflow.id === alertWorkflow().id;
			assert.equal(imported.active, published, `${path.basename(file)} is imported ${published ? 'published (n8n runs only a published error workflow)' : 'switched off'}`);
		}
		const sync = await rest.request('GET', `/rest/workflows/${syncWorkflow().id}`);
		assert.equal(sync.settings.errorWorkflow, alertWorkflow().id);
		assert.equal(sync.settings.saveDataSuccessExecution, 'none');
		assert.equal(sync.settings.saveDataErrorExecution, 'all');
	});

	// Runs the schedule started; a workflow that calls itself per batch also has sub-executions ('integrated').
	const scheduledRunsOf = async (workflowId) =>
		(await rest.request('GET', `/rest/executions?filter=${encodeURIComponent(JSON.stringify({ workflowId }))}&limit=250`)).results.filter(
			({ mode }) => mode === 'trigger',
		);

	test('publishing the sync workflow starts executions on schedule, unpublishing stops them', async () => {
		const { versionId } = await rest.request('GET', `/rest/workflows/${syncCopy.id}`);
		const activated = await rest.request('POST', `/rest/workflows/${syncCopy.id}/activate`, { versionId });
		assert.equal(activated.active, true);
		// One run finished while published: a run still working when the sync is unpublished cannot start its next batch
		// (n8n runs only a published workflow's version), which is not what the next tests look at.
		await eventually(
			`two scheduled executions, one of them finished, within ${SCHEDULE_SECONDS * 4} s`,
			async () => {
				const runs = await scheduledRunsOf(syncCopy.id);
				return runs.length >= 2 && runs.some(({ status }) => status === 'error' || status === 'success');
			},
			SCHEDULE_SECONDS * 4000 + 60_000,
		);

		const deactivated = await rest.request('POST', `/rest/workflows/${syncCopy.id}/deactivate`, {});
		assert.equal(deactivated.active, false);
		await sleep(1000); // lets a run the schedule fired just before unpublishing record itself first
		const countWhenStopped = (await scheduledRunsOf(syncCopy.id)).length;
		await sleep(SCHEDULE_SECONDS * 3000);
		assert.equal((await scheduledRunsOf(syncCopy.id)).length, countWhenStopped, 'no execution started after unpublishing');
	});

	test('with no SQL Server reachable, an execution fails naming the server and what to check, and n8n keeps running', async (t) => {
		assert.ok((await scheduledRunsOf(syncCopy.id)).length > 0, 'the sync has run (see the previous test)');
		const failed = await eventually(
			'a finished execution of the sync',
			async () => (await scheduledRunsOf(syncCopy.id)).findLast(({ status }) => status === 'error' || status === 'success'),
			60_000,
		);
		assert.equal(failed.status, 'error');
		const execution = await rest.request('GET', `/rest/executions/${failed.id}`);
		const { resultData } = flatted.parse(execution.data);
		const error = resultData.error;
		assert.ok(error, 'the execution records its error');
		const explained = `${error.message}\n${error.description ?? ''}`;
		t.diagnostic(`what the partner sees: ${explained.replace(/\n/g, ' | ')}`);
		assertOurMessageLeads(error, new RegExp(`^Stream "customers": Cannot connect to SQL Server 127\\.0\\.0\\.1:${closedPort}, database E2E_NO_SUCH_DB: nothing accepts connections on that port`));
		assert.match(error.description ?? '', /check the Port field/, `the description says what to check: ${explained}`);
		assert.ok(!explained.includes(SECRET), 'the password never appears in the error');
		assert.ok(!logLines.some((line) => line.includes(SECRET)), "the password never appears in n8n's log");
		assert.equal(n8n.exitCode, null, 'n8n is still running');
		assert.equal((await fetch(`${baseUrl}/healthz`)).status, 200);
	});

	test('one credential choice reaches every node: n8n gives each node the credential the workflows name', async () => {
		// The alert workflow has no node of this package: nothing of it uses these credentials.
		for (const workflow of madeByPartner.filter(({ nodes }) => nodes.some((node) => node.type.startsWith(`${PACKAGE_NAME}.`)))) {
			const imported = await rest.request('GET', `/rest/workflows/${workflow.id}`);
			const references = imported.nodes
				.filter((node) => node.type.startsWith(`${PACKAGE_NAME}.`))
				.flatMap((node) => Object.entries(node.credentials ?? {}).map(([type, { id }]) => `${node.name}: ${type} ${id}`));
			assert.ok(references.length > 0, workflow.name);
			const expected = imported.nodes
				.filter((node) => node.type.startsWith(`${PACKAGE_NAME}.`))
				.flatMap((node) => Object.keys(node.credentials ?? {}).map((type) => `${node.name}: ${type} ${credentialIdsByType[type]}`));
			assert.deepEqual(references, expected, `${workflow.name}: every node uses the one credential of the name it refers to`);
		}
	});

	/** Publishes `copy` until a scheduled run of it fails, unpublishes it, and returns that run's error. */
	async function firstScheduledFailure(copy) {
		const { versionId } = await rest.request('GET', `/rest/workflows/${copy.id}`);
		await rest.request('POST', `/rest/workflows/${copy.id}/activate`, { versionId });
		try {
			const failed = await eventually(
				`a failed scheduled run of "${copy.name}"`,
				async () => (await scheduledRunsOf(copy.id)).find(({ status }) => status === 'error'),
				SCHEDULE_SECONDS * 4000 + 30_000,
			);
			const execution = await rest.request('GET', `/rest/executions/${failed.id}`);
			return flatted.parse(execution.data).resultData.error;
		} finally {
			await rest.request('POST', `/rest/workflows/${copy.id}/deactivate`, {});
		}
	}

	test('a server name that does not resolve: our message leads, naming the server, not n8n\'s "incorrect host"', async (t) => {
		const error = await firstScheduledFailure(unknownServerCopy);
		t.diagnostic(`what the partner sees: ${error.message} | ${error.description ?? ''}`);
		assertOurMessageLeads(error, new RegExp(`^Stream "customers": Cannot connect to SQL Server ${UNKNOWN_SERVER.replace(/\./g, '\\.')}:${closedPort}, database E2E_NO_SUCH_DB: the server name does not resolve`));
		assert.match(error.description ?? '', /Check the Server field/);
	});

	test('a workflow whose credentials this n8n does not have: the first database node says which credential to create and where', async (t) => {
		const error = await firstScheduledFailure(missingCredentialCopy);
		t.diagnostic(`what the partner sees: ${error.message} | ${error.description ?? ''}`);
		assertOurMessageLeads(error, /Create the Visma CRM credential under Credentials, or pick one in "Get watermark"/);
		assert.match(error.description ?? '', /"Visma CRM SQL Server API"/);
	});

	test('a failed run starts the alert workflow, whose message names the stream, the node, the reason and what to do', async (t) => {
		const executionsOf = async (workflowId) =>
			(await rest.request('GET', `/rest/executions?filter=${encodeURIComponent(JSON.stringify({ workflowId }))}&limit=50`)).results;
		const message = await eventually(
			'an execution of the alert workflow with an alert message',
			async () => {
				for (const { id, mode } of await executionsOf(alertWorkflow().id)) {
					assert.equal(mode, 'error', 'n8n starts it as an error workflow');
					const { runData } = flatted.parse((await rest.request('GET', `/rest/executions/${id}`)).data).resultData;
					const failedWorkflow = runData['When the sync fails']?.[0]?.data?.main?.[0]?.[0]?.json.workflow;
					const json = runData['Alert message']?.[0]?.data?.main?.[0]?.[0]?.json;
					// A run cut short by unpublishing fails before it reaches SQL Server; the one that ran through names it.
					if (json && failedWorkflow?.id === syncCopy.id && /127\.0\.0\.1/.test(String(json.reason))) return json;
				}
				return undefined;
			},
			180_000,
		);
		t.diagnostic(`the alert:\n${message.subject}\n${message.text}`);
		assert.equal(message.stream, 'customers');
		assert.ok(message.node, 'the node that stopped the run');
		assert.match(message.reason, /127\.0\.0\.1/);
		assert.match(message.whatToDo, /check/i);
		assert.ok(!message.text.includes(SECRET), 'the password never appears in the alert');
	});

	test("screenshots for the partner guide: each workflow's canvas, each of this package's node panels, the rewind form", async (t) => {
		if (!existsSync(CHROMIUM)) {
			t.skip(`no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
			return;
		}
		const { chromium } = createRequire(import.meta.url)(ensureTool('playwright-core', PLAYWRIGHT_CORE_VERSION));
		const browser = await chromium.launch({
			executablePath: CHROMIUM,
			args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
		});
		const save = async (page, name) => {
			const target = path.join(repoRoot, 'workflows', 'screenshots', `${name}.png`);
			mkdirSync(path.dirname(target), { recursive: true });
			await page.screenshot({ path: target });
			step(`Screenshot: ${path.relative(repoRoot, target)}`);
		};
		try {
			const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
			page.setDefaultTimeout(120_000); // a machine shared with other builds
			await page.goto(`${baseUrl}/signin`);
			await page.locator('input[type="email"], input[name="emailOrLdapLoginId"]').first().fill(OWNER.email);
			await page.locator('input[type="password"]').first().fill(OWNER.password);
			await page.locator('input[type="password"]').first().press('Enter');
			await page.waitForURL((url) => !url.pathname.startsWith('/signin'));
			for (const { file, workflow } of shipped) {
				await page.goto(`${baseUrl}/workflow/${workflow.id}`);
				await page.locator('[data-test-id="canvas-node"]').first().waitFor();
				// Sticky notes may or may not render as canvas nodes; every other node must.
				const shown = await page.locator('[data-test-id="canvas-node"]').count();
				const notes = workflow.nodes.filter((node) => node.type === 'n8n-nodes-base.stickyNote').length;
				assert.ok(shown >= workflow.nodes.length - notes && shown <= workflow.nodes.length, `${path.basename(file)}: the editor shows ${shown} of ${workflow.nodes.length} nodes`);
				await page.keyboard.press('1'); // zoom to fit
				await sleep(1000);
				await save(page, screenshotName(file));
			}
			// Each of this package's nodes as the partner first meets it: opened in the shipped sync workflow.
			for (const type of PACKAGE_NODE_TYPES) {
				const node = syncWorkflow().nodes.find((candidate) => candidate.type === type);
				assert.ok(node, `the sync workflow has a ${type} node`);
				await page.goto(`${baseUrl}/workflow/${syncWorkflow().id}/${node.id}`);
				await page.locator('[data-test-id="ndv"]').first().waitFor();
				await page.getByText(node.name).first().waitFor();
				await sleep(2500); // lets the lists that need the (unreachable) SQL Server give up
				await save(page, `panel-${type.split('.').pop()}`);
			}
			// The rewind form as support sees it: published, opened by a logged-in user, then unpublished again.
			const rewind = rewindWorkflow();
			// The form's address is the webhook id n8n holds for the imported workflow (it may give the node a new one).
			const { versionId, nodes: importedNodes } = await rest.request('GET', `/rest/workflows/${rewind.id}`);
			const form = importedNodes.find((node) => node.type === 'n8n-nodes-base.formTrigger');
			assert.equal((await rest.request('POST', `/rest/workflows/${rewind.id}/activate`, { versionId })).active, true, 'the rewind workflow publishes');
			try {
				// Publishing answers before n8n has registered the form's webhook: until then the address answers 404.
				await eventually('the published rewind form is registered', async () => (await fetch(`${baseUrl}/form/${form.webhookId}`)).status !== 404, 60_000);
				const response = await page.goto(`${baseUrl}/form/${form.webhookId}`);
				t.diagnostic(`the rewind form answers ${response?.status()} at /form/${form.webhookId}`);
				// The form is for signed-in n8n users: n8n asks support to sign in on the form's own page first.
				const email = page.locator('input[type="email"], input[name="emailOrLdapLoginId"]').first();
				await page.getByText(form.parameters.formTitle).first().or(email).first().waitFor();
				if (await email.isVisible()) {
					await email.fill(OWNER.email);
					await page.locator('input[type="password"]').first().fill(OWNER.password);
					await page.locator('input[type="password"]').first().press('Enter');
				}
				// n8n 2.x then asks once whether the form may run with that login (it runs the workflow as that user).
				const allow = page.getByRole('button', { name: 'Allow access' });
				await page.getByText(form.parameters.formTitle).first().or(allow).first().waitFor();
				if (await allow.isVisible()) await allow.click();
				await page
					.getByText(form.parameters.formTitle)
					.first()
					.waitFor()
					.catch(async (error) => {
						// What the browser got instead, for whoever reads the failure.
						mkdirSync(path.join(repoRoot, 'test-results'), { recursive: true });
						await page.screenshot({ path: path.join(repoRoot, 'test-results', 'rewind-form-failed.png') });
						writeFileSync(path.join(repoRoot, 'test-results', 'rewind-form-failed.html'), await page.content());
						throw error;
					});
				for (const field of form.parameters.formFields.values) await page.getByText(field.fieldLabel).first().waitFor();
				await save(page, 'rewind-form');
			} finally {
				await rest.request('POST', `/rest/workflows/${rewind.id}/deactivate`, {});
			}
		} finally {
			await browser.close();
		}
	});
});

/** Our words come first: not n8n's generic texts, not the driver's codes, never the password. */
function assertOurMessageLeads(error, headline) {
	assert.ok(error, 'the execution records its error');
	assert.match(error.message, headline, `the message leads with ours: ${error.message}`);
	const shown = `${error.message}\n${error.description ?? ''}`;
	assert.doesNotMatch(shown, /incorrect host|perhaps it is offline|\((sequence|parallel)\)|ENOTFOUND|ECONNREFUSED|Credential with ID/, shown);
	assert.ok(!shown.includes(SECRET), 'the password never appears in the error');
}

/** workflows/contracting-crm-sync.json -> sync */
function screenshotName(file) {
	return path.basename(file, '.json').replace(/^contracting-crm-/, '');
}

async function stopN8n(child) {
	if (!child || child.exitCode !== null || child.signalCode !== null) return;
	const exited = new Promise((resolve) => child.once('exit', resolve));
	child.kill('SIGTERM');
	const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
	await exited;
	clearTimeout(timer);
}

queueModeSuite({ scheduledEverySeconds, withCredentialsBound, eventually, sleep, stopProcess: stopN8n });
