import type { RowError, RowOutcome } from './upsertPlan';

/**
 * SQL Server error numbers that say "this data is refused", not "this statement cannot run": NULL into NOT NULL
 * (515), foreign key or check constraint (547), duplicate key (2601, 2627), truncation (2628, 8152), conversion and
 * overflow (220, 232, 241, 242, 244, 245, 248, 517, 8114, 8115), two source rows for one target row (8672), and errors
 * a CRM trigger raises to refuse a row (50000 and up). Only these are worth isolating row by row: a missing table or
 * permission fails every row alike, and splitting the batch would only repeat it.
 */
const ROW_LEVEL_ERRORS = new Set([515, 547, 2601, 2627, 2628, 8152, 220, 232, 241, 242, 244, 245, 248, 517, 8114, 8115, 8672]);

export function isRowLevelRefusal(error: unknown): error is Error & { number: number } {
	const number = (error as { number?: unknown } | null)?.number;
	return typeof number === 'number' && (ROW_LEVEL_ERRORS.has(number) || number >= 50000);
}

/** SQL Server's words for the failed row, without the server and database this package appends. */
function refusalOf(error: Error & { number: number }): RowError {
	return { message: error.message.replace(/ \[[^\]]*\]$/, ''), number: error.number };
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
