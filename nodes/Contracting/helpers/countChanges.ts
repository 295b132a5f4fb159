import { cursorForSource } from '../../shared/core/changeQuery';
import { isBeginning, serializeCursor } from '../../shared/core/cursor';
import type { SourceSpec } from '../../shared/core/markers';
import type { ChangeSource } from '../stores/changeSource';
import { cursorFromSince } from './readChanges';

/** What a read from a watermark would send now, without reading it. */
export interface ChangeCount {
	stream: string;
	/** The cursor counted from, as the read takes it; null: from the beginning. */
	since: string | null;
	/** How many rows the read would send, every batch together. */
	rows: number;
	/** The read window's exclusive upper bound: a local date-time, a rowversion, or (Change Tracking, inclusive) a version. */
	upTo: string;
}

/**
 * Counts what `readChanges` would send from `since`: the same catalogue check, cursor check and read window,
 * then one COUNT statement instead of the batches. A later read sees a later bound, so it may send more.
 */
export async function countChanges(source: ChangeSource, spec: SourceSpec, since: unknown): Promise<ChangeCount> {
	const plan = await source.describe(spec);
	const from = cursorForSource(plan, cursorFromSince(since, plan.marker.kind));
	const window = await source.openWindow(plan, from);
	return {
		stream: plan.stream,
		since: isBeginning(from) ? null : serializeCursor(from),
		rows: await source.countChanges(plan, window, from),
		upTo: window.upperBound,
	};
}
