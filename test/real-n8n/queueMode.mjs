// The queue-mode part of `npm run test:e2e`: Redis (the machine's redis-server) and a throw-away PostgreSQL (the
// machine's PostgreSQL server binaries), each on a free port in a temp folder, an n8n main process and two workers
// (EXECUTIONS_MODE=queue) sharing that database and one throw-away user folder, and the sync published with a
// 5-second schedule. No SQL Server is reachable, so every batch stops at the watermark; that is enough to see who
// runs what, when. Skipped with one clear line where redis-server or PostgreSQL's binaries are not installed.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
	CREDENTIALS_FROM_ENV,
	N8nRest,
	buildPackage,
	credentialReferences,
	credentialsFromEnvironment,
	ensureN8n,
	ensureNode,
	freePort,
	generatePassword,
	importCredentials,
	importWorkflows,
	installPackage,
	n8nEnvironment,
	readWorkflow,
	repoRoot,
	step,
	waitUntilReady,
	workflowFiles,
} from './localN8n.mjs';

const WORKERS = ['worker-1', 'worker-2'];
const SYNC_ID = 'cCrmSyncWorkflw1';
const STREAMS = ['customers', 'orders'];

function redisServerPath() {
	try {
		return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
	} catch {
		return undefined;
	}
}

const POSTGRES_PACKAGES = '/usr/lib/postgresql';

/** The bin folder of the newest PostgreSQL server the machine's packages installed (Debian/Ubuntu: one folder per major version). */
function postgresBinDir() {
	if (!existsSync(POSTGRES_PACKAGES)) return undefined;
	return readdirSync(POSTGRES_PACKAGES)
		.sort((a, b) => Number(b) - Number(a))
		.map((version) => path.join(POSTGRES_PACKAGES, version, 'bin'))
		.find((dir) => ['initdb', 'postgres', 'createdb'].every((name) => existsSync(path.join(dir, name))));
}

/** A child process whose output is kept, line by line, under its name. */
function spawnLogged(name, command, args, env, logs, options = {}) {
	const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'], ...options });
	logs[name] = [];
	for (const stream of [child.stdout, child.stderr]) {
		stream.setEncoding('utf8');
		stream.on('data', (chunk) => logs[name].push(...chunk.split('\n').filter(Boolean)));
	}
	process.once('exit', () => child.kill('SIGKILL'));
	return child;
}

/**
 * A throw-away PostgreSQL server on `port` with its data in `dir`, and a database `n8n` owned by the user `n8n`.
 * initdb and postgres refuse to run as root: as root they run as the `postgres` system user the package created,
 * which then owns `dir`; anyone else runs them as themselves. Resolves once the database exists.
 */
async function startPostgres({ binDir, dir, port, password, logs, eventually }) {
	const systemUser = (flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
	const asUser = process.getuid?.() === 0 ? { uid: systemUser('-u'), gid: systemUser('-g') } : {};
	const passwordFile = path.join(dir, 'password');
	writeFileSync(passwordFile, password, { mode: 0o600 });
	if (asUser.uid !== undefined) for (const entry of [dir, passwordFile]) chownSync(entry, asUser.uid, asUser.gid);
	const dataDir = path.join(dir, 'data');
	execFileSync(
		path.join(binDir, 'initdb'),
		['-D', dataDir, '-U', 'n8n', `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '--locale=C', '-E', 'UTF8'],
		{ ...asUser, cwd: dir, stdio: 'pipe' },
	);
	// Durability buys nothing in a database deleted at the end; the socket goes to `dir`, as /run/postgresql may not exist.
	const settings = { listen_addresses: '127.0.0.1', unix_socket_directories: dir, fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' };
	const server = spawnLogged(
		'postgres',
		path.join(binDir, 'postgres'),
		['-D', dataDir, '-p', String(port), ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])],
		process.env,
		logs,
		{ ...asUser, cwd: dir },
	);
	await eventually(
		'PostgreSQL accepts connections',
		async () => {
			if (server.exitCode !== null) assert.fail(`PostgreSQL exited (code ${server.exitCode}): ${logs.postgres.slice(-5).join(' | ')}`);
			return logs.postgres.some((line) => line.includes('ready to accept connections'));
		},
		60_000,
	);
	execFileSync(path.join(binDir, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'n8n', 'n8n'], { env: { ...process.env, PGPASSWORD: password }, stdio: 'pipe' });
	return server;
}

/**
 * @param helpers the e2e's own: scheduledEverySeconds, withCredentialsBound, eventually, sleep, stopProcess
 */
export function queueModeSuite({ scheduledEverySeconds, withCredentialsBound, eventually, sleep, stopProcess }) {
	const redisServer = redisServerPath();
	const postgresBin = postgresBinDir();
	describe('queue mode: Redis, PostgreSQL, an n8n main and two workers', { concurrency: 1 }, () => {
		if (!redisServer) {
			test('queue mode', (t) => t.skip('queue mode: skipped — no redis-server installed (Debian/Ubuntu: apt-get install redis-server)'));
			return;
		}
		// n8n's main process and its workers must share one database, and SQLite is one process's file.
		if (!postgresBin) {
			test('queue mode', (t) => t.skip(`queue mode: skipped — no PostgreSQL server installed (no ${POSTGRES_PACKAGES}/<version>/bin/initdb; Debian/Ubuntu: apt-get install postgresql)`));
			return;
		}
		const userFolder = mkdtempSync(path.join(os.tmpdir(), 'contracting-crm-queue-'));
		const postgresDir = mkdtempSync(path.join(os.tmpdir(), 'contracting-crm-postgres-'));
		const logs = {};
		const processes = {};
		const owner = { email: 'queue-owner@example.com', password: generatePassword() };
		let rest;
		let baseUrl;
		let flatted;
		let syncCopy;
		let closedPort;

		before(async () => {
			const node = ensureNode();
			const { n8nBin } = ensureN8n(node);
			flatted = createRequire(n8nBin)('flatted');
			buildPackage();
			installPackage(userFolder);

			const [redisPort, postgresPort, port] = [await freePort(), await freePort(), await freePort()];
			closedPort = await freePort();
			processes.redis = spawnLogged('redis', redisServer, ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], process.env, logs);
			const postgresPassword = generatePassword();
			processes.postgres = await startPostgres({ binDir: postgresBin, dir: postgresDir, port: postgresPort, password: postgresPassword, logs, eventually });
			baseUrl = `http://127.0.0.1:${port}`;
			const forced = async () => ({
				N8N_PORT: String(port),
				N8N_LISTEN_ADDRESS: '127.0.0.1',
				N8N_RUNNERS_BROKER_PORT: String(await freePort()),
				N8N_LOG_LEVEL: 'debug',
				EXECUTIONS_MODE: 'queue',
				DB_TYPE: 'postgresdb',
				DB_POSTGRESDB_HOST: '127.0.0.1',
				DB_POSTGRESDB_PORT: String(postgresPort),
				DB_POSTGRESDB_DATABASE: 'n8n',
				DB_POSTGRESDB_USER: 'n8n',
				DB_POSTGRESDB_PASSWORD: postgresPassword,
				QUEUE_BULL_REDIS_HOST: '127.0.0.1',
				QUEUE_BULL_REDIS_PORT: String(redisPort),
				QUEUE_HEALTH_CHECK_ACTIVE: 'false',
				// A killed worker's job is noticed as stalled after this many milliseconds (default 30 s).
				QUEUE_WORKER_STALLED_INTERVAL: '5000',
			});
			const mainEnv = n8nEnvironment({ node, userFolder, forced: await forced() });
			const runtime = { node, n8nBin, env: mainEnv };

			const shipped = workflowFiles().map((file) => readWorkflow(file));
			const references = credentialReferences(shipped);
			const unreachable = Object.fromEntries(
				CREDENTIALS_FROM_ENV.flatMap(({ prefix }) =>
					Object.entries({ SERVER: '127.0.0.1', PORT: String(closedPort), DATABASE: 'E2E_NO_SUCH_DB', USER: 'e2e', PASSWORD: 'not-a-secret', ENCRYPT: 'false', CONNECT_TIMEOUT: '2000' }).map(
						([name, value]) => [`${prefix}${name}`, value],
					),
				),
			);
			const credentials = credentialsFromEnvironment(unreachable, references);
			const bound = Object.fromEntries(credentials.map(({ type, id, name }) => [type, { id, name }]));
			syncCopy = withCredentialsBound(scheduledEverySeconds(shipped.find(({ id }) => id === SYNC_ID)), bound);
			step('Queue mode: importing the credentials and the fast-schedule copy of the sync ...');
			importCredentials(runtime, credentials);
			importWorkflows(runtime, [syncCopy]);

			step(`Queue mode: Redis on ${redisPort}, PostgreSQL on ${postgresPort}, n8n main on ${baseUrl}, ${WORKERS.length} workers ...`);
			processes.main = spawnLogged('main', node.nodeBin, [n8nBin, 'start'], mainEnv, logs);
			await waitUntilReady(baseUrl, processes.main, 600_000);
			for (const name of WORKERS) {
				const env = n8nEnvironment({ node, userFolder, forced: await forced() });
				processes[name] = spawnLogged(name, node.nodeBin, [n8nBin, 'worker', '--concurrency=2'], env, logs);
			}
			await eventually(
				'both workers listen to the queue',
				async () => WORKERS.every((name) => logs[name].some((line) => /n8n worker is now ready/.test(line))),
				300_000,
			);
			rest = new N8nRest(baseUrl);
			assert.equal(await rest.setupOwner(owner), true);
			await rest.login(owner.email, owner.password);
		});

		after(async () => {
			for (const name of ['main', ...WORKERS]) await stopProcess(processes[name]);
			await stopProcess(processes.redis);
			await stopProcess(processes.postgres);
			mkdirSync(path.join(repoRoot, 'test-results'), { recursive: true });
			for (const [name, lines] of Object.entries(logs)) writeFileSync(path.join(repoRoot, 'test-results', `e2e-queue-${name}.log`), `${lines.join('\n')}\n`);
			rmSync(userFolder, { recursive: true, force: true });
			rmSync(postgresDir, { recursive: true, force: true });
		});

		const scheduledRuns = async () =>
			(await rest.request('GET', `/rest/executions?filter=${encodeURIComponent(JSON.stringify({ workflowId: syncCopy.id }))}&limit=250`)).results.filter(
				({ mode }) => mode === 'trigger',
			);
		const finished = ({ status }) => status === 'error' || status === 'success';
		/** Which process ran an execution the queue handed out ("Worker started execution 12 (job 7)"). */
		const runnerOf = (id) => ['main', ...WORKERS].filter((name) => logs[name].some((line) => line.includes(`Worker started execution ${id} `)));
		const resultOf = async (id) => flatted.parse((await rest.request('GET', `/rest/executions/${id}`)).data).resultData;
		/**
		 * A run's batches as the run itself saw them: each "Sync a batch of …" call with the item its sub-execution
		 * returned. The sync saves only failed executions and a stopped batch no longer fails, so the parent's run
		 * data is where a batch's outcome, message and node are kept.
		 */
		const batchesOf = (resultData) =>
			STREAMS.flatMap((stream) =>
				(resultData.runData[`Sync a batch of ${stream}`] ?? []).flatMap(({ startTime, executionTime, data }) =>
					(data?.main?.[0] ?? []).map(({ json }) => ({ stream, from: startTime, to: startTime + executionTime, ...json })),
				),
			);
		const stoppedAtWatermark = ({ outcome, failedNode }) => outcome === 'failed' && failedNode === 'Get watermark';
		// n8n starts a sub-execution only of a published workflow: a run still going when the sync is unpublished has
		// its next batch refused (the Execute Workflow node hands the refusal on as the item's `error`).
		const refusedAsUnpublished = ({ error }) => /Workflow is not active/.test(error ?? '');
		/**
		 * A finished run: each stream's batch stopped at Get watermark with the clear message (or, called after
		 * `unpublishedAt`, was refused by n8n), and the run's error says so stream by stream. Returns its batches.
		 */
		const assertRunStopped = async (id, unpublishedAt = Infinity) => {
			const resultData = await resultOf(id);
			const batches = batchesOf(resultData);
			assert.deepEqual(batches.map(({ stream }) => stream), STREAMS, `execution ${id} ran one batch per stream`);
			assert.equal(resultData.lastNodeExecuted, 'Fail the run', `execution ${id} failed where the sync fails a run, not in a batch`);
			const { message, description } = resultData.error;
			for (const batch of batches) {
				if (refusedAsUnpublished(batch)) {
					assert.ok(batch.from >= unpublishedAt, `execution ${id}: n8n refused the ${batch.stream} batch while the sync was published: ${batch.error}`);
					assert.ok(message.includes(`Stream "${batch.stream}": ${batch.error}`), `execution ${id} names the refused ${batch.stream} batch: ${message}`);
					continue;
				}
				assert.ok(stoppedAtWatermark(batch), `execution ${id}: the ${batch.stream} batch stopped at Get watermark (${batch.outcome}, ${batch.failedNode}: ${batch.message ?? batch.error})`);
				assert.match(batch.message, new RegExp(`Cannot connect to SQL Server 127\\.0\\.0\\.1:${closedPort}, database E2E_NO_SUCH_DB: nothing accepts connections on that port`));
				assert.match(batch.errorDescription, /check the Port field/);
				assert.match(message, new RegExp(`Stream "${batch.stream}": Cannot connect to SQL Server 127\\.0\\.0\\.1:${closedPort}`), `execution ${id} names the ${batch.stream} stream's problem`);
				assert.ok(description.includes(`In "Get watermark" (stream "${batch.stream}"): `), `execution ${id} names the node that stopped ${batch.stream}: ${description}`);
			}
			return batches;
		};
		/** How often a process's log says a batch began: its first node, Get watermark, started there. */
		const batchesStartedBy = (name) => logs[name].filter((line) => line.includes('Running node "Get watermark" started')).length;
		let runsWhilePublished = [];
		const batchesWhilePublished = [];

		test('published with a 5-second schedule: one parent execution per tick, each on a worker, its batches there too, each stopped at the watermark', async (t) => {
			const { versionId } = await rest.request('GET', `/rest/workflows/${syncCopy.id}`);
			assert.equal((await rest.request('POST', `/rest/workflows/${syncCopy.id}/activate`, { versionId })).active, true);
			await eventually('four finished scheduled runs', async () => (await scheduledRuns()).filter(finished).length >= 4, 60_000);
			const unpublishedAt = Date.now();
			assert.equal((await rest.request('POST', `/rest/workflows/${syncCopy.id}/deactivate`, {})).active, false);
			await sleep(1000);
			await eventually('every scheduled run finished', async () => (await scheduledRuns()).every(finished), 30_000);
			const createdAt = ({ createdAt, startedAt }) => Date.parse(createdAt ?? startedAt);
			runsWhilePublished = (await scheduledRuns()).sort((a, b) => createdAt(a) - createdAt(b));
			const ticks = runsWhilePublished.map(createdAt);
			const gaps = ticks.slice(1).map((tick, index) => tick - ticks[index]);
			t.diagnostic(`scheduled runs: ${runsWhilePublished.length}, seconds between them: ${gaps.map((gap) => (gap / 1000).toFixed(1)).join(', ')}`);
			// A tick may fire late on a busy machine, but a second execution for one tick would come within milliseconds.
			assert.ok(gaps.every((gap) => gap >= 1000), `one execution per 5-second tick, never two: ${gaps.join(', ')} ms apart`);

			const batchesByWorker = Object.fromEntries(WORKERS.map((name) => [name, 0]));
			for (const run of runsWhilePublished) {
				const runners = runnerOf(run.id);
				assert.equal(runners.length, 1, `execution ${run.id} was picked up by exactly one process (${runners.join(', ') || 'none'})`);
				assert.notEqual(runners[0], 'main', `execution ${run.id} ran on a worker`);
				assert.equal(run.status, 'error');
				const batches = (await assertRunStopped(run.id, unpublishedAt)).map((batch) => ({ ...batch, run: run.id }));
				batchesByWorker[runners[0]] += batches.filter((batch) => !refusedAsUnpublished(batch)).length;
				batchesWhilePublished.push(...batches);
			}
			// A batch is a sub-execution in the process that runs its parent: each worker's log shows as many batches
			// beginning as the runs it took started, and the main process none.
			assert.equal(batchesStartedBy('main'), 0, 'the main process never ran a batch');
			assert.deepEqual(Object.fromEntries(WORKERS.map((name) => [name, batchesStartedBy(name)])), batchesByWorker, 'each worker ran the batches of the runs it took');
			t.diagnostic(`runs per worker: ${WORKERS.map((name) => `${name} ${runsWhilePublished.filter((run) => runnerOf(run.id).includes(name)).length}`).join(', ')}; batches per worker: ${WORKERS.map((name) => `${name} ${batchesByWorker[name]}`).join(', ')}`);
		});

		test('two runs never work one stream at once: every batch stopped at the watermark, so no two held a stream together', async (t) => {
			const started = batchesWhilePublished.filter((batch) => !refusedAsUnpublished(batch));
			const holding = started.filter((batch) => !stoppedAtWatermark(batch) && batch.outcome !== 'held by another run');
			for (const a of holding) {
				for (const b of holding) {
					if (a !== b && a.stream === b.stream) assert.ok(a.to <= b.from || b.to <= a.from, `batches of runs ${a.run} and ${b.run} held "${a.stream}" at the same time`);
				}
			}
			assert.equal(holding.length, 0, 'with no SQL Server no batch got a lease');
			const spans = runsWhilePublished.map(({ startedAt, stoppedAt }) => [Date.parse(startedAt), Date.parse(stoppedAt)]);
			const overlapping = spans.filter(([from, to], index) => spans.some(([otherFrom, otherTo], other) => other !== index && from < otherTo && otherFrom < to)).length;
			const refused = batchesWhilePublished.length - started.length;
			t.diagnostic(
				`${started.length} batches, all stopped at Get watermark${refused ? ` (and ${refused} called after unpublishing, refused by n8n)` : ''}; ${overlapping} of ${spans.length} runs overlapped another in time, none held a stream`,
			);
		});

		test('unpublishing stops new runs', async () => {
			const countWhenStopped = (await scheduledRuns()).length;
			await sleep(12_000);
			assert.equal((await scheduledRuns()).length, countWhenStopped, 'no execution started after unpublishing');
		});

		test('killing a worker mid-run leaves n8n and the other worker working', async (t) => {
			const known = new Set((await scheduledRuns()).map(({ id }) => id));
			const { versionId } = await rest.request('GET', `/rest/workflows/${syncCopy.id}`);
			await rest.request('POST', `/rest/workflows/${syncCopy.id}/activate`, { versionId });
			const victim = await eventually(
				'a worker that started a run',
				async () => {
					const running = (await scheduledRuns()).find(({ id, status }) => !known.has(id) && status === 'running' && runnerOf(id).length === 1);
					return running && { run: running.id, worker: runnerOf(running.id)[0] };
				},
				30_000,
			);
			processes[victim.worker].kill('SIGKILL');
			t.diagnostic(`killed ${victim.worker} while it ran execution ${victim.run}`);
			const survivor = WORKERS.find((name) => name !== victim.worker);
			const killedAt = Date.now();
			const afterKill = await eventually(
				`two runs started after the kill and finished by ${survivor}`,
				async () => {
					const done = (await scheduledRuns()).filter(({ id, startedAt, status }) => Date.parse(startedAt) > killedAt && finished({ status }) && runnerOf(id).includes(survivor));
					return done.length >= 2 && done;
				},
				60_000,
			);
			for (const run of afterKill) await assertRunStopped(run.id);
			await rest.request('POST', `/rest/workflows/${syncCopy.id}/deactivate`, {});
			assert.equal(processes.main.exitCode, null, 'the main process is still running');
			assert.equal(processes[survivor].exitCode, null, `${survivor} is still running`);
			assert.equal((await fetch(`${baseUrl}/healthz`)).status, 200);
		});
	});
}
