/** Time intervals as [start, end] in performance.now() milliseconds. */
export type Interval = readonly [number, number];

/**
 * How much of `pauses` falls inside `windows`, in milliseconds: the garbage collector's pauses during our node runs,
 * say. Each list is in time order and its intervals do not overlap one another (one thread's node runs, its pauses).
 */
export function overlapMillis(pauses: readonly Interval[], windows: readonly Interval[]): number {
	let total = 0;
	let next = 0;
	for (const [pauseStart, pauseEnd] of pauses) {
		while (next < windows.length && windows[next][1] <= pauseStart) next++;
		for (let index = next; index < windows.length && windows[index][0] < pauseEnd; index++) {
			total += Math.max(0, Math.min(pauseEnd, windows[index][1]) - Math.max(pauseStart, windows[index][0]));
		}
	}
	return total;
}
