import type { CatalogTable, ColumnsUsed } from '../../shared/catalog';
import { SchemaRecheck, describeTableKnown, listTables } from '../../shared/catalog';
import { SchemaCache } from '../../shared/schemaCache';
import type { QualifiedName } from '../../shared/core/identifiers';
import type { DeletePlan, DeleteRow, RowOutcome, UpsertPlan, UpsertRow } from '../../shared/core/upsertPlan';
import { missingLookupMessage } from '../../shared/core/upsertPlan';
import type { RowsSource, SourceColumn, SourceRow } from '../../shared/core/upsertSql';
import {
	COMPATIBILITY_LEVEL_QUERY,
	OPENJSON_MIN_COMPATIBILITY_LEVEL,
	compatibilityLevelWarning,
	REFUSED_OUTCOME,
	assignmentParameters,
	chunked,
	deleteSourceColumns,
	deleteStatement,
	jsonRowsSource,
	rowsPerValuesChunk,
	upsertSourceColumns,
	upsertStatement,
	valuesRowsSource,
} from '../../shared/core/upsertSql';
import type { LeaseGuard } from '../../shared/core/leaseGuard';
import { LEASE_GUARD_PARAMETERS, LEASE_LOST_OUTCOME, LeaseLostError, leaseGuardSql } from '../../shared/core/leaseGuard';
import { SqlServerRequestError } from '../../shared/transport/sqlServerError';
import type { SqlParameter, SqlRow, SqlTransport } from '../../shared/transport/types';
import type { UpsertTarget, WriteOptions } from './upsertTarget';

function isUpsertPlan(plan: UpsertPlan | DeletePlan): plan is UpsertPlan {
	return 'lookups' in plan;
}

const names = (columns: Array<{ name: string }>) => columns.map((column) => column.name);

/** What a write names: the target's columns, and each lookup's table with its key and value. */
function columnsUsed(plan: UpsertPlan | DeletePlan): ColumnsUsed[] {
	if (!isUpsertPlan(plan)) {
		const assigned = plan.handling.kind === 'markDeleted' ? plan.handling.assignments.map((assignment) => assignment.column) : [];
		return [{ table: plan.table, columns: names([...plan.matchColumns, ...assigned]) }];
	}
	return [
		{ table: plan.table, columns: names([...plan.columns, ...plan.lookups.map((lookup) => lookup.target)]) },
		...plan.lookups.map((lookup) => ({ table: lookup.fromTable, columns: names([lookup.key, lookup.value]) })),
	];
}

/**
 * The CRM target over the SQL transport: one request per batch (per chunk below compatibility level 130). The table
 * descriptions and the compatibility level come from the pool's schema answers (schemaCache.ts): asked once, not
 * per batch. Without a shared cache (the editor, a test) each target asks for itself.
 */
export class SqlServerUpsertTarget implements UpsertTarget {
	private readonly recheck: SchemaRecheck;

	constructor(
		private readonly transport: SqlTransport,
		private readonly schema = new SchemaCache(),
	) {
		this.recheck = new SchemaRecheck(transport, schema);
	}

	async listTables(filter?: string) {
		return await listTables(this.transport, filter);
	}

	async describe(table: QualifiedName): Promise<CatalogTable> {
		return await describeTableKnown(this.transport, this.schema, table);
	}

	private async compatibilityLevel(): Promise<number> {
		return await this.schema.get('compatibility level', async () => {
			const result = await this.transport.execute({ text: COMPATIBILITY_LEVEL_QUERY, parameters: [] });
			return Number(result.recordsets[0]?.[0]?.compatibilityLevel ?? 0);
		});
	}

	/** It decides how every batch travels: one OPENJSON parameter, or chunks of typed parameters. */
	private async usesJson(): Promise<boolean> {
		return (await this.compatibilityLevel()) >= OPENJSON_MIN_COMPATIBILITY_LEVEL;
	}

	async slowerPathReason(): Promise<string | undefined> {
		const level = await this.compatibilityLevel();
		return level >= OPENJSON_MIN_COMPATIBILITY_LEVEL ? undefined : compatibilityLevelWarning(level);
	}

	async rowsPerRequest(plan: UpsertPlan | DeletePlan): Promise<number> {
		if (await this.usesJson()) return Number.POSITIVE_INFINITY;
		if (isUpsertPlan(plan)) return rowsPerValuesChunk(upsertSourceColumns(plan).length, LEASE_GUARD_PARAMETERS);
		return rowsPerValuesChunk(deleteSourceColumns(plan).length, assignmentParameters(plan).length + LEASE_GUARD_PARAMETERS);
	}

	private async send(
		used: ColumnsUsed[],
		columns: SourceColumn[],
		rows: SourceRow[],
		chunkSize: number,
		statement: (source: RowsSource, leaseGuard: string[]) => string,
		fixed: SqlParameter[],
		options: WriteOptions,
	): Promise<SqlRow[]> {
		const json = await this.usesJson();
		const guard = options.leaseGuard && !options.dryRun ? leaseGuardSql(options.leaseGuard) : { lines: [], parameters: [] };
		const results: SqlRow[] = [];
		for (const chunk of json ? [rows] : chunked(rows, chunkSize)) {
			const source = json ? jsonRowsSource(columns, chunk) : valuesRowsSource(columns, chunk);
			const result = await this.transport
				.execute({ text: statement(source, guard.lines), parameters: [...source.parameters, ...fixed, ...guard.parameters] })
				.catch(async (error: unknown) => Promise.reject(await this.recheck.explain(error, used)));
			const records = result.recordsets.at(-1) ?? [];
			if (records[0]?.outcome === LEASE_LOST_OUTCOME) throw new LeaseLostError((options.leaseGuard as LeaseGuard).stream);
			const refused = records.find((record) => record.outcome === REFUSED_OUTCOME);
			// The batch kept nothing: thrown as the refusal it is, so the caller splits the batch to find the rows.
			if (refused) throw await this.recheck.explain(new SqlServerRequestError({ number: Number(refused.errorNumber), message: String(refused.errorMessage) }, 'CRM', 1), used);
			results.push(...records);
		}
		return results;
	}

	async upsert(plan: UpsertPlan, rows: UpsertRow[], options: WriteOptions): Promise<RowOutcome[]> {
		if (rows.length === 0) return [];
		const columns = upsertSourceColumns(plan);
		const records = await this.send(columnsUsed(plan), columns, rows, await this.rowsPerRequest(plan), (source, guard) => upsertStatement(plan, source, options.dryRun, guard), [], options);
		// Only a missing lookup needs its row again; most batches have none, and a Map of every row would be built for nothing.
		let byOrdinal: Map<number, UpsertRow> | undefined;
		return records.map((record): RowOutcome => {
			const ordinal = Number(record.row);
			if (record.outcome !== 'missing') return { ordinal, status: record.outcome as RowOutcome['status'] };
			byOrdinal ??= new Map(rows.map((row) => [row.ordinal, row]));
			const lookup = plan.lookups[Number(record.missingLookup)];
			const keyValue = byOrdinal.get(ordinal)?.lookupKeys[Number(record.missingLookup)] ?? null;
			return { ordinal, status: 'failed', error: { message: missingLookupMessage(lookup, keyValue), column: lookup.target.name } };
		});
	}

	async delete(plan: DeletePlan, rows: DeleteRow[], options: WriteOptions): Promise<RowOutcome[]> {
		if (rows.length === 0 || plan.handling.kind === 'ignore') return rows.map((row) => ({ ordinal: row.ordinal, status: 'ignored' }));
		const records = await this.send(
			columnsUsed(plan),
			deleteSourceColumns(plan),
			rows.map((row) => ({ ordinal: row.ordinal, values: row.key })),
			await this.rowsPerRequest(plan),
			(source, guard) => deleteStatement(plan, source, options.dryRun, guard),
			assignmentParameters(plan),
			options,
		);
		return records.map((record) => ({ ordinal: Number(record.row), status: record.outcome as RowOutcome['status'] }));
	}
}
