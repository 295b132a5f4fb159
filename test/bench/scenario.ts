/**
 * One benchmark scenario, run in a process of its own (so its peak RSS is its own): the shipped sync workflow
 * after a full rewind, over the transport double (answering at once) and the fake server, or over a real
 * SQL Server. Times the sync run only; the rewind before it is one click and a handful of round trips.
 */
import type { ExecutionLifecycleHooks } from 'n8n-core';
import { existsSync, openSync, readSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import type { IDataObject, IExecuteFunctions, INodeExecutionData, IWorkflowBase } from 'n8n-workflow';

import { serializeCursor } from '../../nodes/shared/core/cursor';
import { replaceSeam, restoreAllSeams, sqlTransportSeam } from '../../nodes/shared/seams';
import type { SqlRequest, SqlTransport } from '../../nodes/shared/transport/types';
import type { Responder } from '../support/recordingTransport';
import { RecordingSqlTransport, useRecordingTransport } from '../support/recordingTransport';
import { CREDENTIALS, REWIND_MANUAL_TRIGGER, REWIND_WORKFLOW_FILE, SYNC_WORKFLOW_FILE, SyncRun, withSettings } from '../support/syncWorld';
import type { RunOptions } from '../support/workflowRunner';
import { PACKAGE_NAME, loadNodeTypes, readWorkflow, runWorkflow } from '../support/workflowRunner';
import { FakeSqlServer, markerOf } from './fakeSqlServer';
import type { Interval } from './intervals';
import { overlapMillis } from './intervals';

export type ScenarioKind = 'shipped' | 'perRowBaseline';

export interface ScenarioSpec {
	kind: ScenarioKind;
	customers: number;
	batchSize: number;
	/** Max Batches per Run; by default enough for every customer. */
	batchesPerRun?: number;
}

export interface ScenarioResult {
	spec: ScenarioSpec;
	against: 'double' | 'sqlServer';
	/** The Node version the run ran on (BENCH_NODE). */
	node: string;
	seconds: number;
	roundTrips: number;
	statements?: Record<string, number>;
	/** CPU of the main thread from n8n's nodeExecuteBefore to nodeExecuteAfter of this package's nodes, the fake server's own work taken out. */
	ourCpuMicros: number;
	/** The same, inside the nodes' execute() only (without n8n's per-node bookkeeping around it). */
	ourExecuteCpuMicros: number;
	/** CPU of the whole process (every thread) during the sync, the fake server's work taken out. */
	processCpuMicros: number;
	/** CPU of the main thread during the sync, the fake server's work taken out. */
	mainThreadCpuMicros: number;
	fakeServerCpuMicros: number;
	/**
	 * The garbage collector's pauses inside our node runs, the fake server's answers left out: the part of our CPU the
	 * collector took (a pause is main-thread time, with helpers on the other core). Undefined against a real server.
	 */
	gcPausesInOurNodesMicros?: number;
	/**
	 * Minor page faults of the process during the run: each fresh page the heap grows into is one, and the kernel
	 * charges its time to the thread that touched it (a 100,000-row run's heap grows by ≈ 230 MB before V8's first full
	 * collection, see nodes/README.md).
	 */
	pageFaults: number;
	/** process.resourceUsage().maxRSS of this process, in MB (1 MB = 2^20 bytes). */
	peakRssMb: number;
	/** RSS when the sync started (after loading n8n and the nodes). */
	startRssMb: number;
	/**
	 * The heap still in use once the sync is over and a full garbage collection has run, in MB: what the run kept
	 * (peak RSS is mostly garbage V8 lets accumulate before it collects). Undefined without --expose-gc.
	 */
	liveHeapAfterMb?: number;
	rowsRead: number;
	unchanged: number;
	batches: number;
	/** The sync before the measured one in the same process (see measureAfterWarmUp): its rows and our CPU, the JIT's and the caches' first use in them. */
	warmUp?: { rows: number; ourCpuMicros: number };
}

const MB = 1024 * 1024;
const cpuMicros = (usage: NodeJS.CpuUsage) => usage.user + usage.system;

const SCHEDSTAT = '/proc/thread-self/schedstat';
/** Opened once (this is the main thread's), read in place: the clock is read around every round trip and node. */
const schedstat = existsSync(SCHEDSTAT) ? openSync(SCHEDSTAT, 'r') : undefined;
const schedstatText = Buffer.alloc(64);

/**
 * CPU time of the main thread, in µs: Linux's scheduler count (schedstat, nanoseconds) where it exists, so the
 * work of V8's background threads (concurrent GC marking, compilation) on the other core is not charged to
 * whichever node happens to run meanwhile; elsewhere process.cpuUsage() (all threads). Read with one pread into a
 * kept buffer and its leading digits: the clock's own cost lands in whichever window it is read in (readFileSync, with
 * its open, stat, close and strings, cost our nodes ≈ 0.15 µs per row at batch 4,000 and 0.6 at 1,000).
 */
export function mainThreadCpuMicros(): number {
	if (schedstat === undefined) return cpuMicros(process.cpuUsage());
	const length = readSync(schedstat, schedstatText, 0, schedstatText.length, 0);
	let nanoseconds = 0;
	for (let index = 0; index < length; index++) {
		const digit = schedstatText[index] - 48;
		if (digit < 0 || digit > 9) break;
		nanoseconds = nanoseconds * 10 + digit;
	}
	return nanoseconds / 1000;
}

/** The shipped sync with the Settings a benchmark run needs: its batch size, and enough batches per run for every row. */
export function benchSyncWorkflow(spec: ScenarioSpec): IWorkflowBase {
	const workflow = withSettings(readWorkflow(SYNC_WORKFLOW_FILE), {
		batchSize: spec.batchSize,
		maxBatchesPerRun: spec.batchesPerRun ?? Math.ceil(spec.customers / spec.batchSize) + 2,
	});
	if (spec.kind === 'perRowBaseline') {
		// One statement per item, as n8n's Microsoft SQL node's Execute Query sends for each input item.
		const upsert = workflow.nodes.find((node) => node.name === 'Upsert customers');
		if (!upsert) throw new Error('The sync workflow has no "Upsert customers" node');
		(upsert.parameters.options as IDataObject).batchSize = 1;
	}
	return { ...workflow, id: 'shipped-sync' };
}

/**
 * The CPU the measured run's server has spent answering, taken out of our nodes' (set per run by measureScenario).
 * Module state, because execute() is timed by a wrapper installed once per process (timeOurExecutes).
 */
let serverMicrosOfRun: () => number = () => 0;

/** Main-thread CPU at a moment, and the CPU the measured run's server had spent answering by then. */
interface CpuMark {
	cpu: number;
	server: number;
}

const cpuMark = (): CpuMark => ({ cpu: mainThreadCpuMicros(), server: serverMicrosOfRun() });

/** Our CPU since `mark`: the main thread's, less what the server spent answering meanwhile. */
const ourCpuSince = (mark: CpuMark): number => mainThreadCpuMicros() - mark.cpu - (serverMicrosOfRun() - mark.server);

/** Times this package's node runs, from n8n's nodeExecuteBefore to nodeExecuteAfter, through its lifecycle hooks. */
class OurNodesClock {
	cpuMicros = 0;
	/** When each of our node runs was, for the garbage collector's pauses in them. */
	readonly windows: Interval[] = [];
	private started?: CpuMark & { at: number };

	constructor(private readonly typeOf: Map<string, string>) {}

	readonly attach = (hooks: ExecutionLifecycleHooks) => {
		hooks.addHandler('nodeExecuteBefore', (nodeName: string) => {
			if (this.isOurs(nodeName)) this.started = { ...cpuMark(), at: performance.now() };
		});
		hooks.addHandler('nodeExecuteAfter', (nodeName: string) => {
			if (!this.isOurs(nodeName) || !this.started) return;
			this.cpuMicros += ourCpuSince(this.started);
			this.windows.push([this.started.at, performance.now()]);
			this.started = undefined;
		});
	};

	private isOurs(nodeName: string): boolean {
		return this.typeOf.get(nodeName)?.startsWith(`${PACKAGE_NAME}.`) ?? false;
	}
}

const OUR_NODE_TYPES = ['contracting', 'crm', 'watermark'];

/** The reader of the CPU spent inside this package's nodes' execute() so far in this process (see timeOurExecutes). */
let ourExecuteMicros: Promise<() => number> | undefined;

/**
 * Times the execute() of this package's node types, wrapped once per process: main-thread CPU from call to return,
 * the fake server's answers taken out. n8n's bookkeeping around a node run (its context, run data) is not in it.
 * Returns the running total; a run's share is the difference across it.
 */
async function timeOurExecutes(): Promise<() => number> {
	ourExecuteMicros ??= (async () => {
		const nodeTypes = await loadNodeTypes();
		let total = 0;
		for (const name of OUR_NODE_TYPES) {
			const type = nodeTypes.getByNameAndVersion(`${PACKAGE_NAME}.${name}`, 1);
			const execute = type.execute as (this: IExecuteFunctions) => Promise<INodeExecutionData[][]>;
			type.execute = async function timedExecute(this: IExecuteFunctions) {
				const started = cpuMark();
				try {
					return await execute.call(this);
				} finally {
					total += ourCpuSince(started);
				}
			};
		}
		return () => total;
	})();
	return await ourExecuteMicros;
}

interface Backend {
	against: ScenarioResult['against'];
	roundTrips(): number;
	statements?(): Record<string, number>;
	/** CPU spent answering as the server (the fake server only). */
	serverCpuMicros(): number;
	/** When the fake server answered, in time order (it answers inside our node runs). */
	answerWindows?(): readonly Interval[];
	credentials: RunOptions['credentials'];
	/** Whether the watermark is past the last row and must be rewound first (a fresh real server starts at the beginning). */
	needsRewind: boolean;
}

/** The fake server behind the transport double, already in the state a full rewind starts from. */
export function fakeServerBackend(spec: ScenarioSpec, server = rewoundServer(spec.customers)): Backend & { server: FakeSqlServer } {
	let serverMicros = 0;
	const answers: Interval[] = [];
	const timed: Responder = (request: SqlRequest) => {
		const before = mainThreadCpuMicros();
		const at = performance.now();
		try {
			return server.respond(request);
		} finally {
			serverMicros += mainThreadCpuMicros() - before;
			answers.push([at, performance.now()]);
		}
	};
	// The double answers at once: the benchmark adds the round trips' latency as modelled time (syncBenchmark.ts).
	const double = new RecordingSqlTransport(timed, 0, { keepRequests: false });
	useRecordingTransport(double);
	return {
		server,
		against: 'double',
		roundTrips: () => double.roundTrips,
		statements: () => ({ ...server.statements }),
		serverCpuMicros: () => serverMicros,
		answerWindows: () => answers,
		credentials: CREDENTIALS,
		needsRewind: true,
	};
}

/** CRM holds every customer as the last sync wrote it, and the watermark is past the last one: the state support rewinds. */
function rewoundServer(customers: number): FakeSqlServer {
	const server = new FakeSqlServer({ customers, crmHoldsAll: true });
	server.seedStream('customers', serializeCursor({ kind: 'datetime', marker: markerOf(customers), key: [String(customers)] }));
	server.seedStream('orders', null);
	return server;
}

/** The production transport to a real server, counted. */
export function sqlServerBackend(credentials: NonNullable<RunOptions['credentials']>): Backend {
	let count = 0;
	const production = sqlTransportSeam.production;
	replaceSeam(sqlTransportSeam, (settings) => {
		const transport = production(settings);
		const counted: SqlTransport = {
			execute: async (request) => {
				count++;
				return await transport.execute(request);
			},
		};
		return counted;
	});
	return { against: 'sqlServer', roundTrips: () => count, serverCpuMicros: () => 0, credentials, needsRewind: false };
}

/** Support's one click: the shipped rewind workflow, to the beginning, for the customers stream. */
export async function rewindToBeginning(credentials: RunOptions['credentials']): Promise<void> {
	const rewind = withSettings(readWorkflow(REWIND_WORKFLOW_FILE), { streams: 'customers', rewindBy: 'beginning' });
	const run = await runWorkflow(rewind, { credentials, startNodeName: REWIND_MANUAL_TRIGGER });
	if (run.errorMessage) throw new Error(`The rewind failed: ${run.errorMessage}`);
}

export async function runSync(workflow: IWorkflowBase, options: Partial<RunOptions>): Promise<SyncRun> {
	const run = await runWorkflow(workflow, {
		credentials: options.credentials,
		startNodeName: 'Every 5 minutes',
		workflowsById: { [workflow.id as string]: workflow },
		mode: 'trigger',
		onHooks: options.onHooks,
	});
	return new SyncRun(run);
}

/** The heap in use after a full collection (the benchmark's children run with --expose-gc), in MB. */
function liveHeapMb(): number | undefined {
	const collect = (globalThis as { gc?: () => void }).gc;
	if (!collect) return undefined;
	collect();
	return process.memoryUsage().heapUsed / MB;
}

/** The pauses inside our node runs, less those inside the fake server's answers (which lie within our node runs). */
function gcPausesInOurNodes(pauses: Interval[], ourRuns: readonly Interval[], answers: readonly Interval[] | undefined): number | undefined {
	if (!answers) return undefined;
	const inTimeOrder = [...pauses].sort((a, b) => a[0] - b[0]);
	return (overlapMillis(inTimeOrder, ourRuns) - overlapMillis(inTimeOrder, answers)) * 1000;
}

/** Rewinds, then runs and measures one full re-send. */
export async function measureScenario(spec: ScenarioSpec, backend: Backend): Promise<ScenarioResult> {
	if (backend.needsRewind) await rewindToBeginning(backend.credentials);
	const workflow = benchSyncWorkflow(spec);
	const clock = new OurNodesClock(new Map(workflow.nodes.map((node) => [node.name, node.type])));
	const executeMicros = await timeOurExecutes();
	serverMicrosOfRun = backend.serverCpuMicros;
	const executeBefore = executeMicros();
	let peakRss = process.memoryUsage.rss();
	const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 20);
	const startRss = process.memoryUsage.rss();
	const roundTripsBefore = backend.roundTrips();
	const statementsBefore = backend.statements?.();
	const serverBefore = backend.serverCpuMicros();
	const faultsBefore = process.resourceUsage().minorPageFault;
	const cpuBefore = process.cpuUsage();
	const mainBefore = mainThreadCpuMicros();
	const pauses: Interval[] = [];
	const collector = new PerformanceObserver((list) => {
		for (const entry of list.getEntries()) pauses.push([entry.startTime, entry.startTime + entry.duration]);
	});
	collector.observe({ entryTypes: ['gc'] });
	const answersBefore = backend.answerWindows?.().length ?? 0;
	const started = process.hrtime.bigint();
	const run = await runSync(workflow, { credentials: backend.credentials, onHooks: clock.attach });
	const seconds = Number(process.hrtime.bigint() - started) / 1e9;
	const processCpu = cpuMicros(process.cpuUsage(cpuBefore));
	const mainCpu = mainThreadCpuMicros() - mainBefore;
	const pageFaults = process.resourceUsage().minorPageFault - faultsBefore;
	clearInterval(sampler);
	// Node hands the collector's entries over on a later turn of the event loop, and the run (the double answering at
	// once) gave it none.
	await new Promise((resolve) => setImmediate(resolve));
	await new Promise((resolve) => setImmediate(resolve));
	for (const entry of collector.takeRecords()) pauses.push([entry.startTime, entry.startTime + entry.duration]);
	collector.disconnect();
	if (run.errorMessage) throw new Error(`The sync failed: ${run.errorMessage}`);
	const summary = run.summary('customers') ?? {};
	const rowsToRead = Math.min(spec.customers, (spec.batchesPerRun ?? Infinity) * spec.batchSize);
	if (backend.against === 'double' && Number(summary.rowsRead) !== rowsToRead) {
		throw new Error(`The sync read ${String(summary.rowsRead)} rows, not the ${rowsToRead} the fake server holds for it`);
	}
	const statementsAfter = backend.statements?.();
	const serverMicros = backend.serverCpuMicros() - serverBefore;
	return {
		spec,
		against: backend.against,
		node: process.version,
		seconds,
		roundTrips: backend.roundTrips() - roundTripsBefore,
		statements:
			statementsBefore && statementsAfter
				? Object.fromEntries(Object.entries(statementsAfter).map(([kind, count]) => [kind, count - (statementsBefore[kind] ?? 0)]))
				: undefined,
		ourCpuMicros: clock.cpuMicros,
		ourExecuteCpuMicros: executeMicros() - executeBefore,
		processCpuMicros: processCpu - serverMicros,
		mainThreadCpuMicros: mainCpu - serverMicros,
		fakeServerCpuMicros: serverMicros,
		gcPausesInOurNodesMicros: gcPausesInOurNodes(pauses, clock.windows, backend.answerWindows?.().slice(answersBefore)),
		pageFaults,
		peakRssMb: Math.max(process.resourceUsage().maxRSS * 1024, peakRss) / MB,
		startRssMb: startRss / MB,
		liveHeapAfterMb: liveHeapMb(),
		rowsRead: Number(summary.rowsRead ?? 0),
		unchanged: Number(summary.unchanged ?? 0),
		batches: Number(summary.batches ?? 0),
	};
}

/**
 * What the runs before a rewind leave in the process: n8n runs the sync on its schedule, so when support rewinds,
 * V8 has compiled the code that reads, writes and stores, and each connection pool holds its tables' answers. A
 * re-send measured in a fresh process pays that warm-up once, which is most of a 10,000-row run's CPU. So a scenario
 * first runs the sync for this many batches, then rewinds and measures the re-send, on the same server and pool.
 */
const WARM_UP_BATCHES = 2;

/** One scenario as it runs in an n8n that has been running: a short sync first (WARM_UP_BATCHES), then the measured re-send. */
export async function measureAfterWarmUp(spec: ScenarioSpec, backend: Backend): Promise<ScenarioResult> {
	try {
		const warmUp = await measureScenario({ ...spec, batchesPerRun: WARM_UP_BATCHES }, backend);
		const measured = await measureScenario(spec, backend);
		return { ...measured, warmUp: { rows: warmUp.rowsRead, ourCpuMicros: warmUp.ourCpuMicros } };
	} finally {
		restoreAllSeams();
	}
}
