/**
 * The T-SQL of the SQL Server watermark store, as pure builders, so tests can read every statement.
 * Identifiers are bracket-quoted here and nowhere else; every value is a parameter.
 */
import type { QualifiedName } from '../../shared/core/identifiers';
import { displayQualifiedName, quoteIdentifier, quoteQualifiedName } from '../../shared/core/identifiers';
import { conditionSql, decidesSql, decisionSql } from '../../shared/core/decisionTable';
import { MAX_RETRY_KEYS_PER_RUN, PARKS_THE_ENTRY, RETRY_ACTIONS, retryTableOf } from '../../shared/core/retryList';
import type { CommitFact } from '../../shared/core/watermark';
import { COMMIT_VERDICTS } from '../../shared/core/watermark';
import type { WatermarkTables } from './watermarkStore';

export interface ColumnSpec {
	name: string;
	/** As written in CREATE TABLE. */
	definition: string;
	/** sys.types name the existing column must have. */
	typeName: string;
	/** sys.columns.max_length the existing column needs at least; -1: must be MAX. */
	minBytes?: number;
}

export const STATE_COLUMNS: ColumnSpec[] = [
	{ name: 'Stream', definition: 'nvarchar(200) NOT NULL', typeName: 'nvarchar', minBytes: 400 },
	{ name: 'CursorText', definition: 'nvarchar(max) NULL', typeName: 'nvarchar', minBytes: -1 },
	{ name: 'CursorKind', definition: 'varchar(20) NULL', typeName: 'varchar', minBytes: 20 },
	{ name: 'Generation', definition: 'bigint NOT NULL', typeName: 'bigint' },
	{ name: 'RewoundAtGeneration', definition: 'bigint NOT NULL', typeName: 'bigint' },
	{ name: 'TimeZone', definition: 'varchar(64) NOT NULL', typeName: 'varchar', minBytes: 64 },
	{ name: 'LeaseOwner', definition: 'nvarchar(200) NULL', typeName: 'nvarchar', minBytes: 400 },
	{ name: 'LeaseExpiresAt', definition: 'datetime2(3) NULL', typeName: 'datetime2' },
	{ name: 'LeaseSeconds', definition: 'int NOT NULL', typeName: 'int' },
	{ name: 'CursorChangedAt', definition: 'datetime2(3) NOT NULL', typeName: 'datetime2' },
	{ name: 'CursorLocation', definition: 'nvarchar(max) NULL', typeName: 'nvarchar', minBytes: -1 },
];

export const HISTORY_COLUMNS: ColumnSpec[] = [
	{ name: 'Id', definition: 'bigint IDENTITY(1,1) NOT NULL', typeName: 'bigint' },
	{ name: 'Stream', definition: 'nvarchar(200) NOT NULL', typeName: 'nvarchar', minBytes: 400 },
	{ name: 'OldCursor', definition: 'nvarchar(max) NULL', typeName: 'nvarchar', minBytes: -1 },
	{ name: 'NewCursor', definition: 'nvarchar(max) NULL', typeName: 'nvarchar', minBytes: -1 },
	{ name: 'ChangedAt', definition: 'datetime2(3) NOT NULL', typeName: 'datetime2' },
	{ name: 'WorkflowId', definition: 'nvarchar(100) NULL', typeName: 'nvarchar', minBytes: 200 },
	{ name: 'ExecutionId', definition: 'nvarchar(100) NULL', typeName: 'nvarchar', minBytes: 200 },
	{ name: 'Action', definition: 'varchar(20) NOT NULL', typeName: 'varchar', minBytes: 20 },
	{ name: 'Reason', definition: 'nvarchar(1000) NULL', typeName: 'nvarchar', minBytes: 2000 },
];

export function createTableIfMissing(table: QualifiedName, body: string, after = ''): string {
	return `IF SCHEMA_ID(${literal(table.schema)}) IS NOT NULL AND OBJECT_ID(${literal(quoteQualifiedName(table))}, N'U') IS NULL
BEGIN
	BEGIN TRY
		CREATE TABLE ${quoteQualifiedName(table)} (
${body}
		);${after}
	END TRY
	BEGIN CATCH
		-- 2714: another run created it a moment ago.
		IF ERROR_NUMBER() <> 2714 THROW;
	END CATCH
END;`;
}

/** A name as an N'' literal, only for OBJECT_ID/SCHEMA_ID of names already bracket-quoted; never for values. */
export function literal(text: string): string {
	return `N'${text.replace(/'/g, "''")}'`;
}

export function columnList(columns: ColumnSpec[]): string {
	return columns.map((column) => `\t\t\t${quoteIdentifier(column.name)} ${column.definition}`).join(',\n');
}

/**
 * Creates both tables when they do not exist (safe when two first runs race), then returns what the
 * catalogue says of them: whether each schema exists, and each table's columns, to be checked.
 */
export function ensureTablesSql(tables: WatermarkTables): string {
	const state = tables.state;
	const history = tables.history;
	return `SET NOCOUNT ON;
${createTableIfMissing(state, `${columnList(STATE_COLUMNS)},
			CONSTRAINT ${quoteIdentifier(`PK_${state.name}`)} PRIMARY KEY ([Stream])`)}
${createTableIfMissing(
	history,
	`${columnList(HISTORY_COLUMNS)},
			CONSTRAINT ${quoteIdentifier(`PK_${history.name}`)} PRIMARY KEY ([Id])`,
	`
		CREATE INDEX ${quoteIdentifier(`IX_${history.name}_Stream`)} ON ${quoteQualifiedName(history)} ([Stream], [Id]) INCLUDE ([Action], [ChangedAt]);`,
)}
SELECT CASE WHEN SCHEMA_ID(${literal(state.schema)}) IS NULL THEN 0 ELSE 1 END AS stateSchemaExists,
       CASE WHEN SCHEMA_ID(${literal(history.schema)}) IS NULL THEN 0 ELSE 1 END AS historySchemaExists;
SELECT CASE c.object_id WHEN OBJECT_ID(${literal(quoteQualifiedName(state))}, N'U') THEN 'state' ELSE 'history' END AS tableRole,
       c.name, t.name AS typeName, c.max_length AS maxLength
FROM sys.columns c JOIN sys.types t ON t.user_type_id = c.system_type_id AND t.user_type_id = t.system_type_id
WHERE c.object_id IN (OBJECT_ID(${literal(quoteQualifiedName(state))}, N'U'), OBJECT_ID(${literal(quoteQualifiedName(history))}, N'U'))
ORDER BY c.column_id;`;
}

export interface ExistingColumn {
	name: string;
	typeName: string;
	maxLength: number;
}

/** What is wrong with an existing table this package would use as its watermark or history table; empty when fine. */
export function tableMismatches(expected: ColumnSpec[], actual: ExistingColumn[]): string[] {
	const problems: string[] = [];
	for (const spec of expected) {
		const column = actual.find((candidate) => candidate.name.toLowerCase() === spec.name.toLowerCase());
		if (!column) {
			problems.push(`column ${spec.name} is missing`);
			continue;
		}
		const wanted = spec.definition.replace(/ (NOT )?NULL$/, '').replace(/ IDENTITY\(1,1\)/, '');
		if (column.typeName.toLowerCase() !== spec.typeName) {
			problems.push(`column ${spec.name} is ${column.typeName}, not ${wanted}`);
		} else if (spec.minBytes === -1 ? column.maxLength !== -1 : spec.minBytes !== undefined && column.maxLength !== -1 && column.maxLength < spec.minBytes) {
			problems.push(`column ${spec.name} is too short for ${wanted}`);
		}
	}
	return problems;
}

export class WatermarkTableError extends Error {
	readonly advice =
		'Choose another name under "Watermark Tables" (the node then creates its own tables), or rename the existing table. This package never changes a table it did not create. Nothing was changed.';

	constructor(table: QualifiedName, problems: string[]) {
		super(`The table ${displayQualifiedName(table)} exists but is not a watermark table of this package: ${problems.join('; ')}`);
		this.name = 'WatermarkTableError';
	}
}

/** A statement that always answers with the stream's row gave none: the login may not read the table it writes. */
export class WatermarkNoAnswerError extends Error {
	readonly advice =
		'Run the workflow again; if this repeats, check that the login of this credential may SELECT, INSERT and UPDATE the watermark tables.';

	constructor(stream: string) {
		super(`The watermark store gave no answer for stream "${stream}"`);
		this.name = 'WatermarkNoAnswerError';
	}
}

/** The table was not there after this package created it: the login may not create or see tables. */
export class UncreatableTableError extends Error {
	readonly advice =
		'Grant the login of this credential CREATE TABLE and ALTER on the schema (and VIEW DEFINITION), or have the database owner run the node once. Nothing was changed.';

	constructor(table: QualifiedName) {
		super(`The table ${displayQualifiedName(table)} is missing and could not be created`);
		this.name = 'UncreatableTableError';
	}
}

/** An ensure-tables answer: throws the error that says what is wrong with the table, if anything. */
export function checkCreatedTable(table: QualifiedName, expected: ColumnSpec[], existing: ExistingColumn[]): void {
	if (existing.length === 0) throw new UncreatableTableError(table);
	const problems = tableMismatches(expected, existing);
	if (problems.length > 0) throw new WatermarkTableError(table, problems);
}

/** A table named under "Watermark Tables" is in a schema the database does not have. */
export class MissingSchemaError extends Error {
	readonly advice: string;

	constructor(table: QualifiedName) {
		super(`The schema ${table.schema} does not exist, so the table ${displayQualifiedName(table)} cannot be created in it`);
		this.name = 'MissingSchemaError';
		this.advice = `Create the schema ${table.schema} in this database, or name the table under "Watermark Tables" in schema dbo. Nothing was changed.`;
	}
}

/** How a statement reads and writes the cursor where it is kept (see cursorLocationSql.ts). */
export interface LocationSql {
	/** Assigns @stored (nvarchar(max)) from the location, with the given table hints (LOCKING_READ inside a transaction). */
	read(hints: string): string;
	/** Writes the stored value held in the given variable (null: from the beginning). */
	write(valueVariable: string): string;
	/** The cursor text a stored value stands for, as a T-SQL expression (for the history). */
	cursorTextOf(valueVariable: string): string;
}

/**
 * For a cursor kept in a date + time pair (@keepsExact = 1), the exact cursor is kept beside it in the package's own
 * cursor column (cursorBesidePair in watermarkLocation.ts): Set puts the exact cursor there, Rewind and Undo clear it.
 */
const EXACT_BESIDE_PAIR = '[CursorText] = CASE WHEN @keepsExact = 1 THEN @exactCursor ELSE [CursorText] END';

/** Holds the row read until the transaction ends, so nothing changes between the compare and the set. */
const LOCKING_READ = ' WITH (UPDLOCK, HOLDLOCK)';

const PRELUDE = `SET NOCOUNT ON;
SET XACT_ABORT ON;
DECLARE @now datetime2(3) = SYSUTCDATETIME();
DECLARE @stored nvarchar(max), @kind varchar(20);`;

export const STATE_SELECT = `SELECT w.[Stream] AS stream, w.[CursorKind] AS cursorKind, w.[Generation] AS generation,
       w.[RewoundAtGeneration] AS rewoundAtGeneration, w.[TimeZone] AS timeZone, w.[LeaseOwner] AS leaseOwner,
       CONVERT(varchar(23), w.[LeaseExpiresAt], 126) AS leaseExpiresAt, CONVERT(varchar(23), w.[CursorChangedAt], 126) AS cursorChangedAt,
       w.[CursorLocation] AS cursorLocation, w.[CursorText] AS exactCursor`;

const HISTORY_INSERT = (history: QualifiedName) =>
	`INSERT INTO ${quoteQualifiedName(history)} ([Stream], [OldCursor], [NewCursor], [ChangedAt], [WorkflowId], [ExecutionId], [Action], [Reason])`;

/** The package's own table as the cursor's place. */
export function packageLocationSql(state: QualifiedName): LocationSql {
	const table = quoteQualifiedName(state);
	return {
		read: (hints) => `SELECT @stored = [CursorText] FROM ${table}${hints} WHERE [Stream] = @stream;`,
		write: (value) => `UPDATE ${table} SET [CursorText] = ${value} WHERE [Stream] = @stream;`,
		cursorTextOf: (value) => value,
	};
}

/**
 * Get in one round trip and one transaction: creates the stream at its starting point the first time, then
 * takes the lease with one UPDATE whose WHERE admits only a free lease, this owner's lease, or an expired one.
 * UPDLOCK + HOLDLOCK make a second run started at the same moment wait for the first and then find the lease held.
 */
export function acquireSql(tables: WatermarkTables, location: LocationSql): string {
	const state = quoteQualifiedName(tables.state);
	const retry = dueRetriesSql(retryTableOf(tables), MAX_RETRY_KEYS_PER_RUN);
	return `${PRELUDE}
DECLARE @firstUse bit = 0, @exists bit = 0, @recordedLocation nvarchar(max);
DECLARE @taken TABLE (PreviousOwner nvarchar(200) NULL, PreviousExpiry datetime2(3) NULL);
BEGIN TRANSACTION;
SELECT @exists = 1, @recordedLocation = [CursorLocation] FROM ${state} WITH (UPDLOCK, HOLDLOCK) WHERE [Stream] = @stream;
IF @exists = 1 AND ISNULL(@recordedLocation, N'') COLLATE Latin1_General_BIN2 <> ISNULL(@location, N'')
BEGIN
	ROLLBACK TRANSACTION;
	SELECT 'location differs' AS outcome, @recordedLocation AS recordedLocation;
	RETURN;
END;
IF @exists = 0
BEGIN
	INSERT INTO ${state} ([Stream], [CursorText], [CursorKind], [Generation], [RewoundAtGeneration], [TimeZone], [LeaseOwner], [LeaseExpiresAt], [LeaseSeconds], [CursorChangedAt], [CursorLocation])
	VALUES (@stream, NULL, @startingKind, 0, 0, @timeZone, NULL, NULL, @leaseSeconds, @now, @location);
	SET @firstUse = 1;
END;
SELECT @kind = [CursorKind] FROM ${state} WHERE [Stream] = @stream;
${location.read(LOCKING_READ)}
IF @firstUse = 1
BEGIN
	IF @stored IS NULL AND @startingValue IS NOT NULL
	BEGIN
		${location.write('@startingValue')}
		SET @stored = @startingValue;
	END;
	${HISTORY_INSERT(tables.history)}
	VALUES (@stream, NULL, ${location.cursorTextOf('@stored')}, @now, @workflowId, @executionId, 'first use', @startingReason);
END;
UPDATE ${state} WITH (UPDLOCK, HOLDLOCK)
SET [LeaseOwner] = @owner, [LeaseExpiresAt] = DATEADD(second, @leaseSeconds, @now), [LeaseSeconds] = @leaseSeconds, [TimeZone] = @timeZone
OUTPUT deleted.[LeaseOwner], deleted.[LeaseExpiresAt] INTO @taken
WHERE [Stream] = @stream AND ([LeaseOwner] IS NULL OR [LeaseOwner] COLLATE Latin1_General_BIN2 = @owner OR [LeaseExpiresAt] <= @now);
${HISTORY_INSERT(tables.history)}
SELECT @stream, ${location.cursorTextOf('@stored')}, ${location.cursorTextOf('@stored')}, @now, @workflowId, @executionId, 'takeover',
       CONCAT(N'The lease of "', t.PreviousOwner, N'" had expired at ', CONVERT(varchar(23), t.PreviousExpiry, 126), N' UTC')
FROM @taken t WHERE t.PreviousOwner IS NOT NULL AND t.PreviousOwner COLLATE Latin1_General_BIN2 <> @owner;
COMMIT TRANSACTION;
${STATE_SELECT}, CASE WHEN t.Taken = 1 THEN 'acquired' ELSE 'held' END AS outcome, @firstUse AS firstUse, @stored AS storedValue,
       t.PreviousOwner AS previousOwner, CONVERT(varchar(23), t.PreviousExpiry, 126) AS previousExpiry
FROM ${state} w
OUTER APPLY (SELECT TOP (1) 1 AS Taken, PreviousOwner, PreviousExpiry FROM @taken) t
WHERE w.[Stream] = @stream;
${retry}`;
}

/** The T-SQL of each fact decideCommit looks at, in commitSql. */
export const COMMIT_OPERANDS: Record<CommitFact, string> = {
	streamRow: '@generation',
	leaseOwner: '@leaseOwner',
	tokenOwner: '@tokenOwner',
	leaseExpiresAt: '@leaseExpiresAt',
	now: '@now',
	hasNewCursor: '@hasNewCursor',
	allowBackwards: '@allowBackwards',
	rewoundAtGeneration: '@rewoundAt',
	tokenGeneration: '@tokenGeneration',
	storedCursor: '@comparable',
	batchStart: '@batchStart',
};

/**
 * Set in one round trip and one transaction: the compare-and-set of decideCommit (nodes/shared/core/watermark.ts)
 * stated in T-SQL, the write, the history row, and the lease release or renewal of releasesLease / renewsLease. Stored cursors are compared
 * byte for byte (binary collation), never ordered.
 */
export function commitSql(tables: WatermarkTables, location: LocationSql, retry?: QualifiedName): string {
	const state = quoteQualifiedName(tables.state);
	const retryPart = retry ? `\n${retryChangesSql(retry)}` : '';
	const releaseForParked = retry ? ` OR (@releaseWhenParked = 1 AND @verdict IN ('store', 'nothing to store') AND ${PARKED_NOW})` : '';
	return `${PRELUDE}
DECLARE @generation bigint, @rewoundAt bigint, @leaseOwner nvarchar(200), @leaseExpiresAt datetime2(3), @verdict varchar(40), @previous nvarchar(max), @comparable nvarchar(max);
BEGIN TRANSACTION;
SELECT @generation = [Generation], @rewoundAt = [RewoundAtGeneration], @leaseOwner = [LeaseOwner], @leaseExpiresAt = [LeaseExpiresAt], @kind = [CursorKind]
FROM ${state} WITH (UPDLOCK, HOLDLOCK) WHERE [Stream] = @stream;
${location.read(LOCKING_READ)}
SET @previous = @stored;
-- comparableStoredValue (watermarkLocation.ts): the two local-time kinds compare as one.
SET @comparable = CASE WHEN LEFT(@stored, 22) COLLATE Latin1_General_BIN2 = N'{"kind":"dateAndTime",'
	THEN N'{"kind":"datetime",' + SUBSTRING(@stored, 23, 2147483647) ELSE @stored END;
SET @verdict = ${decisionSql(COMMIT_VERDICTS, COMMIT_OPERANDS)};
IF @verdict = 'store'
BEGIN
	${location.write('@newValue')}
	UPDATE ${state} SET [Generation] = [Generation] + 1, [CursorKind] = @newKind, [CursorChangedAt] = @now, ${EXACT_BESIDE_PAIR} WHERE [Stream] = @stream;
	SET @stored = @newValue;
	${HISTORY_INSERT(tables.history)}
	VALUES (@stream, ${location.cursorTextOf('@previous')}, @newCursorText, @now, @workflowId, @executionId, 'set', NULL);
END;${retryPart}
IF @verdict IN ('rewound meanwhile', 'not where the batch started') OR (@releaseLease = 1 AND @verdict IN ('store', 'nothing to store'))${releaseForParked}
	UPDATE ${state} SET [LeaseOwner] = NULL, [LeaseExpiresAt] = NULL WHERE [Stream] = @stream;
ELSE IF @verdict IN ('store', 'nothing to store')
	UPDATE ${state} SET [LeaseExpiresAt] = DATEADD(second, [LeaseSeconds], @now) WHERE [Stream] = @stream;
COMMIT TRANSACTION;
${STATE_SELECT}, @verdict AS verdict, @previous AS previousValue, @kind AS previousKind, @stored AS storedValue
FROM (SELECT 1 AS one) AS answer LEFT JOIN ${state} w ON w.[Stream] = @stream;${retry ? `\n${RETRY_CHANGES_ANSWER}` : ''}`;
}

/** Rewind and Undo in one round trip: replaces the cursor only if the stream is still at the expected generation. */
export function replaceSql(tables: WatermarkTables, location: LocationSql): string {
	const state = quoteQualifiedName(tables.state);
	return `${PRELUDE}
DECLARE @generation bigint, @previous nvarchar(max), @replaced bit = 0;
BEGIN TRANSACTION;
SELECT @generation = [Generation], @kind = [CursorKind] FROM ${state} WITH (UPDLOCK, HOLDLOCK) WHERE [Stream] = @stream;
${location.read(LOCKING_READ)}
SET @previous = @stored;
IF @generation = @expectedGeneration
BEGIN
	${location.write('@newValue')}
	UPDATE ${state} SET [Generation] = [Generation] + 1, [RewoundAtGeneration] = [Generation] + 1,
	       [CursorKind] = ISNULL(@newKind, [CursorKind]), [CursorChangedAt] = @now, ${EXACT_BESIDE_PAIR}
	WHERE [Stream] = @stream;
	SET @stored = @newValue;
	SET @replaced = 1;
	${HISTORY_INSERT(tables.history)}
	VALUES (@stream, ${location.cursorTextOf('@previous')}, @newCursorText, @now, @workflowId, @executionId, @action, @reason);
END;
COMMIT TRANSACTION;
${STATE_SELECT}, @replaced AS replaced, @stored AS storedValue
FROM ${state} w WHERE w.[Stream] = @stream;`;
}

export function readStateSql(tables: WatermarkTables): string {
	return `${STATE_SELECT}, w.[CursorText] AS storedValue FROM ${quoteQualifiedName(tables.state)} w WHERE w.[Stream] = @stream;`;
}

/** Reads the value kept in an existing table for a stream whose cursor lives there. */
export function readLocationSql(location: LocationSql): string {
	return `SET NOCOUNT ON;
DECLARE @stored nvarchar(max);
${location.read('')}
SELECT @stored AS storedValue;`;
}

export function streamNamesSql(tables: WatermarkTables): string {
	return `SELECT [Stream] AS stream FROM ${quoteQualifiedName(tables.state)} ORDER BY [Stream];`;
}

const HISTORY_SELECT = `[Id] AS id, [Stream] AS stream, [OldCursor] AS oldCursor, [NewCursor] AS newCursor,
       CONVERT(varchar(23), [ChangedAt], 126) AS changedAt, [WorkflowId] AS workflowId, [ExecutionId] AS executionId,
       [Action] AS action, [Reason] AS reason`;

export function historySql(tables: WatermarkTables): string {
	return `SELECT TOP (@limit) ${HISTORY_SELECT}
FROM ${quoteQualifiedName(tables.history)} WHERE [Stream] = @stream ORDER BY [Id] DESC;`;
}

export function entryInEffectSql(tables: WatermarkTables): string {
	return `SELECT TOP (1) ${HISTORY_SELECT}
FROM ${quoteQualifiedName(tables.history)}
WHERE [Stream] = @stream AND [ChangedAt] <= CONVERT(datetime2(3), @at, 126) AND [Action] <> 'takeover'
ORDER BY [Id] DESC;`;
}

export function rewindsAndUndosSql(tables: WatermarkTables): string {
	return `SELECT ${HISTORY_SELECT}
FROM ${quoteQualifiedName(tables.history)} WHERE [Stream] = @stream AND [Action] IN ('rewind', 'undo') ORDER BY [Id] DESC;`;
}

// ---------------------------------------------------------------------------------------------------------
// The retry list (nodes/shared/core/retryList.ts): one row per refused key, created on first use.
// ---------------------------------------------------------------------------------------------------------

export const RETRY_COLUMNS: ColumnSpec[] = [
	{ name: 'Id', definition: 'bigint IDENTITY(1,1) NOT NULL', typeName: 'bigint' },
	{ name: 'Stream', definition: 'nvarchar(200) NOT NULL', typeName: 'nvarchar', minBytes: 400 },
	{ name: 'KeyText', definition: 'nvarchar(max) NOT NULL', typeName: 'nvarchar', minBytes: -1 },
	{ name: 'CursorText', definition: 'nvarchar(max) NULL', typeName: 'nvarchar', minBytes: -1 },
	{ name: 'Attempts', definition: 'int NOT NULL', typeName: 'int' },
	{ name: 'LastError', definition: 'nvarchar(max) NOT NULL', typeName: 'nvarchar', minBytes: -1 },
	{ name: 'FirstFailedAt', definition: 'datetime2(3) NOT NULL', typeName: 'datetime2' },
	{ name: 'LastTriedAt', definition: 'datetime2(3) NOT NULL', typeName: 'datetime2' },
	{ name: 'Parked', definition: 'bit NOT NULL', typeName: 'bit' },
];

/** Creates the retry table when missing (safe when two runs race), then returns its schema's existence and its columns. */
export function ensureRetryTableSql(retry: QualifiedName): string {
	return `SET NOCOUNT ON;
${createTableIfMissing(
	retry,
	`${columnList(RETRY_COLUMNS)},
			CONSTRAINT ${quoteIdentifier(`PK_${retry.name}`)} PRIMARY KEY ([Id])`,
	`
		CREATE INDEX ${quoteIdentifier(`IX_${retry.name}_Stream`)} ON ${quoteQualifiedName(retry)} ([Stream], [LastTriedAt]);`,
)}
SELECT CASE WHEN SCHEMA_ID(${literal(retry.schema)}) IS NULL THEN 0 ELSE 1 END AS retrySchemaExists;
SELECT c.name, t.name AS typeName, c.max_length AS maxLength
FROM sys.columns c JOIN sys.types t ON t.user_type_id = c.system_type_id AND t.user_type_id = t.system_type_id
WHERE c.object_id = OBJECT_ID(${literal(quoteQualifiedName(retry))}, N'U')
ORDER BY c.column_id;`;
}

export const RETRY_SELECT = `[KeyText] AS keyText, [CursorText] AS cursorText, [Attempts] AS attempts, [LastError] AS lastError,
       CONVERT(varchar(23), [FirstFailedAt], 126) AS firstFailedAt, CONVERT(varchar(23), [LastTriedAt], 126) AS lastTriedAt, [Parked] AS parked`;

/**
 * Appended to Get's batch (acquireSql), after its answer: the list's size and the due keys (dueRetries: not
 * parked, least recently tried first, only when the lease was just taken, not renewed). Nothing while the
 * table does not exist yet, so a stream that never had a refused row costs no extra round trip.
 */
function dueRetriesSql(retry: QualifiedName, limit: number): string {
	const table = quoteQualifiedName(retry);
	return `IF OBJECT_ID(${literal(table)}, N'U') IS NOT NULL
BEGIN
	SELECT COUNT(*) AS retryListSize FROM ${table} WHERE [Stream] = @stream;
	SELECT TOP (${Math.trunc(limit)}) ${RETRY_SELECT}
	FROM ${table}
	WHERE [Stream] = @stream AND [Parked] = 0
	  AND EXISTS (SELECT 1 FROM @taken t WHERE t.PreviousOwner IS NULL OR t.PreviousOwner COLLATE Latin1_General_BIN2 <> @owner)
	ORDER BY [LastTriedAt], [Id];
END;`;
}

/**
 * The retry list's part of Set, inside commitSql's transaction, after the verdict: only for "store" and "nothing to
 * store". @retryChanges is XML (<c k="key text" w="1|0" cur="cursor" e="error"/>…, see retryChangesXml): XML rather
 * than OPENJSON so that a database at compatibility level 120 takes it too. nextRetryEntry in T-SQL: written keys
 * leave, failed keys count another attempt (parked at @maxAttempts) or come in with 1.
 */
function retryChangesSql(retry: QualifiedName): string {
	const table = quoteQualifiedName(retry);
	const sameKey = (alias: string) => `c.KeyText COLLATE Latin1_General_BIN2 = ${alias}.[KeyText]`;
	// In the DELETE and the UPDATE, the key is matched against the listed row already.
	const listedRow = { written: 'c.Written', listed: '1' };
	return `DECLARE @touched TABLE (KeyText nvarchar(max), CursorText nvarchar(max), Attempts int, LastError nvarchar(max),
	FirstFailedAt datetime2(3), LastTriedAt datetime2(3), WasParked bit, IsParked bit);
DECLARE @retryRemoved int = 0;
IF @verdict IN ('store', 'nothing to store')
BEGIN
	DECLARE @changesXml xml = CONVERT(xml, @retryChanges);
	DECLARE @changes TABLE (KeyText nvarchar(max) NOT NULL, Written bit NOT NULL, CursorText nvarchar(max) NULL, ErrorText nvarchar(max) NULL);
	INSERT INTO @changes (KeyText, Written, CursorText, ErrorText)
	SELECT x.value('@k', 'nvarchar(max)'), x.value('@w', 'bit'), x.value('@cur', 'nvarchar(max)'), x.value('@e', 'nvarchar(max)')
	FROM @changesXml.nodes('/c') AS n(x);
	DELETE r FROM ${table} r WITH (UPDLOCK, HOLDLOCK)
	WHERE r.[Stream] = @stream AND EXISTS (SELECT 1 FROM @changes c WHERE ${sameKey('r')} AND ${decidesSql(RETRY_ACTIONS, 'leave', listedRow)});
	SET @retryRemoved = @@ROWCOUNT;
	UPDATE r SET [Attempts] = r.[Attempts] + 1, [LastError] = c.ErrorText, [LastTriedAt] = @now,
	       [CursorText] = ISNULL(c.CursorText, r.[CursorText]),
	       [Parked] = CASE WHEN ${conditionSql(PARKS_THE_ENTRY, { wasParked: 'r.[Parked]', attemptsAfter: 'r.[Attempts] + 1', maxAttempts: '@maxAttempts' })} THEN 1 ELSE 0 END
	OUTPUT inserted.[KeyText], inserted.[CursorText], inserted.[Attempts], inserted.[LastError], inserted.[FirstFailedAt], inserted.[LastTriedAt], deleted.[Parked], inserted.[Parked]
	INTO @touched
	FROM ${table} r WITH (UPDLOCK, HOLDLOCK) JOIN @changes c ON ${sameKey('r')} AND ${decidesSql(RETRY_ACTIONS, 'count another attempt', listedRow)}
	WHERE r.[Stream] = @stream;
	INSERT INTO ${table} ([Stream], [KeyText], [CursorText], [Attempts], [LastError], [FirstFailedAt], [LastTriedAt], [Parked])
	OUTPUT inserted.[KeyText], inserted.[CursorText], inserted.[Attempts], inserted.[LastError], inserted.[FirstFailedAt], inserted.[LastTriedAt], CONVERT(bit, 0), inserted.[Parked]
	INTO @touched
	SELECT @stream, c.KeyText, c.CursorText, 1, c.ErrorText, @now, @now,
	       CASE WHEN ${conditionSql(PARKS_THE_ENTRY, { wasParked: 'CONVERT(bit, 0)', attemptsAfter: '1', maxAttempts: '@maxAttempts' })} THEN 1 ELSE 0 END
	FROM @changes c
	CROSS APPLY (SELECT CASE WHEN EXISTS (SELECT 1 FROM ${table} r WHERE r.[Stream] = @stream AND ${sameKey('r')}) THEN 1 ELSE 0 END AS Listed) AS l
	WHERE ${decidesSql(RETRY_ACTIONS, 'enter', { written: 'c.Written', listed: 'l.Listed' })};
END;`;
}

/** Whether this Set parked a row (for the lease release of RetryRules.releaseLeaseWhenParked). */
const PARKED_NOW = 'EXISTS (SELECT 1 FROM @touched WHERE WasParked = 0 AND IsParked = 1)';

/** What the retry part of Set answers, after commitSql's state row: its counts, then the rows it parked. */
const RETRY_CHANGES_ANSWER = `SELECT @retryRemoved AS removed, (SELECT COUNT(*) FROM @touched) AS failing;
SELECT KeyText AS keyText, CursorText AS cursorText, Attempts AS attempts, LastError AS lastError,
       CONVERT(varchar(23), FirstFailedAt, 126) AS firstFailedAt, CONVERT(varchar(23), LastTriedAt, 126) AS lastTriedAt, IsParked AS parked
FROM @touched WHERE WasParked = 0 AND IsParked = 1;`;

export function retryListSql(retry: QualifiedName): string {
	return `SELECT ${RETRY_SELECT} FROM ${quoteQualifiedName(retry)} WHERE [Stream] = @stream ORDER BY [LastTriedAt], [Id];`;
}

/**
 * "Retry Parked Rows Again": the keys in @keys (XML <c k="…"/>…), or every parked key when @allParked = 1, are
 * retried again from 0 attempts (@remove = 0) or taken off the list (@remove = 1). Answers how many changed.
 */
export function changeRetryEntriesSql(retry: QualifiedName): string {
	const table = quoteQualifiedName(retry);
	return `SET NOCOUNT ON;
SET XACT_ABORT ON;
DECLARE @keysXml xml = CONVERT(xml, @keys);
DECLARE @chosen TABLE (KeyText nvarchar(max) NOT NULL);
INSERT INTO @chosen (KeyText) SELECT x.value('@k', 'nvarchar(max)') FROM @keysXml.nodes('/c') AS n(x);
DECLARE @changed int = 0;
BEGIN TRANSACTION;
IF @remove = 1
BEGIN
	DELETE r FROM ${table} r
	WHERE r.[Stream] = @stream AND ((@allParked = 1 AND r.[Parked] = 1) OR EXISTS (SELECT 1 FROM @chosen c WHERE c.KeyText COLLATE Latin1_General_BIN2 = r.[KeyText]));
	SET @changed = @@ROWCOUNT;
END
ELSE
BEGIN
	UPDATE r SET [Attempts] = 0, [Parked] = 0 FROM ${table} r
	WHERE r.[Stream] = @stream AND ((@allParked = 1 AND r.[Parked] = 1) OR EXISTS (SELECT 1 FROM @chosen c WHERE c.KeyText COLLATE Latin1_General_BIN2 = r.[KeyText]));
	SET @changed = @@ROWCOUNT;
END;
COMMIT TRANSACTION;
SELECT @changed AS changed;`;
}

/**
 * WatermarkStore.readAgain: the keys in @keys (XML <c k="…" cur="…"/>…) not yet in the stream's list come in with 0
 * attempts and @reason as their last error. Answers how many were added.
 */
export function readAgainSql(retry: QualifiedName): string {
	const table = quoteQualifiedName(retry);
	return `SET NOCOUNT ON;
SET XACT_ABORT ON;
DECLARE @keysXml xml = CONVERT(xml, @keys);
DECLARE @now datetime2(3) = SYSUTCDATETIME(), @added int;
INSERT INTO ${table} ([Stream], [KeyText], [CursorText], [Attempts], [LastError], [FirstFailedAt], [LastTriedAt], [Parked])
SELECT @stream, c.KeyText, c.CursorText, 0, @reason, @now, @now, 0
FROM (SELECT x.value('@k', 'nvarchar(max)') AS KeyText, x.value('@cur', 'nvarchar(max)') AS CursorText FROM @keysXml.nodes('/c') AS n(x)) AS c
WHERE NOT EXISTS (SELECT 1 FROM ${table} r WITH (UPDLOCK, HOLDLOCK) WHERE r.[Stream] = @stream AND c.KeyText COLLATE Latin1_General_BIN2 = r.[KeyText]);
SET @added = @@ROWCOUNT;
SELECT @added AS added;`;
}

/** Characters XML 1.0 cannot carry at all; replaced, since an error text is only for people to read. */
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

function xmlAttribute(text: string): string {
	return text
		.replace(NOT_XML, '\uFFFD')
		.replace(/&/g, '&amp;')
		.replace(/</g, '&lt;')
		.replace(/>/g, '&gt;')
		.replace(/"/g, '&quot;')
		.replace(/\t/g, '&#9;')
		.replace(/\n/g, '&#10;')
		.replace(/\r/g, '&#13;');
}

/** The XML the retry statements read: one <c/> per key, values as attributes (a value is never SQL text). */
export function retryChangesXml(changes: Array<{ keyText: string; written?: boolean; cursor?: string | null; error?: string }>): string {
	return changes
		.map((change) => {
			const attributes = [`k="${xmlAttribute(change.keyText)}"`, `w="${change.written ? 1 : 0}"`];
			if (change.cursor) attributes.push(`cur="${xmlAttribute(change.cursor)}"`);
			if (change.error !== undefined) attributes.push(`e="${xmlAttribute(change.error)}"`);
			return `<c ${attributes.join(' ')}/>`;
		})
		.join('');
}
