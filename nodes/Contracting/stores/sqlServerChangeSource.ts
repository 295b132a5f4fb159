import type { CatalogColumn, CatalogTable, ColumnsUsed } from '../../shared/catalog';
import { SchemaRecheck, describeTableKnown } from '../../shared/catalog';
import type { ReadWindow, ServerFacts, SourceBatch } from '../../shared/core/changeQuery';
import { batchFromResult, changeBatchRequest, changeCountRequest, countFromResult, readWindowFrom, serverFactsRequest } from '../../shared/core/changeQuery';
import type { Cursor } from '../../shared/core/cursor';
import type { QualifiedName } from '../../shared/core/identifiers';
import type { ResolvedMarker, SourcePlan, SourceSpec } from '../../shared/core/markers';
import type { KeyedRow } from '../../shared/core/retryQuery';
import { keyedRowsFromResult, keyedRowsRequest, retryKeyChunks } from '../../shared/core/retryQuery';
import { resolveSourcePlan } from '../../shared/core/markers';
import { SchemaCache } from '../../shared/schemaCache';
import type { SqlRequest, SqlResult, SqlTransport } from '../../shared/transport/types';
import type { ChangeSource } from './changeSource';

function markerColumns(marker: ResolvedMarker): CatalogColumn[] {
	switch (marker.kind) {
		case 'datetime':
		case 'rowversion':
			return [marker.column];
		case 'dateAndTime':
			return [marker.date.column, marker.time.column];
		case 'changeTracking':
			return [];
	}
}

/** What a read names: the keys, the marker, the output and the filtered columns of the source table. */
function columnsUsed(plan: SourcePlan): ColumnsUsed[] {
	const columns = [...plan.keys, ...markerColumns(plan.marker), ...plan.output, ...plan.filters.map((filter) => filter.column)];
	return [{ table: plan.table.name, columns: [...new Set(columns.map((column) => column.name))] }];
}

/**
 * The change source over SQL Server: the T-SQL comes from the pure builders in nodes/shared/core/changeQuery.ts.
 * Table descriptions come from the pool's schema answers (schemaCache.ts); without a shared cache it asks itself.
 */
export class SqlServerChangeSource implements ChangeSource {
	private readonly recheck: SchemaRecheck;

	constructor(
		private readonly transport: SqlTransport,
		private readonly schema = new SchemaCache(),
	) {
		this.recheck = new SchemaRecheck(transport, schema);
	}

	async describeTable(table: QualifiedName): Promise<CatalogTable> {
		return await describeTableKnown(this.transport, this.schema, table);
	}

	async describe(spec: SourceSpec): Promise<SourcePlan> {
		return resolveSourcePlan(await this.describeTable(spec.table), spec);
	}

	/** Sends a request built from `plan`; when the schema changed under it, the column or table that is gone is the error. */
	private async execute(plan: SourcePlan, request: SqlRequest): Promise<SqlResult> {
		return await this.transport.execute(request).catch(async (error: unknown) => await Promise.reject(await this.recheck.explain(error, columnsUsed(plan))));
	}

	async openWindow(plan: SourcePlan, from: Cursor): Promise<ReadWindow> {
		const result = await this.execute(plan, serverFactsRequest(plan));
		const facts = (result.recordsets[0]?.[0] ?? {}) as ServerFacts;
		return readWindowFrom(plan, facts, from);
	}

	async readBatch(plan: SourcePlan, window: ReadWindow, after: Cursor, limit: number): Promise<SourceBatch> {
		const result = await this.execute(plan, changeBatchRequest(plan, window, after, limit));
		return batchFromResult(plan, window, after, result, limit);
	}

	async countChanges(plan: SourcePlan, window: ReadWindow, from: Cursor): Promise<number> {
		return countFromResult(plan, window, from, await this.execute(plan, changeCountRequest(plan, window, from)));
	}

	async readKeys(plan: SourcePlan, keys: Array<Record<string, unknown>>): Promise<KeyedRow[]> {
		const rows: KeyedRow[] = [];
		for (const chunk of retryKeyChunks(plan, keys)) {
			rows.push(...keyedRowsFromResult(plan, await this.execute(plan, keyedRowsRequest(plan, chunk))));
		}
		return rows;
	}
}
