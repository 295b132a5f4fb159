// The queue-mode part of `npm run test:e2e`: Redis (the machine's redis-server, on a free port), an n8n main
// process and two workers (EXECUTIONS_MODE=queue) sharing one throw-away user folder, and the sync published
// with a 5-second schedule. No SQL Server is reachable, so every run fails at the watermark; that is enough to
// see who runs what, when. Skipped with one clear line where no redis-server is installed.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
const WATERMARK_FAILURE = /(Failed|happened) while getting the watermark of stream "(customers|orders)"/;

function redisServerPath() {
	try {
		return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
	} catch {
		return undefined;
	}
}

/** A child process whose output is kept, line by line, under its name. */
function spawnLogged(name, command, args, env, logs) {
	const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
	logs[name] = [];
	for (const stream of [child.stdout, child.stderr]) {
		stream.setEncoding('utf8');
		stream.on('data', (chunk) => logs[name].push(...chunk.split('\n').filter(Boolean)));
	}
	process.once('exit', () => child.kill('SIGKILL'));
	return child;
}

/**
 * @param helpers the e2e's own: scheduledEverySeconds, withCredentialsBound, eventually, sleep, stopProcess
 */
export function queueModeSuite({ scheduledEverySeconds, withCredentialsBound, eventually, sleep, stopProcess }) {
	const redisServer = redisServerPath();
	describe('queue mode: Redis, an n8n main and two workers', { concurrency: 1 }, () => {
		if (process.env.E2E_QUEUE_MODE !== '1') {
			// n8n's main and workers must share one PostgreSQL database in queue mode; this run does not set one up yet.
			test('queue mode', (t) => t.skip('queue mode: skipped — it needs a PostgreSQL database shared by the main process and the workers; E2E_QUEUE_MODE=1 runs it anyway'));
			return;
		}
		if (!redisServer) {
			test('queue mode', (t) => t.skip('queue mode: skipped — no redis-server installed (Debian/Ubuntu: apt-get install redis-server)'));
			return;
		}
		const userFolder = mkdtempSync(path.join(os.tmpdir(), 'contracting-crm-queue-'));
		const logs = {};
		const processes = {};
		const owner = { email: 'queue-owner@example.com', password: generatePassword() };
		let rest;
		let baseUrl;
		let flatted;
		let syncCopy;

		before(async () => {
			const node = ensureNode();
			const { n8nBin } = ensureN8n(node);
			flatted = createRequire(n8nBin)('flatted');
			buildPackage();
			installPackage(userFolder);

			const [redisPort, port, closedPort] = [await freePort(), await freePort(), await freePort()];
			processes.redis = spawnLogged('redis', redisServer, ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], process.env, logs);
			baseUrl = `http://127.0.0.1:${port}`;
			const forced = async () => ({
				N8N_PORT: String(port),
				N8N_LISTEN_ADDRESS: '127.0.0.1',
				N8N_RUNNERS_BROKER_PORT: String(await freePort()),
				N8N_LOG_LEVEL: 'debug',
				EXECUTIONS_MODE: 'queue',
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

			step(`Queue mode: Redis on ${redisPort}, n8n main on ${baseUrl}, ${WORKERS.length} workers ...`);
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
			mkdirSync(path.join(repoRoot, 'test-results'), { recursive: true });
			for (const [name, lines] of Object.entries(logs)) writeFileSync(path.join(repoRoot, 'test-results', `e2e-queue-${name}.log`), `${lines.join('\n')}\n`);
			rmSync(userFolder, { recursive: true, force: true });
		});

		const executions = async () =>
			(await rest.request('GET', `/rest/executions?filter=${encodeURIComponent(JSON.stringify({ workflowId: syncCopy.id }))}&limit=250`)).results;
		const scheduledRuns = async () => (await executions()).filter(({ mode }) => mode === 'trigger');
		const finished = ({ status }) => status === 'error' || status === 'success';
		/** Which process ran an execution the queue handed out ("Worker started execution 12 (job 7)"). */
		const runnerOf = (id) => ['main', ...WORKERS].filter((name) => logs[name].some((line) => line.includes(`Worker started execution ${id} `)));
		const errorOf = async (id) => {
			const execution = await rest.request('GET', `/rest/executions/${id}`);
			const error = flatted.parse(execution.data).resultData.error;
			return `${error?.message ?? ''}\n${error?.description ?? ''}`;
		};
		let runsWhilePublished = [];

		test('published with a 5-second schedule: one parent execution per tick, each on a worker, its batch sub-executions too, failing at the watermark', async (t) => {
			const { versionId } = await rest.request('GET', `/rest/workflows/${syncCopy.id}`);
			assert.equal((await rest.request('POST', `/rest/workflows/${syncCopy.id}/activate`, { versionId })).active, true);
			await eventually('four finished scheduled runs', async () => (await scheduledRuns()).filter(finished).length >= 4, 60_000);
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

			for (const run of runsWhilePublished) {
				assert.deepEqual(runnerOf(run.id).filter((name) => name !== 'main'), runnerOf(run.id), `execution ${run.id} ran on a worker`);
				assert.equal(runnerOf(run.id).length, 1, `execution ${run.id} was picked up by exactly one worker (${runnerOf(run.id).join(', ') || 'none'})`);
				assert.equal(run.status, 'error');
				assert.match(await errorOf(run.id), WATERMARK_FAILURE);
			}
			const batches = (await executions()).filter(({ mode }) => mode === 'integrated');
			assert.ok(batches.length >= runsWhilePublished.length, `each run called its batch sub-workflow (${batches.length} batch executions)`);
			const ranGetWatermark = (name) => logs[name].some((line) => line.includes('Running node "Get watermark" started'));
			assert.ok(!ranGetWatermark('main'), 'the main process never ran a batch');
			assert.ok(WORKERS.some(ranGetWatermark), 'the workers ran the batches');
			t.diagnostic(`runs per worker: ${WORKERS.map((name) => `${name} ${runsWhilePublished.filter((run) => runnerOf(run.id).includes(name)).length}`).join(', ')}`);
		});

		test('two runs never work one stream at once: every batch stopped at the watermark, so no two held a stream together', async (t) => {
			const batches = (await executions()).filter(({ mode, status }) => mode === 'integrated' && finished({ status }));
			const holding = [];
			for (const batch of batches) {
				const { resultData } = flatted.parse((await rest.request('GET', `/rest/executions/${batch.id}`)).data);
				const stream = resultData.runData['When called for one batch']?.[0]?.data?.main?.[0]?.[0]?.json?.stream;
				const acquired = resultData.runData['Get watermark']?.[0]?.data?.main?.[0] ?? [];
				if (acquired.length > 0) holding.push({ id: batch.id, stream, from: resultData.runData['Get watermark'][0].startTime, to: Date.parse(batch.stoppedAt) });
				else {
					assert.equal(resultData.lastNodeExecuted, 'Get watermark', `batch ${batch.id} of "${stream}" stopped at the watermark`);
					assert.match(`${resultData.error?.message}\n${resultData.error?.description ?? ''}`, /127\.0\.0\.1.*[\s\S]*check/i);
				}
			}
			for (const a of holding) {
				for (const b of holding) {
					if (a !== b && a.stream === b.stream) assert.ok(a.to <= b.from || b.to <= a.from, `batches ${a.id} and ${b.id} held "${a.stream}" at the same time`);
				}
			}
			assert.equal(holding.length, 0, 'with no SQL Server no batch got a lease');
			const spans = runsWhilePublished.map(({ startedAt, stoppedAt }) => [Date.parse(startedAt), Date.parse(stoppedAt)]);
			const overlapping = spans.filter(([from, to], index) => spans.some(([otherFrom, otherTo], other) => other !== index && from < otherTo && otherFrom < to)).length;
			t.diagnostic(`${batches.length} batch executions, all stopped at the watermark; ${overlapping} of ${spans.length} runs overlapped another in time (each tries the watermark with retries), none held a stream`);
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
			for (const run of afterKill) assert.match(await errorOf(run.id), WATERMARK_FAILURE);
			await rest.request('POST', `/rest/workflows/${syncCopy.id}/deactivate`, {});
			assert.equal(processes.main.exitCode, null, 'the main process is still running');
			assert.equal(processes[survivor].exitCode, null, `${survivor} is still running`);
			assert.equal((await fetch(`${baseUrl}/healthz`)).status, 200);
		});
	});
}
