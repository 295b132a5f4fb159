/**
 * The T-SQL that reads one batch of changes after a cursor, and the rules that relate cursors, the read
 * window and the rows SQL Server returns. SQL Server does all ordering and comparing: the cursor's marker and
 * key travel as the exact text SQL Server produced and are CONVERTed back, in the statement, to the column's
 * own type. No I/O here.
 */
import type { CatalogColumn } from '../catalog';
import type { Cursor } from './cursor';
import { markerProblem } from './cursor';
import { quoteIdentifier, quoteQualifiedName, displayQualifiedName } from './identifiers';
import type { FilterOperator, ResolvedMarker, SourcePlan } from './markers';
import { ChangeSourceError, isBinary, isLocalTimeMarker, isTemporal, typeOf } from './markers';
import type { Condition, OrderingTerm, Position } from './ordering';
import { beyond, conditionSql, orderBySql } from './ordering';
import { collationOf, column, exactFromText, isExactNumber, keyTerm, markerApplySql, markerTerms, markerTextSql, usesIsoStyle } from './sourceOrder';
import { comparableLargeText } from './sqlTypes';
import { localUpperBound } from './timeZone';
import type { ChangeOperation } from './syncItem';
import type { SqlParameter, SqlRequest, SqlResult, SqlRow } from '../transport/types';

/** Column aliases of the bookkeeping the batch query returns next to the row's own columns. */
const MARKER_ALIAS = '__sync_marker';
export const OPERATION_ALIAS = '__sync_operation';
export const keyAlias = (index: number): string => `__sync_key_${index}`;

export const MAX_BATCH_SIZE = 50_000;

const param = (name: string, type: SqlParameter['type'], value: SqlParameter['value']): SqlParameter => ({ name, type, value });

// ---------------------------------------------------------------------------------------------------------
// Cursor against source

/** How far the read window reaches: fixed once per execution, so every batch of it sees the same bound. */
export interface ReadWindow {
	/**
	 * Exclusive upper bound: a local wall-clock reading (date-time markers), a rowversion (MIN_ACTIVE_ROWVERSION),
	 * or, for Change Tracking, the inclusive CHANGE_TRACKING_CURRENT_VERSION() captured for this execution.
	 */
	upperBound: string;
	/** Change Tracking: the version an initial full read that starts now is anchored at. */
	snapshotVersion?: string;
}

/** What the one read-window query returns. */
export interface ServerFacts {
	serverUtcNow?: string | null;
	minActiveRowversion?: string | null;
	currentVersion?: string | null;
	minValidVersion?: string | null;
}

const restartAdvice =
	'A full re-send is needed: use the Watermark node\'s Rewind "to the beginning" for this stream, then run the sync; every row is read again and written as an upsert, so nothing is doubled.';

/**
 * The cursor as this source reads it. Date-time and date + time cursors are both local date-times and are
 * accepted for either marker; anything else that does not fit the source is refused before any row is read.
 */
export function cursorForSource(plan: SourcePlan, cursor: Cursor): Cursor {
	const kind = plan.marker.kind;
	const compatible = kind === cursor.kind || (isLocalTimeMarker(kind) && isLocalTimeMarker(cursor.kind));
	if (!compatible) {
		const what = isLocalTimeMarker(cursor.kind) ? 'a date-time' : cursor.kind === 'rowversion' ? 'a rowversion' : 'a Change Tracking version';
		throw new ChangeSourceError(
			`The watermark for stream "${plan.stream}" is ${what}, but ${displayQualifiedName(plan.table.name)} is read by ${markerKindLabel(kind)}`,
			isLocalTimeMarker(cursor.kind)
				? `A ${markerKindLabel(kind)} source cannot start from a date. ${restartAdvice}`
				: `The change marker was changed since the watermark was stored. ${restartAdvice}`,
		);
	}
	if (cursor.key !== null && cursor.key.length !== plan.keys.length) {
		throw new ChangeSourceError(
			`The watermark for stream "${plan.stream}" has ${cursor.key.length} key value(s), but the key of ${displayQualifiedName(plan.table.name)} is ${plan.keys.map((key) => key.name).join(', ')}`,
			`The key columns were changed since the watermark was stored. Rewind the watermark to a date (or to the beginning) to restart from there.`,
		);
	}
	return { ...cursor, kind };
}

function markerKindLabel(kind: ResolvedMarker['kind']): string {
	switch (kind) {
		case 'datetime':
			return 'a date-time column';
		case 'dateAndTime':
			return 'a date column and a time column';
		case 'rowversion':
			return 'rowversion';
		case 'changeTracking':
			return 'Change Tracking';
	}
}

export function serverFactsRequest(plan: SourcePlan): SqlRequest {
	switch (plan.marker.kind) {
		case 'datetime':
		case 'dateAndTime':
			return { text: 'SELECT CONVERT(varchar(33), SYSUTCDATETIME(), 126) AS serverUtcNow;', parameters: [] };
		case 'rowversion':
			return { text: 'SELECT CONVERT(varchar(18), MIN_ACTIVE_ROWVERSION(), 1) AS minActiveRowversion;', parameters: [] };
		case 'changeTracking':
			return {
				text: `SELECT CONVERT(varchar(20), CHANGE_TRACKING_CURRENT_VERSION()) AS currentVersion,
       CONVERT(varchar(20), CHANGE_TRACKING_MIN_VALID_VERSION(OBJECT_ID(@table))) AS minValidVersion;`,
				parameters: [param('table', { name: 'nvarchar', length: 520 }, quoteQualifiedName(plan.table.name))],
			};
	}
}

/** The Change Tracking version CHANGETABLE(CHANGES …) is asked from: every change after it is still to come. */
export function changesAskedFrom(cursor: Cursor): bigint | undefined {
	if (cursor.marker !== null) return BigInt(cursor.marker) > 0n ? BigInt(cursor.marker) - 1n : 0n;
	if (cursor.snapshotVersion !== undefined) return BigInt(cursor.snapshotVersion);
	return undefined;
}

/**
 * The Change Tracking version a read from `after` asks CHANGETABLE(CHANGES …) from: the version before the
 * cursor's, or during (and at the start of) the full read the version it is anchored at.
 */
export function changeTrackingAskedFrom(after: Cursor, window: ReadWindow): bigint {
	return changesAskedFrom(after) ?? BigInt(window.snapshotVersion as string);
}

/**
 * Refuses a read whose changes Change Tracking no longer holds (cleaned up after the retention period): checked
 * when the window opens and again, in the same request, after every CHANGETABLE read, since a cleanup between the
 * check and the read would make the read miss changes without an error (Microsoft documents this race).
 */
export function checkChangesStillHeld(plan: SourcePlan, askedFrom: bigint | undefined, minValidVersion: string | null | undefined): void {
	const table = displayQualifiedName(plan.table.name);
	if (minValidVersion === null || minValidVersion === undefined) {
		throw new ChangeSourceError(
			`Change Tracking gives no version for ${table}: it is not enabled on the database or the table, or this login lacks VIEW CHANGE TRACKING on it`,
			`Ask the database administrator to check Change Tracking on ${table} and to GRANT VIEW CHANGE TRACKING ON ${table} to the login of the Contracting credential.`,
		);
	}
	if (askedFrom !== undefined && askedFrom < BigInt(minValidVersion)) {
		throw new ChangeSourceError(
			`Change Tracking on ${table} no longer holds the changes after version ${askedFrom} (the oldest it holds starts at ${minValidVersion}): they were cleaned up after the retention period, so changes since the watermark cannot be listed`,
			`${restartAdvice} To avoid this, run the sync more often than the Change Tracking retention period, or raise CHANGE_RETENTION on the database.`,
		);
	}
}

/** For answers only something other than SQL Server (2012 or later) would give. Nothing was read. */
const NOT_SQL_SERVER_ADVICE =
	'Check that the Contracting credential points at SQL Server 2012 or later itself (not a proxy or another database engine), then run again. Nothing was read.';

/** Fixes the read window from the server's facts, and refuses a Change Tracking cursor the server has forgotten. */
export function readWindowFrom(plan: SourcePlan, facts: ServerFacts, from: Cursor): ReadWindow {
	switch (plan.marker.kind) {
		case 'datetime':
		case 'dateAndTime':
			if (!facts.serverUtcNow) throw new ChangeSourceError('SQL Server did not return its time', NOT_SQL_SERVER_ADVICE);
			return { upperBound: localUpperBound(facts.serverUtcNow, plan.lagSeconds, plan.zone) };
		case 'rowversion':
			if (!facts.minActiveRowversion) throw new ChangeSourceError('SQL Server did not return MIN_ACTIVE_ROWVERSION()', NOT_SQL_SERVER_ADVICE);
			return { upperBound: facts.minActiveRowversion };
		case 'changeTracking': {
			// Without a current version Change Tracking is off (or hidden from this login), whatever the minimum says.
			checkChangesStillHeld(plan, changesAskedFrom(from), facts.currentVersion ? facts.minValidVersion : null);
			return { upperBound: facts.currentVersion as string, snapshotVersion: facts.currentVersion as string };
		}
	}
}

/**
 * The window an earlier batch of the same run was read in (handed on with the lease, see NextBatchLease), when it
 * reads as a window of this plan's marker kind; else undefined and the read opens its own. Reading a run's batches up
 * to one bound is safe: the bound only ever lies further back than a fresh one, and every Change Tracking read still
 * checks, in its own request, that its changes are held.
 */
export function windowHandedOn(handed: unknown, plan: SourcePlan): ReadWindow | undefined {
	if (typeof handed !== 'object' || handed === null) return undefined;
	const { upperBound, snapshotVersion } = handed as Record<string, unknown>;
	if (typeof upperBound !== 'string' || markerProblem(plan.marker.kind, upperBound) !== undefined) return undefined;
	if (plan.marker.kind !== 'changeTracking') return { upperBound };
	if (typeof snapshotVersion !== 'string' || markerProblem('changeTracking', snapshotVersion) !== undefined) return undefined;
	return { upperBound, snapshotVersion };
}

// ---------------------------------------------------------------------------------------------------------
// SQL text

/** A column as text that converts back exactly: date-times in style 126, binary as 0x…, the rest in the default style. */
function keyTextExpression(key: CatalogColumn, alias: string): string {
	if (usesIsoStyle(key)) return `CONVERT(nvarchar(34), ${column(alias, key)}, 126)`;
	if (isBinary(key)) return `CONVERT(nvarchar(4000), CONVERT(varchar(8000), ${column(alias, key)}, 1))`;
	return `CONVERT(nvarchar(4000), ${column(alias, key)})`;
}

/** How a column is output: date-times as SQL Server's exact ISO text (never a shifted JavaScript Date), decimals as exact text, binary as 0x…. */
function outputExpression(outputColumn: CatalogColumn, alias: string): string {
	const source = column(alias, outputColumn);
	if (usesIsoStyle(outputColumn)) return `CONVERT(varchar(34), ${source}, 126)`;
	if (isTemporal(outputColumn)) return `CONVERT(varchar(16), ${source})`;
	// Exact text, as for date-times: a JavaScript number keeps 15-16 significant digits, decimal(38) has 38. money: style 2, four decimals.
	if (isExactNumber(outputColumn)) return typeOf(outputColumn).endsWith('money') ? `CONVERT(varchar(30), ${source}, 2)` : `CONVERT(varchar(41), ${source})`;
	if (isBinary(outputColumn)) return `CONVERT(varchar(max), ${source}, 1)`;
	if (typeOf(outputColumn) === 'xml') return `CONVERT(nvarchar(max), ${source})`;
	return source;
}

const OPERATORS: Record<Exclude<FilterOperator, 'isNull' | 'isNotNull'>, string> = {
	equal: '=',
	notEqual: '<>',
	less: '<',
	lessOrEqual: '<=',
	greater: '>',
	greaterOrEqual: '>=',
	like: 'LIKE',
};

function filterConditions(plan: SourcePlan, parameters: SqlParameter[]): string[] {
	return plan.filters.map((filter, index) => {
		const target = column('src', filter.column);
		if (filter.operator === 'isNull') return `${target} IS NULL`;
		if (filter.operator === 'isNotNull') return `${target} IS NOT NULL`;
		const compared = comparableLargeText(target, filter.column.typeName);
		const name = `f${index}`;
		const parameter = filter.parameter as NonNullable<typeof filter.parameter>;
		parameters.push(param(name, parameter.type, parameter.value));
		// Date, time and exact-number values travel as text; a binary value already is a parameter of the column's type.
		const value = (isTemporal(filter.column) || isExactNumber(filter.column) ? exactFromText(filter.column, `@${name}`) : undefined) ?? `@${name}`;
		return `${compared} ${OPERATORS[filter.operator]} ${value}`;
	});
}

/** The parameters of a cursor's key, one nvarchar text per key column, and where each ordering term reads from. */
function keyPosition(after: Cursor, parameters: SqlParameter[]): Position {
	const texts = after.key as string[];
	texts.forEach((text, index) => parameters.push(param(`k${index}`, { name: 'nvarchar', length: 4000 }, text)));
	return { texts, parameters: texts.map((_, index) => `@k${index}`) };
}

/** A position on the marker's terms: every term reads the one marker text (or is NULL there). */
function markerPosition(terms: OrderingTerm[], text: string | null, parameter: string): Position {
	return { texts: terms.map(() => text), parameters: terms.map(() => parameter) };
}

const joinPositions = (first: Position, second: Position): Position => ({
	texts: [...first.texts, ...second.texts],
	parameters: [...first.parameters, ...second.parameters],
});

/** The order a keyset read (date-time, date + time, rowversion) walks rows in: the marker's terms, then the key. */
export function keysetOrder(plan: SourcePlan): { marker: OrderingTerm[]; all: OrderingTerm[] } {
	const marker = markerTerms(plan.marker);
	return { marker, all: [...marker, ...plan.keys.map((key) => keyTerm(key, 'src'))] };
}

/** The order of a Change Tracking read: the full read by key, the changes by (version, key). */
export function changeTrackingOrder(plan: SourcePlan): { fullRead: OrderingTerm[]; changes: OrderingTerm[] } {
	return {
		fullRead: plan.keys.map((key) => keyTerm(key, 'src')),
		changes: [...markerTerms(plan.marker), ...plan.keys.map((key) => keyTerm(key, 'ct'))],
	};
}

export function selectList(plan: SourcePlan, keyAliasSource: (key: CatalogColumn) => string, extra: string[]): string {
	const outputs = plan.output.map((outputColumn) => `${outputExpression(outputColumn, keyAliasSource(outputColumn))} AS ${quoteIdentifier(outputColumn.name)}`);
	const keys = plan.keys.map((key, index) => `${keyTextExpression(key, keyAliasSource(key))} AS ${keyAlias(index)}`);
	return [...outputs, ...extra, ...keys].join(',\n       ');
}

const where = (conditions: string[]) => (conditions.length > 0 ? `\nWHERE ${conditions.join('\n  AND ')}` : '');

export function checkNoAliasClash(plan: SourcePlan): void {
	const clash = plan.output.find((outputColumn) => outputColumn.name.toLowerCase().startsWith('__sync_'));
	if (clash) {
		throw new ChangeSourceError(
			`Column "${clash.name}" of ${displayQualifiedName(plan.table.name)} has a name this node keeps for its own bookkeeping (__sync_…)`,
			'Leave the column out of the columns to output.',
		);
	}
}

export interface KeysetConditions {
	/** Conditions on the ordering terms: below the window's bound, and the NULL-marker rule. */
	window: Condition[];
	/** Implied by `after`; spelled out so SQL Server can seek an index on the marker instead of scanning. */
	seek: string[];
	/** Strictly after the cursor's (marker, key); absent from the beginning. */
	after?: Condition;
}

/**
 * Which rows a keyset read sends after the cursor, on the ordering terms: marker below the window's bound, the
 * NULL-marker rule, strictly after the cursor's (marker, key). The read, the count and the in-memory twin share it.
 */
export function keysetConditions(plan: SourcePlan, window: ReadWindow, after: Cursor, parameters: SqlParameter[]): KeysetConditions {
	const order = keysetOrder(plan);
	const first = order.marker[0];
	parameters.push(param('upperBound', { name: 'varchar', length: 34 }, window.upperBound));
	const conditions: KeysetConditions = {
		window: [{ kind: 'or', of: [{ kind: 'isNull', term: first }, beyond(order.marker, markerPosition(order.marker, window.upperBound, '@upperBound'), '<')] }],
		seek: [],
	};
	if (plan.nullMarkers === 'never') conditions.window.push({ kind: 'isNotNull', term: first });
	if (after.marker !== null) {
		parameters.push(param('m', { name: 'varchar', length: 34 }, after.marker));
		if (first.seek) conditions.seek.push(`${first.seek} >= ${first.fromText('@m')}`);
	}
	if (after.marker !== null || after.key !== null) {
		const atMarker = markerPosition(order.marker, after.marker, '@m');
		conditions.after =
			after.key === null ? beyond(order.marker, atMarker, '>', true) : beyond(order.all, joinPositions(atMarker, keyPosition(after, parameters)), '>');
	}
	return conditions;
}

/** FROM the source (with the date + time marker's CROSS APPLY) WHERE the filter and the keyset conditions. */
function keysetFromWhere(plan: SourcePlan, window: ReadWindow, after: Cursor, parameters: SqlParameter[]): string {
	const filters = filterConditions(plan, parameters);
	const keyset = keysetConditions(plan, window, after, parameters);
	const conditions = [...filters, ...keyset.window.map(conditionSql), ...keyset.seek, ...(keyset.after ? [conditionSql(keyset.after)] : [])];
	return `FROM ${quoteQualifiedName(plan.table.name)} AS src${markerApplySql(plan.marker)}${where(conditions)}`;
}

/** Rows after the cursor by (marker, key), marker below the window's bound: the date-time, date + time and rowversion kinds. */
function keysetBatchRequest(plan: SourcePlan, window: ReadWindow, after: Cursor, limit: number): SqlRequest {
	const parameters: SqlParameter[] = [param('take', { name: 'int' }, limit + 1)];
	const fromWhere = keysetFromWhere(plan, window, after, parameters);
	const text = `SELECT TOP (@take) ${selectList(plan, () => 'src', [`${markerTextSql(plan.marker)} AS ${MARKER_ALIAS}`])}
${fromWhere}
ORDER BY ${orderBySql(keysetOrder(plan).all)};`;
	return { text, parameters };
}

/** FROM … WHERE of the Change Tracking changes after @since up to the window's version, deletes included. */
function changesFromWhere(plan: SourcePlan, cursorCondition: string | undefined, parameters: SqlParameter[]): string {
	const table = quoteQualifiedName(plan.table.name);
	const join = plan.keys.map((key) => `src.${quoteIdentifier(key.name)} = ct.${quoteIdentifier(key.name)}`).join(' AND ');
	const filters = filterConditions(plan, parameters);
	const conditions = [
		'ct.SYS_CHANGE_VERSION <= CONVERT(bigint, @upperBound)',
		...(cursorCondition ? [cursorCondition] : []),
		...(filters.length > 0 ? [`(${missingRow(plan)} OR (${filters.join(' AND ')}))`] : []),
	];
	return `FROM CHANGETABLE(CHANGES ${table}, @since) AS ct
LEFT JOIN ${table} AS src ON ${join}${where(conditions)}`;
}

/** A change whose row is not in the table now: a delete. */
const missingRow = (plan: SourcePlan) => `src.${quoteIdentifier(plan.keys[0].name)} IS NULL`;

/** The Change Tracking SELECT of the changes after @since up to the window's version, deletes included. */
function changesSelect(plan: SourcePlan, cursorCondition: string | undefined, parameters: SqlParameter[]): string {
	const keyNames = new Set(plan.keys.map((key) => key.name));
	// Whether the row is there now decides the operation: a row deleted after the window's version reads as a
	// delete now and again later (harmless), never as an upsert of empty columns.
	const operation = `CASE WHEN ${missingRow(plan)} THEN 'delete' ELSE 'upsert' END AS ${OPERATION_ALIAS}`;
	return `SELECT TOP (@take) ${selectList(plan, (outputColumn) => (keyNames.has(outputColumn.name) ? 'ct' : 'src'), [
		`${markerTextSql(plan.marker)} AS ${MARKER_ALIAS}`,
		operation,
	])}
${changesFromWhere(plan, cursorCondition, parameters)}
ORDER BY ${orderBySql(changeTrackingOrder(plan).changes)};`;
}

/**
 * What a Change Tracking read sends after the cursor: the changes after it, or the rest of the initial full read
 * (in key order) and then the changes since the full read began. The read and the count share it.
 */
type ChangeTrackingRead = { kind: 'changes'; cursorCondition: string } | { kind: 'fullRead'; snapshotFromWhere: string };

function changeTrackingRead(plan: SourcePlan, window: ReadWindow, after: Cursor, parameters: SqlParameter[]): ChangeTrackingRead {
	parameters.push(param('upperBound', { name: 'varchar', length: 20 }, window.upperBound));
	const order = changeTrackingOrder(plan);
	if (after.marker !== null) {
		parameters.push(param('sinceText', { name: 'varchar', length: 20 }, String(changesAskedFrom(after))));
		parameters.push(param('m', { name: 'varchar', length: 20 }, after.marker));
		const atVersion: Position = { texts: [after.marker], parameters: ['@m'] };
		const cursorCondition =
			after.key === null
				? beyond(order.changes.slice(0, 1), atVersion, '>', true)
				: beyond(order.changes, joinPositions(atVersion, keyPosition(after, parameters)), '>');
		return { kind: 'changes', cursorCondition: conditionSql(cursorCondition) };
	}
	const snapshotVersion = after.snapshotVersion ?? (window.snapshotVersion as string);
	parameters.push(param('sinceText', { name: 'varchar', length: 20 }, snapshotVersion));
	const conditions = filterConditions(plan, parameters);
	if (after.key !== null) conditions.push(conditionSql(beyond(order.fullRead, keyPosition(after, parameters), '>')));
	return { kind: 'fullRead', snapshotFromWhere: `FROM ${quoteQualifiedName(plan.table.name)} AS src${where(conditions)}` };
}

const DECLARE_SINCE = 'DECLARE @since bigint = CONVERT(bigint, @sinceText);';

/** The check that ends every Change Tracking request, after its CHANGETABLE read: its own last result set. */
const MIN_VALID_VERSION_CHECK = 'SELECT CONVERT(varchar(20), CHANGE_TRACKING_MIN_VALID_VERSION(OBJECT_ID(@table))) AS minValidVersion;';
const tableParameter = (plan: SourcePlan) => param('table', { name: 'nvarchar', length: 520 }, quoteQualifiedName(plan.table.name));

function changeTrackingBatchRequest(plan: SourcePlan, window: ReadWindow, after: Cursor, limit: number): SqlRequest {
	const parameters: SqlParameter[] = [param('take', { name: 'int' }, limit + 1)];
	const read = changeTrackingRead(plan, window, after, parameters);
	parameters.push(tableParameter(plan));
	if (read.kind === 'changes') return { text: `${DECLARE_SINCE}\n${changesSelect(plan, read.cursorCondition, parameters)}\n${MIN_VALID_VERSION_CHECK}`, parameters };
	// The full read, then in the same round trip, if it ran out, the changes since it began (the filter's parameters are sent once).
	const snapshot = `SELECT TOP (@take) ${selectList(plan, () => 'src', [`CONVERT(varchar(20), NULL) AS ${MARKER_ALIAS}`, `'upsert' AS ${OPERATION_ALIAS}`])}
${read.snapshotFromWhere}
ORDER BY ${orderBySql(changeTrackingOrder(plan).fullRead)};`;
	return {
		text: `${DECLARE_SINCE}\n${snapshot}\nIF @@ROWCOUNT < @take\n${changesSelect(plan, undefined, [])}\n${MIN_VALID_VERSION_CHECK}`,
		parameters,
	};
}

/** The one statement that reads the batch after `after`: at most `limit` rows, plus one to tell whether more follow. */
export function changeBatchRequest(plan: SourcePlan, window: ReadWindow, after: Cursor, limit: number): SqlRequest {
	checkNoAliasClash(plan);
	return plan.marker.kind === 'changeTracking'
		? changeTrackingBatchRequest(plan, window, after, limit)
		: keysetBatchRequest(plan, window, after, limit);
}

/** The column the count statement returns. */
const COUNT_ALIAS = 'changeCount';

/**
 * The one statement that counts what a read from `from` would send within the window, every batch together:
 * COUNT_BIG(*) under the same conditions the batch statement reads with (bound, cursor, NULL-marker rule,
 * filter). For Change Tracking from the beginning: the full read's rows plus the changes since it began.
 */
export function changeCountRequest(plan: SourcePlan, window: ReadWindow, from: Cursor): SqlRequest {
	const parameters: SqlParameter[] = [];
	if (plan.marker.kind !== 'changeTracking') {
		return { text: `SELECT COUNT_BIG(*) AS ${COUNT_ALIAS}\n${keysetFromWhere(plan, window, from, parameters)};`, parameters };
	}
	const read = changeTrackingRead(plan, window, from, parameters);
	parameters.push(tableParameter(plan));
	if (read.kind === 'changes') {
		return {
			text: `${DECLARE_SINCE}\nSELECT COUNT_BIG(*) AS ${COUNT_ALIAS}\n${changesFromWhere(plan, read.cursorCondition, parameters)};\n${MIN_VALID_VERSION_CHECK}`,
			parameters,
		};
	}
	return {
		text: `${DECLARE_SINCE}\nSELECT (SELECT COUNT_BIG(*)\n${read.snapshotFromWhere})\n     + (SELECT COUNT_BIG(*)\n${changesFromWhere(plan, undefined, [])}) AS ${COUNT_ALIAS};\n${MIN_VALID_VERSION_CHECK}`,
		parameters,
	};
}

/** A Change Tracking result's rows, once its last result set (the min valid version checked after the read) says they are complete. */
function checkedRecordsets(plan: SourcePlan, window: ReadWindow, after: Cursor, result: SqlResult): SqlRow[][] {
	if (plan.marker.kind !== 'changeTracking') return result.recordsets;
	const check = result.recordsets.at(-1)?.[0];
	if (!check || !('minValidVersion' in check)) {
		throw new ChangeSourceError('SQL Server did not return the Change Tracking check after the read', NOT_SQL_SERVER_ADVICE);
	}
	checkChangesStillHeld(plan, changeTrackingAskedFrom(after, window), check.minValidVersion as string | null);
	return result.recordsets.slice(0, -1);
}

/** The count SQL Server returned: COUNT_BIG arrives as text (bigint), read as a number (exact below 2^53). */
export function countFromResult(plan: SourcePlan, window: ReadWindow, from: Cursor, result: SqlResult): number {
	const value = checkedRecordsets(plan, window, from, result)[0]?.[0]?.[COUNT_ALIAS];
	const count = Number(value);
	if (value === null || value === undefined || !Number.isSafeInteger(count) || count < 0) {
		throw new ChangeSourceError(`SQL Server did not return a row count (got ${String(value)})`, NOT_SQL_SERVER_ADVICE);
	}
	return count;
}

// ---------------------------------------------------------------------------------------------------------
// Rows

export interface SourceRow {
	/** The row's output columns; for a delete, the key columns only. A fresh object per row, the reader's to keep. */
	values: Record<string, unknown>;
	operation: ChangeOperation;
	/** The marker as SQL Server's text (null for a NULL marker and during a Change Tracking full read). */
	marker: string | null;
	/** The cursor just past this row. */
	cursor: Cursor;
}

export interface SourceBatch {
	rows: SourceRow[];
	/** Whether the source had rows after this batch (within the read window). */
	hasMore: boolean;
}

/** The cursor just past a row: its marker and key, or for a Change Tracking full-read row its key and the read's version. */
export function cursorAfterRow(plan: SourcePlan, marker: string | null, key: string[], snapshotVersion: string | undefined): Cursor {
	if (plan.marker.kind === 'changeTracking' && marker === null) {
		return { kind: 'changeTracking', marker: null, key, snapshotVersion };
	}
	return { kind: plan.marker.kind, marker, key };
}

/** Turns a batch result (one recordset, or a full-read one followed by a changes one) into rows with their cursors. */
export function batchFromResult(plan: SourcePlan, window: ReadWindow, after: Cursor, result: SqlResult, limit: number): SourceBatch {
	const snapshotVersion = after.marker === null ? (after.snapshotVersion ?? window.snapshotVersion) : undefined;
	const aliases = plan.keys.map((_, index) => keyAlias(index));
	const rows: SourceRow[] = [];
	let returned = 0;
	for (const recordset of checkedRecordsets(plan, window, after, result)) {
		const keys = recordset.map((row) => keyTextsOf(row, aliases));
		checkBatchKeys(plan, keys);
		returned += recordset.length;
		// Loops rather than flat, map and slice: this shapes every row of a full re-send, and each of those copies the batch.
		for (let index = 0; index < recordset.length && rows.length < limit; index++) rows.push(sourceRowOf(plan, recordset[index], keys[index] as string[], snapshotVersion));
	}
	return { rows, hasMore: returned > limit };
}

const keyTextOf = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));

/** A row's key texts, by their aliases: a loop, where aliases.map made a closure per row of a re-send besides its array. */
function keyTextsOf(row: SqlRow, aliases: string[]): Array<string | null> {
	const texts = new Array<string | null>(aliases.length);
	for (let index = 0; index < aliases.length; index++) texts[index] = keyTextOf(row[aliases[index]]);
	return texts;
}

/** The key text as `=` compares it under the key column's collation: case and trailing spaces do not count in text. */
function comparableKeyText(key: CatalogColumn, text: string): string {
	return collationOf(key) === 'caseInsensitiveText' ? text.replace(/ +$/, '').toLowerCase() : text;
}

/**
 * Stops at the first row whose key is NULL or repeats within what one statement returned (a view's key is only
 * the partner's promise, and a tied key would be skipped across batches), before any row of it is used.
 */
export function checkBatchKeys(plan: SourcePlan, keys: Array<Array<string | null>>): void {
	const table = displayQualifiedName(plan.table.name);
	const advice = `Fix the rows in Contracting, or choose key columns that are NOT NULL and unique for every row of ${table} (for a view: its base table's primary key). Nothing of this batch was output, and the watermark did not move.`;
	const seen = new Set<string>();
	for (const key of keys) {
		const empty = key.findIndex((part) => part === null);
		if (empty !== -1) throw new ChangeSourceError(`A row of ${table} has no value (NULL) in key column "${plan.keys[empty].name}"`, advice);
		// One key column needs no JSON around its text to stay apart from the others (and most keys are one column).
		const comparable =
			key.length === 1 ? comparableKeyText(plan.keys[0], key[0] as string) : JSON.stringify(key.map((part, index) => comparableKeyText(plan.keys[index], part as string)));
		if (seen.has(comparable)) {
			const shown = plan.keys.map((column, index) => `${column.name} ${JSON.stringify(key[index])}`).join(', ');
			throw new ChangeSourceError(`Two rows of ${table} have the same key (${shown}), so the key columns do not identify one row`, advice);
		}
		seen.add(comparable);
	}
}

/** A returned row with its cursor; `key` is its key text, already checked to have no NULL. */
function sourceRowOf(plan: SourcePlan, row: SqlRow, key: string[], snapshotVersion: string | undefined): SourceRow {
	const markerValue = row[MARKER_ALIAS];
	const marker = markerValue === null || markerValue === undefined ? null : String(markerValue);
	// Only a Change Tracking read selects the operation: asking a keyset row for a column it lacks is, per row, one of
	// the slowest lookups V8 makes (a miss through the prototype chain at a site that sees every column name).
	const operation = plan.marker.kind === 'changeTracking' ? operationOf(row) : 'upsert';
	return { values: outputValuesOf(plan, operation, row), operation, marker, cursor: cursorAfterRow(plan, marker, key, snapshotVersion) };
}

const operationOf = (row: SqlRow): ChangeOperation => (row[OPERATION_ALIAS] === 'delete' ? 'delete' : 'upsert');

/**
 * The columns a returned row outputs (for a delete, the key columns only), in a fresh object that the caller keeps:
 * it becomes the output item itself. A plain loop: fromEntries(map) would allocate two arrays per row of a re-send.
 */
function outputValuesOf(plan: SourcePlan, operation: ChangeOperation, row: SqlRow): Record<string, unknown> {
	const values: Record<string, unknown> = {};
	for (const outputColumn of operation === 'delete' ? plan.keys : plan.output) values[outputColumn.name] = row[outputColumn.name] ?? null;
	return values;
}

/** A returned row's operation and the columns it outputs (see outputValuesOf). */
export function rowValuesOf(plan: SourcePlan, row: SqlRow): { operation: ChangeOperation; values: Record<string, unknown> } {
	const operation = operationOf(row);
	return { operation, values: outputValuesOf(plan, operation, row) };
}
