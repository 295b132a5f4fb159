// `npm start`: a real n8n on http://localhost:5678 with this package installed and the shipped workflows
// imported. The first run installs Node 24 (when needed) and the pinned n8n into .n8n-local/ (a few minutes);
// later runs reuse them and start in seconds. Options: --reimport-workflows (replace the imported workflows
// with the files in workflows/, discarding edits made in n8n); --reset-owner (forget the owner account and
// create it again; workflows and credentials stay). Environment: see workflows/README.md ("`npm start` in detail").
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import {
	buildPackage,
	credentialReferences,
	credentialsFromEnvironment,
	defaultUserFolder,
	ensureN8n,
	ensureNode,
	existingOwnerNotice,
	generatePassword,
	importCredentials,
	importWorkflows,
	installPackage,
	N8N_VERSION,
	N8nRest,
	n8nCli,
	n8nEnvironment,
	ownerSetupProblems,
	portIsFree,
	publishErrorWorkflows,
	reachableUrl,
	readWorkflow,
	repoRoot,
	startN8n,
	step,
	waitUntilReady,
	workflowFiles,
} from './localN8n.mjs';

const started = Date.now();
const reimportWorkflows = process.argv.includes('--reimport-workflows');
const resetOwner = process.argv.includes('--reset-owner');
const userFolder = defaultUserFolder;
const importsRecord = path.join(userFolder, 'imports.json');
const ownerRecord = path.join(userFolder, 'owner-login.txt');

// What was imported from where. Credential fingerprints are keyed with this install's own random key and the
// file is readable by its owner only, like n8n's encryption key next to it.
const record = {
	key: randomBytes(32).toString('hex'),
	workflows: {},
	credentials: {},
	...(existsSync(importsRecord) ? JSON.parse(readFileSync(importsRecord, 'utf8')) : {}),
};
// Before anything is installed, imported or reset: an owner n8n would refuse must not cost the one there is.
const ownerProblems = ownerSetupProblems(process.env);
if (ownerProblems.length > 0) {
	for (const problem of ownerProblems) step(problem);
	step('Nothing was changed. Correct it and run npm start again.');
	process.exit(1);
}

const fingerprint = (value) => createHmac('sha256', record.key).update(JSON.stringify(value)).digest('hex');
const saveRecord = () => {
	writeFileSync(importsRecord, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
	chmodSync(importsRecord, 0o600);
};

const node = ensureNode();
const { n8nBin } = ensureN8n(node);
buildPackage();
installPackage(userFolder);

const env = n8nEnvironment({ node, userFolder });
const runtime = { node, n8nBin, env };
const baseUrl = `http://localhost:${env.N8N_PORT}`;
for (const [variable, what] of [['N8N_PORT', 'n8n'], ['N8N_RUNNERS_BROKER_PORT', "n8n's task broker"]]) {
	const port = Number(env[variable]);
	if (!(await portIsFree(port))) {
		step(`Port ${port} (${what}) is already in use: is another n8n running? Stop it, or choose another port: ${variable}=<port> npm start`);
		process.exit(1);
	}
}

// Workflows are imported once: a later import would overwrite what the partner changed in the editor.
const workflows = workflowFiles().map((file) => ({ file, name: path.relative(repoRoot, file), workflow: readWorkflow(file) }));
const alreadyImported = ({ name, workflow }) => !reimportWorkflows && record.workflows[name]?.id === workflow.id;
for (const entry of workflows.filter(alreadyImported)) {
	if (record.workflows[entry.name].fingerprint !== fingerprint(entry.workflow)) {
		step(`${entry.name} changed since it was imported; n8n keeps its copy. To replace it (edits made in n8n are lost): npm start -- --reimport-workflows`);
	}
}
const toImport = workflows.filter((entry) => !alreadyImported(entry));
if (toImport.length > 0) {
	step(`Importing ${toImport.map(({ name }) => name).join(', ')} ...`);
	importWorkflows(runtime, toImport.map(({ workflow }) => workflow));
	publishErrorWorkflows(runtime, toImport.map(({ workflow }) => workflow));
	for (const { name, workflow } of toImport) record.workflows[name] = { id: workflow.id, fingerprint: fingerprint(workflow) };
	saveRecord();
}

// Credentials given in the environment are applied whenever they change; only a fingerprint is kept.
const credentials = credentialsFromEnvironment(process.env, credentialReferences(workflows.map(({ workflow }) => workflow)));
const changedCredentials = credentials.filter((credential) => record.credentials[credential.type] !== fingerprint(credential));
if (changedCredentials.length > 0) {
	step(`Importing credentials from the environment: ${changedCredentials.map(({ name }) => name).join(', ')} ...`);
	importCredentials(runtime, changedCredentials);
	for (const credential of changedCredentials) record.credentials[credential.type] = fingerprint(credential);
	saveRecord();
}

if (resetOwner) {
	step('Resetting the owner account (workflows and credentials stay) ...');
	n8nCli(runtime, ['user-management:reset']);
	rmSync(ownerRecord, { force: true });
}

step(`Starting n8n ${N8N_VERSION} on ${baseUrl} (user folder .n8n-local/user) ...`);
const n8n = startN8n(runtime, 'inherit');
// Ctrl+C reaches n8n directly (same terminal process group); a second SIGINT would make it skip its clean
// shutdown, so only SIGTERM (sent to this script alone) is passed on.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => n8n.kill('SIGTERM'));
n8n.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

try {
	await waitUntilReady(reachableUrl(env), n8n);
} catch (error) {
	step(`n8n did not come up: ${error.message}`);
	n8n.kill('SIGTERM');
}
if (n8n.exitCode === null) {
	try {
		const owner = await ensureOwner(new N8nRest(reachableUrl(env)));
		step(`Ready in ${((Date.now() - started) / 1000).toFixed(0)} s: open ${baseUrl} and log in as ${owner}`);
	} catch (error) {
		step(`n8n runs, but refused the owner account: ${error.message}. Create it in the browser at ${baseUrl}.`);
	}
	step('Stop with Ctrl+C.');
}

async function ensureOwner(rest) {
	const email = process.env.N8N_OWNER_EMAIL || 'admin@example.com';
	const givenPassword = process.env.N8N_OWNER_PASSWORD;
	const password = givenPassword || generatePassword();
	if (await rest.setupOwner({ email, password })) {
		// The first line names the owner for later starts; the password is kept only when it was generated here.
		writeFileSync(ownerRecord, givenPassword ? `${email}\n` : `${email}\n${password}\n`, { mode: 0o600 });
		if (givenPassword) return `${email} (password from N8N_OWNER_PASSWORD)`;
		return `${email} with password ${password} (also saved in .n8n-local/user/owner-login.txt)`;
	}
	const [knownOwnerEmail, savedPassword] = existsSync(ownerRecord) ? readFileSync(ownerRecord, 'utf8').split('\n') : [];
	const notice = existingOwnerNotice({ requestedEmail: process.env.N8N_OWNER_EMAIL, knownOwnerEmail });
	if (notice) step(notice);
	if (knownOwnerEmail && savedPassword) return `${knownOwnerEmail} (password in .n8n-local/user/owner-login.txt)`;
	if (knownOwnerEmail) return `${knownOwnerEmail} (password forgotten? npm start -- --reset-owner)`;
	return 'the owner account created earlier (password forgotten? npm start -- --reset-owner)';
}
