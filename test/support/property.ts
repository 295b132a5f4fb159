/**
 * A small model-based testing kit: seeded random sequences of events, checked by a property, and a failing
 * sequence shrunk to a small one that still fails, reported with its seed so it can be replayed.
 * Runs: PROPERTY_RUNS (default given by the test), PROPERTY_SEED (replays one sequence).
 */

/** mulberry32: a fast 32-bit generator; the same seed gives the same sequence on every machine. */
export class Random {
	private state: number;

	constructor(readonly seed: number) {
		this.state = seed >>> 0;
	}

	next(): number {
		this.state = (this.state + 0x6d2b79f5) >>> 0;
		let t = this.state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	}

	/** A whole number from min to max, both included. */
	int(min: number, max: number): number {
		return min + Math.floor(this.next() * (max - min + 1));
	}

	chance(probability: number): boolean {
		return this.next() < probability;
	}

	pick<T>(choices: readonly T[]): T {
		return choices[this.int(0, choices.length - 1)];
	}

	/** Picks by weight: [[weight, value], ...]. */
	weighted<T>(choices: ReadonlyArray<readonly [number, T]>): T {
		const total = choices.reduce((sum, [weight]) => sum + weight, 0);
		let roll = this.next() * total;
		for (const [weight, value] of choices) {
			roll -= weight;
			if (roll < 0) return value;
		}
		return choices[choices.length - 1][1];
	}
}

export interface PropertyFailure<E> {
	seed: number;
	original: E[];
	shrunk: E[];
	message: string;
}

/** Returns the failure message, or undefined when the property holds for these events. */
export type Check<E> = (events: E[]) => Promise<string | undefined>;

/**
 * Delta debugging: removes ever smaller chunks of the sequence while it still fails. The result fails and
 * no single event can be dropped from it without the failure going away.
 */
export async function shrink<E>(events: E[], check: Check<E>): Promise<{ events: E[]; message: string }> {
	let current = events;
	let message = (await check(current)) ?? 'no failure';
	for (let chunk = Math.max(1, Math.floor(current.length / 2)); chunk >= 1; chunk = Math.floor(chunk / 2)) {
		let start = 0;
		while (start < current.length) {
			const candidate = [...current.slice(0, start), ...current.slice(start + chunk)];
			const failure = await check(candidate);
			if (failure !== undefined) {
				current = candidate;
				message = failure;
			} else {
				start += chunk;
			}
		}
	}
	return { events: current, message };
}

export interface ForAllOptions {
	runs: number;
	/** Replays just this seed. */
	seed?: number;
	firstSeed?: number;
}

export function propertyOptionsFromEnvironment(defaultRuns: number): ForAllOptions {
	const runs = Number(process.env.PROPERTY_RUNS ?? defaultRuns);
	const seed = process.env.PROPERTY_SEED !== undefined ? Number(process.env.PROPERTY_SEED) : undefined;
	return { runs: Number.isFinite(runs) && runs > 0 ? runs : defaultRuns, seed, firstSeed: 1 };
}

/** Generates and checks sequences; the first failure is shrunk and returned. */
export async function forAll<E>(
	options: ForAllOptions,
	generate: (random: Random) => E[],
	check: Check<E>,
): Promise<PropertyFailure<E> | undefined> {
	const seeds =
		options.seed !== undefined
			? [options.seed]
			: Array.from({ length: options.runs }, (_, index) => (options.firstSeed ?? 1) + index);
	for (const seed of seeds) {
		const events = generate(new Random(seed));
		const message = await check(events);
		if (message !== undefined) {
			const shrunk = await shrink(events, check);
			return { seed, original: events, shrunk: shrunk.events, message: shrunk.message };
		}
	}
	return undefined;
}

export function describeFailure<E>(failure: PropertyFailure<E>): string {
	return [
		`Property violated for seed ${failure.seed} (replay: PROPERTY_SEED=${failure.seed} npm test).`,
		`Shrunk from ${failure.original.length} to ${failure.shrunk.length} events:`,
		...failure.shrunk.map((event, index) => `  ${index + 1}. ${JSON.stringify(event)}`),
		`Violation: ${failure.message}`,
	].join('\n');
}
