import type { CursorKind } from '../../shared/core/cursor';
import { parseCursor } from '../../shared/core/cursor';
import type { QualifiedName } from '../../shared/core/identifiers';
import type { RetryEntry } from '../../shared/core/retryList';
import { retryKeyText, retryTableOf } from '../../shared/core/retryList';
import type { HistoryAction } from '../../shared/core/rewind';
import type { CommitVerdict } from '../../shared/core/watermark';
import type { CursorLocation } from '../../shared/core/watermarkLocation';
import {
	CursorLocationError,
	comparableStoredValue,
	cursorBesidePair,
	cursorOfStoredValue,
	exactBesidePair,
	describeLocation,
	parseLocation,
	serializeLocation,
	storedCursorOf,
	storedValueOf,
} from '../../shared/core/watermarkLocation';
import { meansSchemaMayHaveChanged } from '../../shared/catalog';
import { SchemaCache } from '../../shared/schemaCache';
import type { SqlParameter, SqlRequest, SqlResult, SqlRow, SqlTransport } from '../../shared/transport/types';
import type { ResolvedLocation } from './cursorLocationSql';
import { resolveExistingLocation } from './cursorLocationSql';
import type {
	AcquireRequest,
	AcquireResult,
	AuditInfo,
	CommitRequest,
	CommitResult,
	HistoryEntry,
	ReplaceRequest,
	ReplaceResult,
	RetryListOutcome,
	RunEventRequest,
	StatusAnswer,
	StreamState,
	StreamStatus,
	WatermarkStore,
	WatermarkTables,
} from './watermarkStore';
import { RUN_COLUMNS, ensureRunTableSql, recordRunSql, runTableOf, statusSql } from './statusSql';
import type { ColumnSpec, ExistingColumn } from './watermarkSql';
import {
	HISTORY_COLUMNS,
	MissingSchemaError,
	RETRY_COLUMNS,
	STATE_COLUMNS,
	WatermarkNoAnswerError,
	acquireSql,
	changeRetryEntriesSql,
	commitSql,
	checkCreatedTable,
	ensureTablesSql,
	ensureRetryTableSql,
	entryInEffectSql,
	historySql,
	packageLocationSql,
	readAgainSql,
	readLocationSql,
	readStateSql,
	replaceSql,
	retryChangesXml,
	retryListSql,
	rewindsAndUndosSql,
	streamNamesSql,
} from './watermarkSql';

const text = (name: string, value: string | null, length = -1): SqlParameter => ({ name, type: { name: 'nvarchar', length }, value });
const ascii = (name: string, value: string | null, length: number): SqlParameter => ({ name, type: { name: 'varchar', length }, value });
const bigint = (name: string, value: number): SqlParameter => ({ name, type: { name: 'bigint' }, value });
// DATEADD takes an int, not a bigint.
const int = (name: string, value: number): SqlParameter => ({ name, type: { name: 'int' }, value });
const bit = (name: string, value: boolean): SqlParameter => ({ name, type: { name: 'bit' }, value });

function auditParameters(audit: AuditInfo): SqlParameter[] {
	return [text('workflowId', audit.workflowId, 100), text('executionId', audit.executionId, 100)];
}

/** datetime2 as CONVERT(..., 126) gives it, read as UTC. */
function utcIso(value: unknown): string | null {
	if (value === null || value === undefined) return null;
	return new Date(`${String(value)}Z`).toISOString();
}

function kindOf(cursorText: string | null): CursorKind | null {
	return cursorText === null ? null : parseCursor(cursorText).kind;
}

/** A retry list row as the statements of watermarkSql.ts answer it. */
function retryEntryOf(stream: string, row: SqlRow): RetryEntry {
	return {
		stream,
		key: JSON.parse(String(row.keyText)) as Record<string, unknown>,
		cursor: (row.cursorText as string | null) ?? null,
		attempts: Number(row.attempts),
		lastError: String(row.lastError ?? ''),
		firstFailedAt: utcIso(row.firstFailedAt) as string,
		lastTriedAt: utcIso(row.lastTriedAt) as string,
		parked: Boolean(row.parked),
	};
}

/**
 * The watermark store on SQL Server, over the SQL transport. Its tables are created on first use; an existing
 * table of the same name must have the columns this package needs. Each change is one batch in one transaction,
 * preceded for Set, Rewind and Undo by a read of where the stream keeps its cursor (plus, once per store, the
 * table check and, for an existing table as the cursor's place, its catalogue check).
 */
export class SqlServerWatermarkStore implements WatermarkStore {
	constructor(
		private readonly transport: SqlTransport,
		private readonly tables: WatermarkTables,
		/** The checks of the tables and of an existing table as the cursor's place, kept per pool (schemaCache.ts). */
		private readonly schema = new SchemaCache(),
	) {}

	/** One round trip; an error that means a table changed or went makes the pool check its tables again. */
	private async execute(request: SqlRequest): Promise<SqlResult> {
		return await this.transport.execute(request).catch(async (error: unknown) => {
			if (meansSchemaMayHaveChanged(error)) this.schema.forgetAll();
			return await Promise.reject(error);
		});
	}

	private async ensureTables(): Promise<void> {
		await this.schema.get(`watermark tables ${JSON.stringify(this.tables)}`, async () => {
			const result = await this.execute({ text: ensureTablesSql(this.tables), parameters: [] });
			const [schemas = [], columns = []] = result.recordsets;
			for (const [role, table] of [['state', this.tables.state], ['history', this.tables.history]] as const) {
				if (!Number(schemas[0]?.[`${role}SchemaExists`])) {
					throw new MissingSchemaError(table);
				}
				const existing = columns.filter((row) => row.tableRole === role) as unknown as ExistingColumn[];
				checkCreatedTable(table, role === 'state' ? STATE_COLUMNS : HISTORY_COLUMNS, existing);
			}
		});
	}

	/** The retry table is created the first time a row is refused (or the list is looked at), not with the others. */
	private async ensureRetryTable(): Promise<QualifiedName> {
		return await this.ensureSideTable(retryTableOf(this.tables), ensureRetryTableSql, 'retrySchemaExists', RETRY_COLUMNS);
	}

	/** Creates a table kept beside the watermark table (retry list, runs) on first use and checks its columns, once per pool. */
	private async ensureSideTable(table: QualifiedName, createSql: (table: QualifiedName) => string, schemaExists: string, expected: ColumnSpec[]): Promise<QualifiedName> {
		await this.schema.get(`side table ${table.schema}.${table.name}`, async () => {
			const result = await this.execute({ text: createSql(table), parameters: [] });
			const [schemas = [], columns = []] = result.recordsets;
			if (!Number(schemas[0]?.[schemaExists])) throw new MissingSchemaError(table);
			checkCreatedTable(table, expected, columns as unknown as ExistingColumn[]);
		});
		return table;
	}

	private async resolve(location: CursorLocation): Promise<ResolvedLocation> {
		if (location.kind === 'packageTable') {
			return { sql: packageLocationSql(this.tables.state), parameters: [], checkFits: () => undefined };
		}
		return await this.schema.get(`cursor location ${JSON.stringify(location)}`, async () => await resolveExistingLocation(this.transport, location));
	}

	private stateOf(row: SqlRow): StreamState {
		const location = parseLocation((row.cursorLocation as string | null) ?? null);
		return {
			stream: String(row.stream),
			cursor: cursorBesidePair((row.storedValue as string | null) ?? null, location, (row.cursorKind as CursorKind | null) ?? null, (row.exactCursor as string | null) ?? null),
			generation: Number(row.generation),
			rewoundAtGeneration: Number(row.rewoundAtGeneration),
			timeZone: String(row.timeZone),
			leaseOwner: (row.leaseOwner as string | null) ?? null,
			leaseExpiresAt: utcIso(row.leaseExpiresAt),
			cursorChangedAt: utcIso(row.cursorChangedAt) as string,
			location,
		};
	}

	async acquire(request: AcquireRequest): Promise<AcquireResult> {
		await this.ensureTables();
		const location = await this.resolve(request.location);
		const startingValue = storedValueOf(request.startingCursor, request.location);
		location.checkFits(startingValue);
		const result = await this.execute({
			text: acquireSql(this.tables, location.sql),
			parameters: [
				text('stream', request.stream, 200),
				text('owner', request.owner, 200),
				int('leaseSeconds', request.leaseSeconds),
				text('startingValue', startingValue),
				ascii('startingKind', kindOf(request.startingCursor), 20),
				text('startingReason', request.startingReason, 1000),
				ascii('timeZone', request.timeZone, 64),
				text('location', serializeLocation(request.location)),
				...auditParameters(request.audit),
				...location.parameters,
			],
		});
		const row = result.recordsets[0]?.[0];
		if (!row) throw new WatermarkNoAnswerError(request.stream);
		if (row.outcome === 'location differs') {
			throw new CursorLocationError(
				`Stream "${request.stream}" keeps its watermark in ${describeLocation(parseLocation((row.recordedLocation as string | null) ?? null))}, but this node is set to keep it in ${describeLocation(request.location)}. Set "Store Cursor In" as before, or use a new stream name`,
			);
		}
		const state = this.stateOf(row);
		this.schema.remember(this.locationKey(request.stream), state.location);
		if (row.outcome === 'held') {
			return { kind: 'held', owner: state.leaseOwner as string, until: state.leaseExpiresAt as string };
		}
		const previousOwner = (row.previousOwner as string | null) ?? null;
		const [, sizes = [], due = []] = result.recordsets;
		return {
			kind: 'acquired',
			state,
			firstUse: Boolean(row.firstUse),
			retry: { due: due.map((entry) => retryEntryOf(request.stream, entry)), size: Number(sizes[0]?.retryListSize ?? 0) },
			takenOverFrom:
				previousOwner !== null && previousOwner !== request.owner
					? { owner: previousOwner, expiredAt: utcIso(row.previousExpiry) as string }
					: undefined,
		};
	}

	/** The stream's row of the watermark table, as readStateSql answers it. */
	private async stateRowOf(stream: string): Promise<SqlRow | undefined> {
		const result = await this.execute({ text: readStateSql(this.tables), parameters: [text('stream', stream, 200)] });
		return result.recordsets[0]?.[0];
	}

	/** Where a stream keeps its cursor is fixed at its first run, so it is asked once per pool (or learnt from Get). */
	private locationKey(stream: string): string {
		return `cursor place of ${JSON.stringify([this.tables.state, stream])}`;
	}

	private async locationOf(stream: string): Promise<CursorLocation | undefined> {
		const known = await this.schema.get(this.locationKey(stream), async () => {
			const row = await this.stateRowOf(stream);
			return row ? parseLocation((row.cursorLocation as string | null) ?? null) : undefined;
		});
		if (known === undefined) this.schema.forget(this.locationKey(stream));
		return known;
	}

	async commit(request: CommitRequest): Promise<CommitResult> {
		await this.ensureTables();
		const recorded = await this.locationOf(request.token.stream);
		if (!recorded) return { verdict: 'unknown stream', previousCursor: null };
		const location = await this.resolve(recorded);
		const { move, retry } = request;
		const newValue = move === undefined ? null : storedValueOf(move.to, recorded);
		location.checkFits(newValue);
		const retryTable = retry ? await this.ensureRetryTable() : undefined;
		const retryParameters: SqlParameter[] = retry
			? [
					text('retryChanges', retryChangesXml(retry.changes.map((change) => ({
						keyText: retryKeyText(change.key),
						written: change.kind === 'written',
						cursor: change.kind === 'failed' ? change.cursor : null,
						error: change.kind === 'failed' ? change.error : undefined,
					})))),
					int('maxAttempts', retry.rules.maxAttempts),
					bit('releaseWhenParked', retry.rules.releaseLeaseWhenParked),
				]
			: [];
		const result = await this.execute({
			text: commitSql(this.tables, location.sql, retryTable),
			parameters: [
				text('stream', request.token.stream, 200),
				text('tokenOwner', request.token.owner, 200),
				bigint('tokenGeneration', request.token.generation),
				bit('hasNewCursor', move !== undefined),
				text('batchStart', move === undefined ? null : comparableStoredValue(storedValueOf(move.from, recorded))),
				text('newValue', newValue),
				text('newCursorText', move === undefined ? null : storedCursorOf(move.to, recorded)),
				ascii('newKind', move === undefined ? null : kindOf(move.to), 20),
				bit('allowBackwards', request.allowBackwards),
				bit('keepsExact', recorded.kind === 'dateAndTimeColumns'),
				text('exactCursor', move === undefined ? null : exactBesidePair(move.to, recorded)),
				bit('releaseLease', request.releaseLease),
				...auditParameters(request.audit),
				...location.parameters,
				...retryParameters,
			],
		});
		const row = result.recordsets[0]?.[0] ?? {};
		const verdict = row.verdict as CommitVerdict;
		if (row.stream === null || row.stream === undefined) return { verdict, previousCursor: null };
		const applied = retry !== undefined && (verdict === 'store' || verdict === 'nothing to store');
		const retryOutcome: RetryListOutcome | undefined = applied
			? {
					removed: Number(result.recordsets[1]?.[0]?.removed ?? 0),
					failing: Number(result.recordsets[1]?.[0]?.failing ?? 0),
					newlyParked: (result.recordsets[2] ?? []).map((entry) => retryEntryOf(request.token.stream, entry)),
				}
			: undefined;
		return {
			verdict,
			...(retryOutcome ? { retry: retryOutcome } : {}),
			previousCursor: cursorOfStoredValue((row.previousValue as string | null) ?? null, recorded, (row.previousKind as CursorKind | null) ?? null),
			state: this.stateOf(row),
		};
	}

	async read(stream: string): Promise<StreamState | undefined> {
		await this.ensureTables();
		const row = await this.stateRowOf(stream);
		if (!row) return undefined;
		const location = parseLocation((row.cursorLocation as string | null) ?? null);
		if (location.kind === 'packageTable') return this.stateOf(row);
		const resolved = await this.resolve(location);
		const value = await this.execute({ text: readLocationSql(resolved.sql), parameters: resolved.parameters });
		return this.stateOf({ ...row, storedValue: value.recordsets[0]?.[0]?.storedValue ?? null });
	}

	async streamNames(): Promise<string[]> {
		await this.ensureTables();
		const result = await this.execute({ text: streamNamesSql(this.tables), parameters: [] });
		return (result.recordsets[0] ?? []).map((row) => String(row.stream));
	}

	async replaceCursor(request: ReplaceRequest): Promise<ReplaceResult> {
		await this.ensureTables();
		const recorded = await this.locationOf(request.stream);
		if (!recorded) return { replaced: false };
		const location = await this.resolve(recorded);
		const newValue = storedValueOf(request.cursor, recorded);
		location.checkFits(newValue);
		const result = await this.execute({
			text: replaceSql(this.tables, location.sql),
			parameters: [
				text('stream', request.stream, 200),
				bigint('expectedGeneration', request.expectedGeneration),
				text('newValue', newValue),
				text('newCursorText', storedCursorOf(request.cursor, recorded)),
				ascii('newKind', kindOf(request.cursor), 20),
				ascii('action', request.action, 20),
				bit('keepsExact', recorded.kind === 'dateAndTimeColumns'),
				text('exactCursor', null),
				text('reason', request.reason, 1000),
				...auditParameters(request.audit),
				...location.parameters,
			],
		});
		const row = result.recordsets[0]?.[0];
		if (!row) return { replaced: false };
		return { replaced: Boolean(row.replaced), state: this.stateOf(row) };
	}

	private entriesOf(rows: SqlRow[] | undefined): HistoryEntry[] {
		return (rows ?? []).map((row) => ({
			id: Number(row.id),
			stream: String(row.stream),
			oldCursor: (row.oldCursor as string | null) ?? null,
			newCursor: (row.newCursor as string | null) ?? null,
			changedAt: utcIso(row.changedAt) as string,
			workflowId: (row.workflowId as string | null) ?? null,
			executionId: (row.executionId as string | null) ?? null,
			action: row.action as HistoryAction,
			reason: (row.reason as string | null) ?? null,
		}));
	}

	async history(stream: string, limit: number): Promise<HistoryEntry[]> {
		await this.ensureTables();
		const result = await this.execute({
			text: historySql(this.tables),
			parameters: [text('stream', stream, 200), bigint('limit', limit)],
		});
		return this.entriesOf(result.recordsets[0]);
	}

	async entryInEffectAt(stream: string, at: string): Promise<HistoryEntry | undefined> {
		await this.ensureTables();
		const result = await this.execute({
			text: entryInEffectSql(this.tables),
			parameters: [text('stream', stream, 200), ascii('at', new Date(at).toISOString().slice(0, 23), 23)],
		});
		return this.entriesOf(result.recordsets[0])[0];
	}

	async rewindsAndUndos(stream: string): Promise<HistoryEntry[]> {
		await this.ensureTables();
		const result = await this.execute({ text: rewindsAndUndosSql(this.tables), parameters: [text('stream', stream, 200)] });
		return this.entriesOf(result.recordsets[0]);
	}

	async retryList(stream: string): Promise<RetryEntry[]> {
		const table = await this.ensureRetryTable();
		const result = await this.execute({ text: retryListSql(table), parameters: [text('stream', stream, 200)] });
		return (result.recordsets[0] ?? []).map((row) => retryEntryOf(stream, row));
	}

	async changeRetryEntries(stream: string, keys: Array<Record<string, unknown>> | undefined, action: 'retryAgain' | 'remove'): Promise<number> {
		const table = await this.ensureRetryTable();
		const result = await this.execute({
			text: changeRetryEntriesSql(table),
			parameters: [
				text('stream', stream, 200),
				text('keys', retryChangesXml((keys ?? []).map((key) => ({ keyText: retryKeyText(key) })))),
				bit('allParked', keys === undefined),
				bit('remove', action === 'remove'),
			],
		});
		return Number(result.recordsets[0]?.[0]?.changed ?? 0);
	}

	async recordRun(request: RunEventRequest): Promise<void> {
		// The run table is created when the first run is recorded; Status only reads it when it exists.
		const table = await this.ensureSideTable(runTableOf(this.tables), ensureRunTableSql, 'runSchemaExists', RUN_COLUMNS);
		await this.execute({
			text: recordRunSql(table),
			parameters: [
				text('stream', request.stream, 200),
				ascii('event', request.event, 20),
				text('summary', request.summary === undefined ? null : JSON.stringify(request.summary)),
				...auditParameters(request.audit),
			],
		});
	}

	async status(stream: string | null, retryEntries: number): Promise<StatusAnswer> {
		const result = await this.execute({
			text: statusSql(this.tables),
			parameters: [text('stream', stream, 200), int('entryLimit', retryEntries)],
		});
		const [clock = [], states = [], runs = [], counts = [], entries = []] = result.recordsets;
		const byStream = (rows: SqlRow[], name: string) => rows.filter((row) => String(row.stream) === name);
		const streams: StreamStatus[] = [];
		for (const row of states) {
			const name = String(row.stream);
			const location = parseLocation((row.cursorLocation as string | null) ?? null);
			let stored = row;
			if (location.kind !== 'packageTable') {
				const resolved = await this.resolve(location);
				const value = await this.execute({ text: readLocationSql(resolved.sql), parameters: resolved.parameters });
				stored = { ...row, storedValue: value.recordsets[0]?.[0]?.storedValue ?? null };
			}
			const [run] = byStream(runs, name);
			const [count] = byStream(counts, name);
			streams.push({
				state: this.stateOf(stored),
				retry: {
					waiting: Number(count?.waiting ?? 0),
					parked: Number(count?.parked ?? 0),
					entries: byStream(entries, name).map((entry) => retryEntryOf(name, entry)),
				},
				...(run?.startedAt ? { lastStarted: { at: utcIso(run.startedAt) as string, workflowId: (run.startedWorkflowId as string | null) ?? null, executionId: (run.startedExecutionId as string | null) ?? null } } : {}),
				...(run?.finishedAt
					? {
							lastFinished: {
								at: utcIso(run.finishedAt) as string,
								workflowId: (run.finishedWorkflowId as string | null) ?? null,
								executionId: (run.finishedExecutionId as string | null) ?? null,
								summary: JSON.parse(String(run.summary ?? '{}')) as Record<string, unknown>,
							},
						}
					: {}),
			});
		}
		return { now: utcIso(clock[0]?.now) as string, streams };
	}

	async readAgain(stream: string, rows: Array<{ key: Record<string, unknown>; cursor: string | null }>, reason: string): Promise<number> {
		if (rows.length === 0) return 0;
		const table = await this.ensureRetryTable();
		const result = await this.execute({
			text: readAgainSql(table),
			parameters: [
				text('stream', stream, 200),
				text('keys', retryChangesXml(rows.map((row) => ({ keyText: retryKeyText(row.key), cursor: row.cursor })))),
				text('reason', reason),
			],
		});
		return Number(result.recordsets[0]?.[0]?.added ?? 0);
	}
}
