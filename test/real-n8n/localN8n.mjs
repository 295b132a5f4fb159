// A real, pinned n8n on this machine, shared by `npm start` (start.mjs) and `npm run test:e2e` (e2e.mjs).
// Everything lands in the git-ignored .n8n-local/ folder:
//   node-24/  Node 24 from npm, when the machine's Node is older (n8n 2.x needs Node 24)
//   n8n/      the pinned n8n, installed once; install.json marks a finished install
//   tools/    e2e-only tools (playwright-core)
//   user/     N8N_USER_FOLDER of `npm start`: database, encryption key, installed community package
// Plain Node ESM without dependencies, so it runs on the machine's Node 20 before anything is installed.
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const N8N_VERSION = '2.40.7';
const NODE_MAJOR = 24;
export const PACKAGE_NAME = 'n8n-nodes-contracting-crm';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const localDir = path.join(repoRoot, '.n8n-local');
export const defaultUserFolder = path.join(localDir, 'user');
const nodeInstallDir = path.join(localDir, 'node-24');
const n8nInstallDir = path.join(localDir, 'n8n');
const toolsDir = path.join(localDir, 'tools');
const n8nInstallMarker = path.join(n8nInstallDir, 'install.json');

export function step(message) {
	console.log(`[n8n-local] ${message}`);
}

function run(command, args, options = {}) {
	execFileSync(command, args, { stdio: 'inherit', ...options });
}

function readJson(file, fallback) {
	return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : fallback;
}

function writeJson(file, value) {
	mkdirSync(path.dirname(file), { recursive: true });
	writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

function sha256(buffer) {
	return createHash('sha256').update(buffer).digest('hex');
}

function withSeconds(label, action) {
	const started = Date.now();
	const result = action();
	step(`${label} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
	return result;
}

// npm running under `npm start` exports its own config (e.g. a nodedir for the machine's Node) to children;
// installs below must see only what they are given.
function envWithoutNpmConfig(extra = {}) {
	const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)));
	return { ...env, ...extra };
}

function npmPackageForThisPlatform() {
	const platform = { linux: 'linux', darwin: 'darwin' }[process.platform];
	if (!platform) {
		throw new Error(
			`Node ${NODE_MAJOR} must be installed by hand on ${process.platform}: n8n ${N8N_VERSION} needs it, and this script only fetches it on Linux and macOS.`,
		);
	}
	return `node-${platform}-${process.arch}`;
}

/** Node 24 for n8n: the machine's own when it is new enough, else one installed from npm into .n8n-local/node-24. */
export function ensureNode() {
	if (Number(process.versions.node.split('.')[0]) >= NODE_MAJOR) {
		return { nodeBin: process.execPath, nodeDir: path.resolve(path.dirname(process.execPath), '..') };
	}
	const packageName = npmPackageForThisPlatform();
	const nodeDir = path.join(nodeInstallDir, 'node_modules', packageName);
	const nodeBin = path.join(nodeDir, 'bin', 'node');
	const installed = existsSync(nodeBin) && execFileSync(nodeBin, ['--version'], { encoding: 'utf8' }).startsWith(`v${NODE_MAJOR}.`);
	if (!installed) {
		step(`Installing Node ${NODE_MAJOR} from npm (${packageName}@${NODE_MAJOR}) into .n8n-local/node-24 ...`);
		rmSync(nodeInstallDir, { recursive: true, force: true });
		writeJson(path.join(nodeInstallDir, 'package.json'), { private: true, description: 'Node for the local n8n' });
		withSeconds(`Node ${NODE_MAJOR} installed`, () =>
			run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', `${packageName}@${NODE_MAJOR}`], {
				cwd: nodeInstallDir,
				env: envWithoutNpmConfig(),
			}),
		);
	}
	return { nodeBin, nodeDir };
}

/** PATH with the chosen Node first, so `npm`, `npx` and n8n's own child processes all run on it. */
function pathWith(nodeBin) {
	return [path.dirname(nodeBin), process.env.PATH].join(path.delimiter);
}

function nodeGypScript() {
	const candidates = [
		process.env.npm_config_node_gyp,
		path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
	];
	try {
		const npmRoot = execFileSync('npm', ['root', '-g'], { encoding: 'utf8', env: envWithoutNpmConfig() }).trim();
		candidates.push(path.join(npmRoot, 'npm/node_modules/node-gyp/bin/node-gyp.js'));
	} catch {
		// no global npm root: the candidates above or npx remain
	}
	return candidates.find((candidate) => candidate && candidate.endsWith('.js') && existsSync(candidate));
}

/**
 * The pinned n8n in .n8n-local/n8n, installed once. Its install scripts stay off (they would fetch prebuilt
 * binaries from GitHub, which this network does not reach); sqlite3, the one native module n8n needs, is
 * compiled against the Node headers instead.
 */
export function ensureN8n(node) {
	// sqlite3 is built on Node-API, so any Node of the same major line runs it: a Node update does not reinstall n8n.
	const nodeMajor = execFileSync(node.nodeBin, ['--version'], { encoding: 'utf8' }).trim().split('.')[0];
	const wanted = { n8n: N8N_VERSION, node: nodeMajor };
	const marker = readJson(n8nInstallMarker, {});
	const n8nBin = path.join(n8nInstallDir, 'node_modules', 'n8n', 'bin', 'n8n');
	if (marker.n8n === wanted.n8n && marker.node === wanted.node && existsSync(n8nBin)) {
		return { n8nBin };
	}
	step(`Installing n8n ${N8N_VERSION} into .n8n-local/n8n (once; a few minutes) ...`);
	const started = Date.now();
	rmSync(n8nInstallDir, { recursive: true, force: true });
	writeJson(path.join(n8nInstallDir, 'package.json'), {
		private: true,
		description: 'The pinned n8n that `npm start` and `npm run test:e2e` run',
		dependencies: { n8n: N8N_VERSION },
	});
	const env = envWithoutNpmConfig({ PATH: pathWith(node.nodeBin), npm_config_nodedir: node.nodeDir });
	withSeconds(`n8n ${N8N_VERSION} downloaded`, () =>
		run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: n8nInstallDir, env }),
	);
	const sqlite3Dir = path.join(n8nInstallDir, 'node_modules', 'sqlite3');
	const gyp = nodeGypScript();
	const gypCommand = gyp ? [node.nodeBin, [gyp]] : ['npx', ['--yes', 'node-gyp']];
	const buildLog = path.join(n8nInstallDir, 'sqlite3-build.log');
	const logFd = openSync(buildLog, 'w');
	try {
		withSeconds('sqlite3 compiled for n8n', () =>
			run(gypCommand[0], [...gypCommand[1], 'rebuild', `--nodedir=${node.nodeDir}`], { cwd: sqlite3Dir, env, stdio: ['ignore', logFd, logFd] }),
		);
	} catch (error) {
		throw new Error(`Compiling sqlite3 for n8n failed (a C/C++ compiler, make and python3 are needed); see ${buildLog}`, { cause: error });
	} finally {
		closeSync(logFd);
	}
	run(node.nodeBin, ['-e', "require('sqlite3')"], { cwd: n8nInstallDir, env });
	writeJson(n8nInstallMarker, { ...wanted, installedAt: new Date().toISOString(), seconds: Math.round((Date.now() - started) / 1000) });
	step(`n8n ${N8N_VERSION} installed in ${Math.round((Date.now() - started) / 1000)} s`);
	return { n8nBin };
}

/** An npm package that only the e2e test uses, installed into .n8n-local/tools so package.json stays as it is. */
export function ensureTool(name, version) {
	const moduleDir = path.join(toolsDir, 'node_modules', name);
	if (readJson(path.join(moduleDir, 'package.json'), {}).version !== version) {
		step(`Installing ${name}@${version} into .n8n-local/tools ...`);
		writeJson(path.join(toolsDir, 'package.json'), { private: true, description: 'Tools for the e2e test only' });
		run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--no-save', '--loglevel=error', `${name}@${version}`], {
			cwd: toolsDir,
			env: envWithoutNpmConfig(),
		});
	}
	return path.join(moduleDir, readJson(path.join(moduleDir, 'package.json'), {}).main ?? 'index.js');
}

const buildStamp = path.join(localDir, 'build.stamp');
const BUILD_INPUTS = ['nodes', 'credentials', 'package.json', 'package-lock.json', 'tsconfig.json'];

function newestChange(entry) {
	const stats = statSync(entry);
	if (!stats.isDirectory()) return stats.mtimeMs;
	return Math.max(stats.mtimeMs, ...readdirSync(entry).map((name) => newestChange(path.join(entry, name))));
}

/**
 * Installs the dependencies when needed and builds this package into dist/ (test/support/prepare.mjs);
 * skipped when nothing the package is built from changed since the last build made here.
 */
export function buildPackage() {
	const newestInput = Math.max(...BUILD_INPUTS.map((entry) => path.join(repoRoot, entry)).filter(existsSync).map(newestChange));
	const builtAt = existsSync(buildStamp) && existsSync(path.join(repoRoot, 'dist')) ? statSync(buildStamp).mtimeMs : 0;
	if (newestInput < builtAt) {
		step('Package unchanged since the last build');
		return;
	}
	const startedAt = new Date();
	withSeconds('Package built', () => run(process.execPath, [path.join(repoRoot, 'test/support/prepare.mjs')], { cwd: repoRoot }));
	mkdirSync(localDir, { recursive: true });
	writeFileSync(buildStamp, '');
	utimesSync(buildStamp, startedAt, startedAt);
}

/**
 * Installs this package into `<userFolder>/.n8n/nodes` the way n8n 2.x installs a community package
 * (CommunityPackagesService.downloadPackage): pack, unpack into node_modules/<name>, drop dev/peer/optional
 * dependencies from its package.json, `npm install` its runtime dependencies inside it, record it in the
 * nodes folder's package.json. Skipped when the packed tarball is the one installed last time.
 */
export function installPackage(userFolder) {
	const nodesDir = path.join(userFolder, '.n8n', 'nodes');
	const packageDir = path.join(nodesDir, 'node_modules', PACKAGE_NAME);
	const installedMarker = path.join(nodesDir, `.${PACKAGE_NAME}.sha256`);
	const packDir = mkdtempSync(path.join(os.tmpdir(), 'contracting-crm-pack-'));
	try {
		const env = envWithoutNpmConfig();
		const [{ filename }] = JSON.parse(
			execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packDir], { cwd: repoRoot, encoding: 'utf8', env }),
		);
		const tarball = path.join(packDir, path.basename(filename));
		const digest = sha256(readFileSync(tarball));
		if (existsSync(installedMarker) && readFileSync(installedMarker, 'utf8').trim() === digest && existsSync(packageDir)) {
			step(`${PACKAGE_NAME} already installed in n8n (unchanged)`);
			return { changed: false };
		}
		step(`Installing ${PACKAGE_NAME} into n8n's community nodes folder ...`);
		rmSync(packageDir, { recursive: true, force: true });
		mkdirSync(packageDir, { recursive: true });
		run('tar', ['-xzf', tarball, '-C', packageDir, '--strip-components=1']);
		const packageJsonPath = path.join(packageDir, 'package.json');
		const { devDependencies, peerDependencies, optionalDependencies, ...packageJson } = readJson(packageJsonPath);
		writeJson(packageJsonPath, packageJson);
		withSeconds(`${PACKAGE_NAME} installed with its runtime dependencies`, () =>
			run(
				'npm',
				[
					'install',
					'--audit=false',
					'--fund=false',
					'--bin-links=false',
					'--install-strategy=shallow',
					'--ignore-scripts=true',
					'--package-lock=false',
					'--loglevel=error',
				],
				{ cwd: packageDir, env },
			),
		);
		const nodesPackageJson = readJson(path.join(nodesDir, 'package.json'), { name: 'installed-nodes', private: true, dependencies: {} });
		nodesPackageJson.dependencies = { ...nodesPackageJson.dependencies, [PACKAGE_NAME]: packageJson.version };
		writeJson(path.join(nodesDir, 'package.json'), nodesPackageJson);
		writeFileSync(installedMarker, `${digest}\n`);
		return { changed: true };
	} finally {
		rmSync(packDir, { recursive: true, force: true });
	}
}

/** The workflows to import: every workflows/*.json, in name order. */
export function workflowFiles() {
	const dir = path.join(repoRoot, 'workflows');
	return readdirSync(dir)
		.filter((name) => name.endsWith('.json'))
		.sort()
		.map((name) => path.join(dir, name));
}

/** A stable workflow id for a file without one, so importing it again replaces it instead of adding a copy. */
function stableWorkflowId(file) {
	return sha256(Buffer.from(path.basename(file))).replace(/[^a-zA-Z0-9]/g, '').slice(0, 16);
}

export function readWorkflow(file) {
	const workflow = readJson(file);
	return { ...workflow, id: workflow.id ?? stableWorkflowId(file) };
}

/** Credential references ({id, name}) by credential type, as the workflows use them. */
export function credentialReferences(workflows) {
	const references = {};
	for (const workflow of workflows) {
		for (const node of workflow.nodes ?? []) {
			for (const [type, reference] of Object.entries(node.credentials ?? {})) {
				if (reference?.id && !references[type]) references[type] = { id: reference.id, name: reference.name };
			}
		}
	}
	return references;
}

export const CREDENTIALS_FROM_ENV = [
	{ type: 'contractingSqlServerApi', prefix: 'CONTRACTING_SQL_', defaultId: 'contractingSqlSrv', defaultName: 'Contracting SQL Server' },
	{ type: 'crmSqlServerApi', prefix: 'CRM_SQL_', defaultId: 'crmSqlServer0001', defaultName: 'CRM SQL Server' },
];

const booleanText = (text) => !/^(0|false|no|off)$/i.test(text.trim());

/** Credentials for `n8n import:credentials` from CONTRACTING_SQL_* / CRM_SQL_* variables (only those with a SERVER). */
export function credentialsFromEnvironment(env, references) {
	return CREDENTIALS_FROM_ENV.filter(({ prefix }) => env[`${prefix}SERVER`]).map(({ type, prefix, defaultId, defaultName }) => {
		const value = (name) => env[`${prefix}${name}`];
		const data = {
			server: value('SERVER'),
			port: Number(value('PORT') ?? 1433),
			database: value('DATABASE') ?? '',
			user: value('USER') ?? '',
			password: value('PASSWORD') ?? '',
			domain: value('DOMAIN') ?? '',
			encrypt: value('ENCRYPT') === undefined ? true : booleanText(value('ENCRYPT')),
			trustServerCertificate: value('TRUST_SERVER_CERTIFICATE') === undefined ? false : booleanText(value('TRUST_SERVER_CERTIFICATE')),
		};
		if (value('CONNECT_TIMEOUT')) data.connectTimeout = Number(value('CONNECT_TIMEOUT'));
		if (value('REQUEST_TIMEOUT')) data.requestTimeout = Number(value('REQUEST_TIMEOUT'));
		const reference = references[type] ?? { id: defaultId, name: defaultName };
		return { id: reference.id, name: reference.name ?? defaultName, type, data };
	});
}

/**
 * The environment n8n runs in: nothing that phones home, community packages on; the caller's own N8N_*
 * variables win over these defaults, `forced` wins over everything (the test's ports, the user folder).
 */
export function n8nEnvironment({ node, userFolder, forced = {} }) {
	return {
		N8N_PORT: '5678',
		// Only this machine: cookies travel over plain http here (N8N_SECURE_COOKIE=false). N8N_LISTEN_ADDRESS=0.0.0.0 opens it up.
		N8N_LISTEN_ADDRESS: '127.0.0.1',
		N8N_RUNNERS_BROKER_PORT: '5679',
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_WHATS_NEW_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_HIRING_BANNER_ENABLED: 'false',
		N8N_DYNAMIC_BANNERS_ENABLED: 'false',
		N8N_LICENSE_AUTO_RENEW_ENABLED: 'false',
		N8N_AI_ENABLED: 'false',
		N8N_DISABLED_MODULES: 'mcp-registry', // it refreshes a catalogue from api.n8n.io
		N8N_COMMUNITY_PACKAGES_ENABLED: 'true',
		N8N_VERIFIED_PACKAGES_ENABLED: 'false',
		N8N_UNVERIFIED_PACKAGES_ENABLED: 'true',
		N8N_REINSTALL_MISSING_PACKAGES: 'false',
		N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'true',
		N8N_SECURE_COOKIE: 'false',
		...envWithoutNpmConfig(),
		...forced,
		PATH: pathWith(node.nodeBin),
		N8N_USER_FOLDER: userFolder,
	};
}

/** Where this machine reaches the n8n that `env` describes (fetch does not fall back from ::1 to 127.0.0.1 for "localhost"). */
export function reachableUrl(env) {
	const address = env.N8N_LISTEN_ADDRESS;
	const host = !address || ['0.0.0.0', '::', '127.0.0.1'].includes(address) ? '127.0.0.1' : address.includes(':') ? `[${address}]` : address;
	return `http://${host}:${env.N8N_PORT}`;
}

/** Runs an n8n CLI command (import:workflow, import:credentials, ...) to completion. */
export function n8nCli({ node, n8nBin, env }, args) {
	run(node.nodeBin, [n8nBin, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
}

/** Imports workflows (a list of objects) in one n8n CLI run, through a temporary file. */
export function importWorkflows(runtime, workflows) {
	importThroughFile(runtime, 'import:workflow', workflows);
}

const ERROR_TRIGGER = 'n8n-nodes-base.errorTrigger';

/** The workflows that start with an Error Trigger: n8n 2.x runs a workflow's error workflow only once it is published. */
export function errorWorkflows(workflows) {
	return workflows.filter((workflow) => workflow.nodes?.some((node) => node.type === ERROR_TRIGGER));
}

/** Publishes the error workflows among `workflows` (its current version), so a failed sync run starts its alert. */
export function publishErrorWorkflows(runtime, workflows) {
	for (const { id } of errorWorkflows(workflows)) n8nCli(runtime, ['publish:workflow', `--id=${id}`]);
}

export function importCredentials(runtime, credentials) {
	importThroughFile(runtime, 'import:credentials', credentials);
}

function importThroughFile(runtime, command, items) {
	const dir = mkdtempSync(path.join(os.tmpdir(), 'contracting-crm-import-'));
	try {
		const file = path.join(dir, 'import.json');
		writeFileSync(file, JSON.stringify(items), { mode: 0o600 });
		n8nCli(runtime, [command, `--input=${file}`]);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

export function freePort() {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address();
			server.close(() => resolve(port));
		});
	});
}

/** Whether nothing listens on `port` yet (n8n listens on all interfaces by default). */
export function portIsFree(port) {
	return new Promise((resolve) => {
		const server = createServer();
		server.once('error', () => resolve(false));
		server.listen(port, () => server.close(() => resolve(true)));
	});
}

/** Starts `n8n start`; output goes where `stdio` says. */
export function startN8n({ node, n8nBin, env }, stdio) {
	return spawn(node.nodeBin, [n8nBin, 'start'], { env, stdio });
}

/** Resolves when n8n answers its readiness probe (database up, migrations done); rejects if it exits first. */
export async function waitUntilReady(baseUrl, child, timeoutMs = 180_000) {
	const deadline = Date.now() + timeoutMs;
	let exited = null;
	child.once('exit', (code, signal) => {
		exited = { code, signal };
	});
	while (Date.now() < deadline) {
		if (exited) throw new Error(`n8n exited before it was ready (code ${exited.code}, signal ${exited.signal})`);
		try {
			const response = await fetch(`${baseUrl}/healthz/readiness`);
			if (response.ok) return;
		} catch {
			// not listening yet
		}
		await new Promise((resolve) => setTimeout(resolve, 500));
	}
	throw new Error(`n8n did not become ready within ${timeoutMs / 1000} s`);
}

const PASSWORD_MAX_LENGTH = 64;

/** The shortest owner password n8n accepts: 8, or N8N_PASSWORD_MIN_LENGTH held between 8 and 64 (as n8n does). */
function passwordMinLength(env) {
	const wanted = Number.parseInt(env.N8N_PASSWORD_MIN_LENGTH ?? '', 10);
	return Number.isFinite(wanted) ? Math.min(Math.max(wanted, 8), PASSWORD_MAX_LENGTH) : 8;
}

/** n8n's rule for a password, in words (n8n 2.40's passwordSchema in @n8n/api-types). */
export function ownerPasswordRule(env = process.env) {
	return `${passwordMinLength(env)} to ${PASSWORD_MAX_LENGTH} characters, with at least 1 number and 1 upper-case letter (A-Z)`;
}

/**
 * Why n8n would refuse N8N_OWNER_EMAIL / N8N_OWNER_PASSWORD as the owner account, one line each; empty when it
 * would accept them. Checked before `npm start` changes anything, so a refused owner never costs the old one.
 */
export function ownerSetupProblems(env = process.env) {
	const problems = [];
	const email = env.N8N_OWNER_EMAIL;
	if (email !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
		problems.push(`N8N_OWNER_EMAIL "${email}" is not an e-mail address n8n accepts.`);
	}
	const password = env.N8N_OWNER_PASSWORD;
	if (password !== undefined) {
		const missing = [
			password.length < passwordMinLength(env) || password.length > PASSWORD_MAX_LENGTH ? `it is ${password.length} characters long` : undefined,
			/\d/.test(password) ? undefined : 'it has no number',
			/[A-Z]/.test(password) ? undefined : 'it has no upper-case letter',
		].filter(Boolean);
		if (missing.length > 0) {
			problems.push(`N8N_OWNER_PASSWORD does not meet n8n's rule for passwords (${ownerPasswordRule(env)}): ${missing.join(', ')}.`);
		}
	}
	return problems;
}

/** What to say when an owner account exists already and this start asked for one by N8N_OWNER_EMAIL. */
export function existingOwnerNotice({ requestedEmail, knownOwnerEmail }) {
	const owner = knownOwnerEmail ? `the owner account ${knownOwnerEmail}` : 'an owner account (created in the browser or before this folder kept track)';
	if (!requestedEmail || requestedEmail === knownOwnerEmail) return undefined;
	return `N8N_OWNER_EMAIL=${requestedEmail} is not used: n8n already has ${owner}, and N8N_OWNER_EMAIL / N8N_OWNER_PASSWORD only apply when the owner is created. To replace it: npm start -- --reset-owner (workflows and credentials stay).`;
}

/** A password n8n accepts (8+ characters, a digit, an upper-case letter). */
export function generatePassword() {
	return `Cc${randomBytes(12).toString('base64url')}7`;
}

/** A small client for n8n's internal REST API (the one the editor uses), logged in by cookie. */
export class N8nRest {
	constructor(baseUrl) {
		this.baseUrl = baseUrl;
		this.cookie = '';
	}

	async request(method, route, body) {
		const response = await fetch(`${this.baseUrl}${route}`, {
			method,
			headers: { 'content-type': 'application/json', ...(this.cookie ? { cookie: this.cookie } : {}), 'browser-id': 'contracting-crm-e2e' },
			body: body === undefined ? undefined : JSON.stringify(body),
		}).catch((error) => {
			// fetch says only "fetch failed"; the reason (reset, refused, timeout) is in its cause.
			throw new Error(`${method} ${route} failed: ${error.cause?.code ?? ''} ${error.cause?.message ?? error.message}`.trim(), { cause: error });
		});
		const setCookie = response.headers.getSetCookie?.() ?? [];
		const auth = setCookie.find((cookie) => cookie.startsWith('n8n-auth='));
		if (auth) this.cookie = auth.split(';')[0];
		const text = await response.text();
		const json = text ? safeJson(text) : undefined;
		if (!response.ok) {
			const message = json?.message ?? text;
			throw Object.assign(new Error(`${method} ${route} answered ${response.status}: ${message}`), { status: response.status });
		}
		return json && typeof json === 'object' && 'data' in json ? json.data : json;
	}

	async settings() {
		return await this.request('GET', '/rest/settings');
	}

	/** Creates the owner account unless one exists; returns whether it created it. */
	async setupOwner({ email, password, firstName = 'Instance', lastName = 'Owner' }) {
		const settings = await this.settings();
		if (!settings.userManagement?.showSetupOnFirstLoad) return false;
		await this.request('POST', '/rest/owner/setup', { email, password, firstName, lastName });
		return true;
	}

	async login(email, password) {
		await this.request('POST', '/rest/login', { emailOrLdapLoginId: email, password });
	}
}

function safeJson(text) {
	try {
		return JSON.parse(text);
	} catch {
		return undefined;
	}
}
