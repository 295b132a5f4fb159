import type { RowError, RowOutcome } from './upsertPlan';

/**
 * SQL Server error numbers that say "this data is refused", not "this statement cannot run": NULL into NOT NULL
 * (515), foreign key or check constraint (547), duplicate key (2601, 2627), truncation (2628, 8152), conversion and
 * overflow (220, 232, 241, 242, 244, 245, 248, 517, 8114, 8115), two source rows for one target row (8672), and errors
 * a CRM trigger raises to refuse a row (50000 and up, with 3609 / 3616 when it ends the transaction). Only these are worth isolating row by row: a missing table or
 * permission fails every row alike, and splitting the batch would only repeat it.
 */
const ROW_LEVEL_ERRORS = [515, 547, 2601, 2627, 2628, 8152, 220, 232, 241, 242, 244, 245, 248, 517, 8114, 8115, 8672];
/** The first number a CRM trigger's own error (RAISERROR / THROW) can have. */
const FIRST_USER_ERROR = 50000;
/**
 * What SQL Server adds when a trigger ends the transaction: 3609 (ROLLBACK in the trigger: "the batch has been
 * aborted", after the trigger's own error, or alone for a trigger that refuses without a word) and 3616 (an error
 * raised in the trigger rolled the transaction back). They say a trigger refused, not that the statement cannot run.
 */
const TRIGGER_ENDED_TRANSACTION = [3609, 3616];

function isRowLevelNumber(number: number | undefined): boolean {
	return number !== undefined && (ROW_LEVEL_ERRORS.includes(number) || number >= FIRST_USER_ERROR || TRIGGER_ENDED_TRANSACTION.includes(number));
}

/** The same rule in T-SQL, for the write batch's CATCH: true when ERROR_NUMBER() (or `expression`) is a row-level refusal. */
export function rowLevelRefusalCondition(expression: string): string {
	return `(${expression} IN (${[...ROW_LEVEL_ERRORS, ...TRIGGER_ENDED_TRANSACTION].join(', ')}) OR ${expression} >= ${FIRST_USER_ERROR})`;
}

type RequestErrors = { number?: number; message: string; errors?: ReadonlyArray<{ number?: number; message: string }> };

function errorsOf(error: unknown): ReadonlyArray<{ number?: number; message: string }> {
	if (typeof error !== 'object' || error === null) return [];
	const candidate = error as RequestErrors;
	return candidate.errors && candidate.errors.length > 0 ? candidate.errors : [{ number: candidate.number, message: String(candidate.message) }];
}

/**
 * Whether SQL Server refused the request for its rows' data, judged by EVERY error it sent (the driver reports only
 * the last): all of them must be row-level. A trigger's RAISERROR followed by 3609 is; a permission error next to
 * one is not (splitting would only repeat it).
 */
export function isRowLevelRefusal(error: unknown): error is Error {
	const errors = errorsOf(error);
	return errors.length > 0 && errors.every((each) => isRowLevelNumber(each.number));
}

/** SQL Server's words for the failed row (the trigger's own, not the 3609 after it), as SqlServerRequestError words them, without the server and database. */
function refusalOf(error: unknown): RowError {
	const all = (error as RequestErrors).errors;
	if (!all || all.length === 0) return { message: String((error as RequestErrors).message).replace(/ \[[^\]]*\]$/, ''), number: (error as RequestErrors).number };
	const cause = all.find((each) => !TRIGGER_ENDED_TRANSACTION.includes(each.number as number)) ?? all[all.length - 1];
	return { message: `${cause.message}${cause.number !== undefined ? ` (SQL Server error ${cause.number})` : ''}`, number: cause.number };
}

/**
 * Writes a batch; when SQL Server refuses it for a row's data, splits it in halves and writes each, down to the
 * single rows it refuses. Every batch is one transaction, so a refused batch wrote nothing and its halves can be
 * sent as they are. With one refused row among n, this costs 1 + 2·⌈log2 n⌉ round trips; each further refused row
 * adds at most that again. Any other error is thrown as it is.
 */
export async function writeIsolatingRefusals<R extends { ordinal: number }>(
	rows: R[],
	write: (rows: R[]) => Promise<RowOutcome[]>,
): Promise<RowOutcome[]> {
	if (rows.length === 0) return [];
	let failure: unknown;
	try {
		return await write(rows);
	} catch (error) {
		failure = error;
	}
	if (!isRowLevelRefusal(failure)) throw failure;
	const refusal = failure;
	if (rows.length === 1) return [{ ordinal: rows[0].ordinal, status: 'failed', error: refusalOf(refusal) }];
	const half = Math.ceil(rows.length / 2);
	const first = await writeIsolatingRefusals(rows.slice(0, half), write);
	const second = await writeIsolatingRefusals(rows.slice(half), write);
	return [...first, ...second];
}
