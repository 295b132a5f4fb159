/**
 * The T-SQL of the Status and Record Run operations, as pure builders. The run table keeps, per stream, the
 * latest run start and finish the sync workflow recorded; it is created when the first run is recorded.
 * Identifiers are bracket-quoted; every value is a parameter.
 */
import type { QualifiedName } from '../../shared/core/identifiers';
import { quoteIdentifier, quoteQualifiedName } from '../../shared/core/identifiers';
import { retryTableOf } from '../../shared/core/retryList';
import type { WatermarkTables } from './watermarkStore';
import type { ColumnSpec } from './watermarkSql';
import { RETRY_SELECT, STATE_SELECT, columnList, createTableIfMissing, literal } from './watermarkSql';

/** The run table: the watermark table's name followed by "Run", in its schema. */
export function runTableOf(tables: { state: QualifiedName }): QualifiedName {
	return { schema: tables.state.schema, name: `${tables.state.name}Run` };
}

export const RUN_COLUMNS: ColumnSpec[] = [
	{ name: 'Stream', definition: 'nvarchar(200) NOT NULL', typeName: 'nvarchar', minBytes: 400 },
	{ name: 'StartedAt', definition: 'datetime2(3) NULL', typeName: 'datetime2' },
	{ name: 'StartedWorkflowId', definition: 'nvarchar(100) NULL', typeName: 'nvarchar', minBytes: 200 },
	{ name: 'StartedExecutionId', definition: 'nvarchar(100) NULL', typeName: 'nvarchar', minBytes: 200 },
	{ name: 'FinishedAt', definition: 'datetime2(3) NULL', typeName: 'datetime2' },
	{ name: 'FinishedWorkflowId', definition: 'nvarchar(100) NULL', typeName: 'nvarchar', minBytes: 200 },
	{ name: 'FinishedExecutionId', definition: 'nvarchar(100) NULL', typeName: 'nvarchar', minBytes: 200 },
	{ name: 'Summary', definition: 'nvarchar(max) NULL', typeName: 'nvarchar', minBytes: -1 },
];

/** Creates the run table when missing (safe when two runs race), then returns its schema's existence and its columns. */
export function ensureRunTableSql(run: QualifiedName): string {
	return `SET NOCOUNT ON;
${createTableIfMissing(
	run,
	`${columnList(RUN_COLUMNS)},
			CONSTRAINT ${quoteIdentifier(`PK_${run.name}`)} PRIMARY KEY ([Stream])`,
)}
SELECT CASE WHEN SCHEMA_ID(${literal(run.schema)}) IS NULL THEN 0 ELSE 1 END AS runSchemaExists;
SELECT c.name, t.name AS typeName, c.max_length AS maxLength
FROM sys.columns c JOIN sys.types t ON t.user_type_id = c.system_type_id AND t.user_type_id = t.system_type_id
WHERE c.object_id = OBJECT_ID(${literal(quoteQualifiedName(run))}, N'U')
ORDER BY c.column_id;`;
}

/**
 * Record Run in one round trip: a start replaces the stream's latest start, a finish its latest finish and
 * summary. UPDLOCK + HOLDLOCK make two first records of one stream insert one row.
 */
export function recordRunSql(run: QualifiedName): string {
	const table = quoteQualifiedName(run);
	return `SET NOCOUNT ON;
SET XACT_ABORT ON;
DECLARE @now datetime2(3) = SYSUTCDATETIME();
DECLARE @started bit = CASE WHEN @event = 'started' THEN 1 ELSE 0 END;
BEGIN TRANSACTION;
UPDATE ${table} WITH (UPDLOCK, HOLDLOCK)
SET [StartedAt] = CASE WHEN @started = 1 THEN @now ELSE [StartedAt] END,
    [StartedWorkflowId] = CASE WHEN @started = 1 THEN @workflowId ELSE [StartedWorkflowId] END,
    [StartedExecutionId] = CASE WHEN @started = 1 THEN @executionId ELSE [StartedExecutionId] END,
    [FinishedAt] = CASE WHEN @started = 0 THEN @now ELSE [FinishedAt] END,
    [FinishedWorkflowId] = CASE WHEN @started = 0 THEN @workflowId ELSE [FinishedWorkflowId] END,
    [FinishedExecutionId] = CASE WHEN @started = 0 THEN @executionId ELSE [FinishedExecutionId] END,
    [Summary] = CASE WHEN @started = 0 THEN @summary ELSE [Summary] END
WHERE [Stream] = @stream;
IF @@ROWCOUNT = 0
	INSERT INTO ${table} ([Stream], [StartedAt], [StartedWorkflowId], [StartedExecutionId], [FinishedAt], [FinishedWorkflowId], [FinishedExecutionId], [Summary])
	SELECT @stream, @now, @workflowId, @executionId, NULL, NULL, NULL, NULL WHERE @started = 1
	UNION ALL
	SELECT @stream, NULL, NULL, NULL, @now, @workflowId, @executionId, @summary WHERE @started = 0;
COMMIT TRANSACTION;`;
}

/** `SELECT … WHERE 1 = 0` with the given columns: keeps a result's position when its table does not exist yet. */
function emptyAnswer(columns: string[]): string {
	return `SELECT ${columns.map((column) => `CAST(NULL AS nvarchar(1)) AS ${column}`).join(', ')} WHERE 1 = 0;`;
}

const ONE_OR_ALL = '(@stream IS NULL OR [Stream] = @stream)';

/**
 * Status in one round trip, reading only: the store's clock; the streams' rows; their latest run start and
 * finish; their retry list counts; and up to @entryLimit entries per stream, parked first. A table that does
 * not exist yet answers with no rows, so looking creates nothing.
 */
export function statusSql(tables: WatermarkTables): string {
	const state = quoteQualifiedName(tables.state);
	const run = quoteQualifiedName(runTableOf(tables));
	const retry = quoteQualifiedName(retryTableOf(tables));
	const exists = (table: string) => `OBJECT_ID(${literal(table)}, N'U') IS NOT NULL`;
	return `SET NOCOUNT ON;
SELECT CONVERT(varchar(23), SYSUTCDATETIME(), 126) AS now;
IF ${exists(state)}
	${STATE_SELECT}, w.[CursorText] AS storedValue FROM ${state} w WHERE (@stream IS NULL OR w.[Stream] = @stream) ORDER BY w.[Stream];
ELSE
	${emptyAnswer(['stream'])}
IF ${exists(run)}
	SELECT [Stream] AS stream, CONVERT(varchar(23), [StartedAt], 126) AS startedAt, [StartedWorkflowId] AS startedWorkflowId,
	       [StartedExecutionId] AS startedExecutionId, CONVERT(varchar(23), [FinishedAt], 126) AS finishedAt,
	       [FinishedWorkflowId] AS finishedWorkflowId, [FinishedExecutionId] AS finishedExecutionId, [Summary] AS summary
	FROM ${run} WHERE ${ONE_OR_ALL};
ELSE
	${emptyAnswer(['stream'])}
IF ${exists(retry)}
BEGIN
	SELECT [Stream] AS stream, SUM(CASE WHEN [Parked] = 1 THEN 0 ELSE 1 END) AS waiting, SUM(CASE WHEN [Parked] = 1 THEN 1 ELSE 0 END) AS parked
	FROM ${retry} WHERE ${ONE_OR_ALL} GROUP BY [Stream];
	SELECT [Stream] AS stream, ${RETRY_SELECT}
	FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY [Stream] ORDER BY [Parked] DESC, [LastTriedAt], [Id]) AS [Position]
	      FROM ${retry} WHERE ${ONE_OR_ALL}) r
	WHERE [Position] <= @entryLimit ORDER BY [Stream], [Position];
END
ELSE
BEGIN
	${emptyAnswer(['stream'])}
	${emptyAnswer(['stream'])}
END;`;
}
