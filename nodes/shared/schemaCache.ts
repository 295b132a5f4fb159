import type { TransportFactory } from './seams';
import type { ConnectionSettings } from './transport/connectionSettings';
import { poolKey } from './transport/connectionSettings';

/**
 * How long an answer about a database's schema is trusted without being asked again: longer than a run of the
 * shipped sync (so every batch after the first is served from memory), short enough that a change made without an
 * error on our side (a column widened, an index added) is seen within minutes.
 */
export const SCHEMA_ANSWER_MAX_AGE_MS = 10 * 60_000;

/**
 * SQL Server errors that mean a statement was built from a schema that no longer holds: invalid column (207),
 * invalid object (208), column count mismatch (213), string or binary data would be truncated (8152, 2628),
 * cannot insert NULL into a column that became NOT NULL (515), conversion failed after a type change (245, 8114),
 * and a column of another collation (468). After one of them the cached answers of that pool are asked again.
 */
export const SCHEMA_CHANGED_ERRORS: ReadonlySet<number> = new Set([207, 208, 213, 8152, 2628, 515, 245, 8114, 468]);

interface Answer {
	at: number;
	value: Promise<unknown>;
}

/**
 * Answers about one database's schema (table descriptions, the compatibility level, the checked watermark tables),
 * kept per connection pool and shared by every execution that uses it, so a batch costs no catalogue round trip. An
 * answer is asked again once it is older than the maximum age, once it failed, and after the caller `forget`s it
 * (on an error that means the schema changed), so a stale answer is never served twice.
 */
export class SchemaCache {
	private readonly answers = new Map<string, Answer>();

	constructor(
		private readonly maxAgeMs = SCHEMA_ANSWER_MAX_AGE_MS,
		private readonly now: () => number = Date.now,
	) {}

	async get<T>(key: string, ask: () => Promise<T>): Promise<T> {
		const kept = this.answers.get(key);
		if (kept && this.now() - kept.at < this.maxAgeMs) return (await kept.value) as T;
		const answer: Answer = { at: this.now(), value: ask() };
		this.answers.set(key, answer);
		return (await answer.value.catch(async (error: unknown) => {
			// A failed answer is not kept: the partner may fix the table and run again.
			if (this.answers.get(key) === answer) this.answers.delete(key);
			return await Promise.reject(error);
		})) as T;
	}

	/** Keeps an answer learnt on the way (e.g. from a statement that also returned it). */
	remember<T>(key: string, value: T): void {
		this.answers.set(key, { at: this.now(), value: Promise.resolve(value) });
	}

	forget(key: string): void {
		this.answers.delete(key);
	}

	forgetAll(): void {
		this.answers.clear();
	}
}

const cachesByFactory = new WeakMap<TransportFactory, Map<string, SchemaCache>>();

/**
 * The schema cache of the pool `factory` opens for `settings`. Keyed by the transport factory too, so a test that
 * swaps the transport (a new double with another catalogue) starts with an empty cache, as a new server would.
 */
export function schemaCacheOf(factory: TransportFactory, settings: ConnectionSettings): SchemaCache {
	let caches = cachesByFactory.get(factory);
	if (!caches) {
		caches = new Map();
		cachesByFactory.set(factory, caches);
	}
	const key = poolKey(settings);
	let cache = caches.get(key);
	if (!cache) {
		cache = new SchemaCache();
		caches.set(key, cache);
	}
	return cache;
}
