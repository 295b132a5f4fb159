/**
 * Whether a stream is healthy, for the Status operation and the status workflow a monitoring tool polls.
 * No I/O: the facts come from the watermark store, read in one step, with the store's own clock.
 */

export const DEFAULT_MINUTES_BEHIND = 30;
/** A run that recorded its start this recently but holds no lease yet is still starting (in queue mode its first batch may wait for a worker). */
const STARTING_GRACE_MS = 2 * 60_000;

export interface StreamFacts {
	/** The store's clock, ISO UTC. */
	now: string;
	/** Absent: the stream has no watermark (it never ran). */
	exists: boolean;
	lease: { owner: string | null; expiresAt: string | null };
	retry: { waiting: number; parked: number };
	lastStarted?: { at: string; executionId: string | null };
	/** `summary`: the run's summary item as Record Run kept it (its `outcome` says whether the run failed). */
	lastFinished?: { at: string; executionId: string | null; summary?: Record<string, unknown> };
	/** When the watermark was created or last moved, ISO UTC. */
	cursorChangedAt?: string;
}

/**
 * What a stream's runs are doing: "running" (a run holds its lease), "idle" (the last run finished), "failed" (the
 * last run finished with its stream failed: the sync goes on with the other streams and records the failure),
 * "did not finish" (a run started and stopped without recording its end: n8n stopped or a crash), "never ran".
 */
export type RunState = 'running' | 'idle' | 'failed' | 'did not finish' | 'never ran';

export interface StreamHealth {
	healthy: boolean;
	runState: RunState;
	/** Whole minutes since the last run finished; null when none has. */
	minutesSinceLastFinishedRun: number | null;
	/** Each reason the stream is not healthy, in words a partner acts on; empty when healthy. */
	problems: string[];
}

/** The reason a finished run failed, from its summary item (outcome "failed", as the sync's summary nodes set it); null when it did not. */
export function failureOfRun(summary: Record<string, unknown> | undefined): string | null {
	if (summary?.outcome !== 'failed') return null;
	const message = summary.message;
	return typeof message === 'string' && message.trim() !== '' ? message : 'no reason was recorded';
}

const minutesBetween = (from: string, to: string) => Math.floor((Date.parse(to) - Date.parse(from)) / 60_000);

function isLive(lease: StreamFacts['lease'], now: string): boolean {
	return lease.owner !== null && lease.expiresAt !== null && Date.parse(lease.expiresAt) > Date.parse(now);
}

/** Whether the latest recorded event is a start with no finish after it. */
function startedSinceLastFinish({ lastStarted, lastFinished }: StreamFacts): boolean {
	return lastStarted !== undefined && (lastFinished === undefined || Date.parse(lastStarted.at) > Date.parse(lastFinished.at));
}

/** Whether a run holds the stream, finished last (well or failed), or started last and stopped without finishing. */
export function runStateOf(facts: StreamFacts): RunState {
	if (!facts.exists) return 'never ran';
	if (isLive(facts.lease, facts.now)) return 'running';
	const { lastStarted, lastFinished } = facts;
	const startedLast = startedSinceLastFinish(facts);
	if (startedLast && Date.parse(facts.now) - Date.parse(lastStarted?.at ?? facts.now) > STARTING_GRACE_MS) return 'did not finish';
	if (!startedLast && failureOfRun(lastFinished?.summary) !== null) return 'failed';
	return 'idle';
}

/**
 * Healthy unless: the stream never ran; rows are parked in its retry list; its last run failed; a run stopped without finishing
 * (its error is in n8n's execution list) or left its lease to expire; or no run has finished for more than
 * `maxMinutesBehind` minutes (a sync that is off, failing at every run, or stuck).
 */
export function streamHealth(stream: string, facts: StreamFacts, maxMinutesBehind: number): StreamHealth {
	const runState = runStateOf(facts);
	const minutesSinceLastFinishedRun = facts.lastFinished ? minutesBetween(facts.lastFinished.at, facts.now) : null;
	const problems: string[] = [];
	if (runState === 'never ran') {
		problems.push(`Stream "${stream}" has never run: publish the sync workflow (or check that "Database" and "Watermark Tables" are set as in the sync).`);
		return { healthy: false, runState, minutesSinceLastFinishedRun, problems };
	}
	if (facts.retry.parked > 0) {
		problems.push(
			`${facts.retry.parked} row${facts.retry.parked === 1 ? ' is' : 's are'} parked in the retry list of "${stream}" after too many attempts: correct ${facts.retry.parked === 1 ? 'it' : 'them'} in Contracting (see lastError), then run "Retry Parked Rows Again".`,
		);
	}
	const failure = startedSinceLastFinish(facts) ? null : failureOfRun(facts.lastFinished?.summary);
	if (failure !== null) {
		const execution = facts.lastFinished?.executionId ? ` (execution ${facts.lastFinished.executionId})` : '';
		problems.push(`The last run of "${stream}"${execution} failed at ${facts.lastFinished?.at}: ${failure}. Open it in n8n's Executions list to see where.`);
	}
	if (runState === 'did not finish') {
		const execution = facts.lastStarted?.executionId ? ` (execution ${facts.lastStarted.executionId})` : '';
		problems.push(`The last run of "${stream}"${execution} started at ${facts.lastStarted?.at} and did not finish: open it in n8n's Executions list to see why.`);
	}
	const { owner, expiresAt } = facts.lease;
	if (owner !== null && expiresAt !== null && !isLive(facts.lease, facts.now)) {
		problems.push(`The run "${owner}" held "${stream}" until ${expiresAt} and never gave it up (it stopped mid-run); the next run takes over.`);
	}
	const sinceWhen = facts.lastFinished?.at ?? facts.lastStarted?.at ?? facts.cursorChangedAt;
	if (runState !== 'running' && sinceWhen !== undefined && minutesBetween(sinceWhen, facts.now) > maxMinutesBehind) {
		problems.push(
			facts.lastFinished
				? `No run of "${stream}" has finished for ${minutesBetween(facts.lastFinished.at, facts.now)} minutes (more than ${maxMinutesBehind}): check that the sync workflow is published and its runs succeed.`
				: `No run of "${stream}" has finished yet, ${minutesBetween(sinceWhen, facts.now)} minutes after it was set up (more than ${maxMinutesBehind}): check that the sync workflow is published and its runs succeed.`,
		);
	}
	return { healthy: problems.length === 0, runState, minutesSinceLastFinishedRun, problems };
}
