export interface Timers {
	set(callback: () => void, ms: number): { unref?: () => void };
	clear(handle: unknown): void;
}

const nodeTimers: Timers = {
	set: (callback, ms) => setTimeout(callback, ms),
	clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface Entry<T> {
	resource: Promise<T>;
	idleTimer?: { unref?: () => void };
}

/**
 * Keeps one resource (a connection pool) per key, shared by every execution that uses the same credential,
 * and closes it when it has not been used for `idleMs`. A resource that fails to open is forgotten at once,
 * so the next call dials again instead of repeating the old failure.
 */
export class IdleClosingCache<T> {
	private readonly entries = new Map<string, Entry<T>>();

	constructor(
		private readonly close: (resource: T) => Promise<void>,
		private readonly idleMs: number,
		private readonly timers: Timers = nodeTimers,
	) {}

	async get(key: string, open: () => Promise<T>): Promise<T> {
		let entry = this.entries.get(key);
		if (!entry) {
			const created: Entry<T> = { resource: open() };
			created.resource.catch(() => this.forget(key, created));
			this.entries.set(key, created);
			entry = created;
		}
		this.restartIdleTimer(key, entry);
		return await entry.resource;
	}

	get size(): number {
		return this.entries.size;
	}

	async closeAll(): Promise<void> {
		const entries = [...this.entries.entries()];
		entries.forEach(([key, entry]) => this.forget(key, entry));
		await Promise.allSettled(entries.map(async ([, entry]) => await this.close(await entry.resource)));
	}

	private restartIdleTimer(key: string, entry: Entry<T>) {
		if (entry.idleTimer) this.timers.clear(entry.idleTimer);
		entry.idleTimer = this.timers.set(() => {
			this.forget(key, entry);
			void entry.resource.then(this.close, () => undefined);
		}, this.idleMs);
		entry.idleTimer.unref?.();
	}

	private forget(key: string, entry: Entry<T>) {
		if (entry.idleTimer) this.timers.clear(entry.idleTimer);
		if (this.entries.get(key) === entry) this.entries.delete(key);
	}
}
