import { MemoryChangeSource } from '../support/memory/memoryChangeSource';
import type { ChangeSourceHarness } from '../contract/changeSource.contract';
import { changeSourceContract } from '../contract/changeSource.contract';

/** The in-memory change source as the contract sees it. */
export function memoryHarness(source = new MemoryChangeSource()): ChangeSourceHarness {
	return {
		source,
		createTable: async (definition) => void source.define(definition),
		insert: async (table, rows) => source.table(table).insert(...rows),
		update: async (table, key, changes) => source.table(table).update(key, changes),
		remove: async (table, key) => source.table(table).remove(key),
		expireChangeTracking: async () => {
			source.minValidVersion = source.currentChangeVersion;
		},
	};
}

changeSourceContract('in memory', async () => memoryHarness());
