import { CRM_MEMORY_TABLES, upsertTargetContract } from '../contract/upsertTarget.contract';
import { MemoryUpsertTarget } from '../support/memory/memoryUpsertTarget';

upsertTargetContract('in memory', async () => {
	const target = new MemoryUpsertTarget(CRM_MEMORY_TABLES());
	return { target, rows: async (table) => target.rows(table) };
});
