import type { CatalogTable } from '../../shared/catalog';
import { describeTable } from '../../shared/catalog';
import type { ReadWindow, ServerFacts, SourceBatch } from '../../shared/core/changeQuery';
import { batchFromResult, changeBatchRequest, changeCountRequest, countFromResult, readWindowFrom, serverFactsRequest } from '../../shared/core/changeQuery';
import type { Cursor } from '../../shared/core/cursor';
import type { QualifiedName } from '../../shared/core/identifiers';
import type { SourcePlan, SourceSpec } from '../../shared/core/markers';
import type { KeyedRow } from '../../shared/core/retryQuery';
import { keyedRowsFromResult, keyedRowsRequest, retryKeyChunks } from '../../shared/core/retryQuery';
import { resolveSourcePlan } from '../../shared/core/markers';
import type { SqlTransport } from '../../shared/transport/types';
import type { ChangeSource } from './changeSource';

/** The change source over SQL Server: the T-SQL comes from the pure builders in nodes/shared/core/changeQuery.ts. */
export class SqlServerChangeSource implements ChangeSource {
	constructor(private readonly transport: SqlTransport) {}

	async describeTable(table: QualifiedName): Promise<CatalogTable> {
		return await describeTable(this.transport, table);
	}

	async describe(spec: SourceSpec): Promise<SourcePlan> {
		return resolveSourcePlan(await this.describeTable(spec.table), spec);
	}

	async openWindow(plan: SourcePlan, from: Cursor): Promise<ReadWindow> {
		const result = await this.transport.execute(serverFactsRequest(plan));
		const facts = (result.recordsets[0]?.[0] ?? {}) as ServerFacts;
		return readWindowFrom(plan, facts, from);
	}

	async readBatch(plan: SourcePlan, window: ReadWindow, after: Cursor, limit: number): Promise<SourceBatch> {
		const result = await this.transport.execute(changeBatchRequest(plan, window, after, limit));
		return batchFromResult(plan, window, after, result, limit);
	}

	async countChanges(plan: SourcePlan, window: ReadWindow, from: Cursor): Promise<number> {
		return countFromResult(plan, window, from, await this.transport.execute(changeCountRequest(plan, window, from)));
	}

	async readKeys(plan: SourcePlan, keys: Array<Record<string, unknown>>): Promise<KeyedRow[]> {
		const rows: KeyedRow[] = [];
		for (const chunk of retryKeyChunks(plan, keys)) {
			rows.push(...keyedRowsFromResult(plan, await this.transport.execute(keyedRowsRequest(plan, chunk))));
		}
		return rows;
	}
}
