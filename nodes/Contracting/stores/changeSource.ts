import type { CatalogTable } from '../../shared/catalog';
import type { SourceBatch, ReadWindow } from '../../shared/core/changeQuery';
import type { Cursor } from '../../shared/core/cursor';
import type { QualifiedName } from '../../shared/core/identifiers';
import type { SourcePlan, SourceSpec } from '../../shared/core/markers';
import type { KeyedRow } from '../../shared/core/retryQuery';
import type { SchemaCache } from '../../shared/schemaCache';
import { defineSeam } from '../../shared/seams';
import type { SqlTransport } from '../../shared/transport/types';
import { SqlServerChangeSource } from './sqlServerChangeSource';

/**
 * Where the Contracting node reads changed rows from. One execution is: `describe` (check the editor's choices
 * against the catalogue), `openWindow` (fix the upper bound once), then `readBatch` per batch. Every call is
 * one round trip, except `readKeys`: one per chunk of keys that fits SQL Server's parameter limit. The SQL Server adapter and the in-memory adapter (test/support/memory) have the same meaning,
 * pinned by test/contract/changeSource.contract.ts.
 */
export interface ChangeSource {
	/** The table's catalogue entry, for the editor's lists. Throws UnknownTableError. */
	describeTable(table: QualifiedName): Promise<CatalogTable>;
	/** Checks the editor's choices against the catalogue. Throws UnknownTableError, UnknownColumnError, ChangeSourceError. */
	describe(spec: SourceSpec): Promise<SourcePlan>;
	/** Fixes the read window for this execution; refuses a cursor the source can no longer continue from. */
	openWindow(plan: SourcePlan, from: Cursor): Promise<ReadWindow>;
	/** At most `limit` rows after `after`, in cursor order, and whether more follow within the window. */
	readBatch(plan: SourcePlan, window: ReadWindow, after: Cursor, limit: number): Promise<SourceBatch>;
	/** The current rows of the given keys (the retry list), in their order; a key no longer there as a delete. */
	readKeys(plan: SourcePlan, keys: Array<Record<string, unknown>>): Promise<KeyedRow[]>;
	/** How many rows reading every batch from `from` within the window would give, in one round trip. */
	countChanges(plan: SourcePlan, window: ReadWindow, from: Cursor): Promise<number>;
}

/** `schema`: what the pool's executions already know of the database (schemaCache.ts). */
export type ChangeSourceFactory = (transport: SqlTransport, schema?: SchemaCache) => ChangeSource;

export const changeSourceSeam = defineSeam<ChangeSourceFactory>('changeSource', (transport, schema) => new SqlServerChangeSource(transport, schema));
