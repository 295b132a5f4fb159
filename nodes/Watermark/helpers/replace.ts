import type { RewindPlan } from '../../shared/core/rewind';
import type { AuditInfo, StreamState, WatermarkStore } from '../stores/watermarkStore';
import { UnknownStreamError } from './context';

const ATTEMPTS = 3;

export class ConcurrentChangeError extends Error {
	readonly advice = 'A sync run stored its position at the same moment, several times. Run the rewind again; nothing was changed.';

	constructor(stream: string) {
		super(`Stream "${stream}" kept changing while it was being rewound`);
		this.name = 'ConcurrentChangeError';
	}
}

/**
 * Replaces a stream's cursor with a compare-and-set on its generation. If a run stored a Set in between, the
 * plan is made again from the new state (a duration counts back from the newer cursor), a few times at most.
 */
export async function replaceWithRetry(
	store: WatermarkStore,
	initial: StreamState,
	planFor: (state: StreamState) => Promise<RewindPlan>,
	action: 'rewind' | 'undo',
	reason: string,
	audit: AuditInfo,
	firstPlan?: RewindPlan,
): Promise<{ previous: StreamState; state: StreamState; plan: RewindPlan }> {
	let state = initial;
	let plan = firstPlan ?? (await planFor(state));
	for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
		const result = await store.replaceCursor({ stream: state.stream, expectedGeneration: state.generation, cursor: plan.cursor, action, reason, audit });
		if (result.replaced && result.state) return { previous: state, state: result.state, plan };
		if (!result.state) throw new UnknownStreamError(state.stream, await store.streamNames());
		state = result.state;
		plan = await planFor(state);
	}
	throw new ConcurrentChangeError(initial.stream);
}
