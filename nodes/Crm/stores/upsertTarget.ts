import type { CatalogTable } from '../../shared/catalog';
import type { QualifiedName } from '../../shared/core/identifiers';
import type { LeaseGuard } from '../../shared/core/leaseGuard';
import type { DeletePlan, DeleteRow, RowOutcome, UpsertPlan, UpsertRow } from '../../shared/core/upsertPlan';
import type { SchemaCache } from '../../shared/schemaCache';
import { defineSeam } from '../../shared/seams';
import type { SqlTransport } from '../../shared/transport/types';
import { SqlServerUpsertTarget } from './sqlServerUpsertTarget';

export interface WriteOptions {
	/** Report what would happen (inserted / updated / unchanged / deleted) and write nothing. */
	dryRun: boolean;
	/** Write only while this lease is live, checked in the write's own transaction (see leaseGuard.ts). */
	leaseGuard?: LeaseGuard;
}

/**
 * Where the CRM node writes: a CRM table, described from its catalogue, upserted and deleted from in set-based
 * batches. `upsert` and `delete` return one outcome per row: inserted, updated, unchanged, deleted, or failed
 * (a looked-up row that is not in CRM). A batch SQL Server refuses is written by nothing and thrown as
 * SqlServerRequestError, whose `number` says whether a row's data was at fault; the caller isolates such rows.
 */
export interface UpsertTarget {
	listTables(filter?: string): Promise<Array<{ name: QualifiedName; kind: string }>>;
	describe(table: QualifiedName): Promise<CatalogTable>;
	/**
	 * How many rows one request (one transaction) can carry: unlimited with OPENJSON, fewer with typed parameters.
	 * The caller writes at most this many at once, so a refused request never undoes rows reported as written.
	 */
	rowsPerRequest(plan: UpsertPlan | DeletePlan): Promise<number>;
	/** Why this database makes the writes take the slower path (below compatibility level 130), for a hint; else undefined. */
	slowerPathReason?(): Promise<string | undefined>;
	upsert(plan: UpsertPlan, rows: UpsertRow[], options: WriteOptions): Promise<RowOutcome[]>;
	delete(plan: DeletePlan, rows: DeleteRow[], options: WriteOptions): Promise<RowOutcome[]>;
}

/** One target per execution; `schema`: what the pool's executions already know of the database (schemaCache.ts). */
export type UpsertTargetFactory = (transport: SqlTransport, schema?: SchemaCache) => UpsertTarget;

export const upsertTargetSeam = defineSeam<UpsertTargetFactory>('upsertTarget', (transport, schema) => new SqlServerUpsertTarget(transport, schema));
