import type { SqlServerErrorInfo } from './types';

export type ErrorKind = 'transient' | 'permanent';

/**
 * SQL Server error numbers that say "try the same thing again": the statement was not at fault.
 * 1205 deadlock victim, 1222 lock request timeout, 40501 / 40613 / 40197 / 49918-49920 Azure SQL busy or
 * moving, 4060 on Azure when a database is mid-failover is deliberately left out: on-premises it means a
 * wrong database name, which no retry cures.
 */
const TRANSIENT_SERVER_ERRORS = new Set([1205, 1222, 40197, 40501, 40613, 49918, 49919, 49920]);

/** Driver codes for a connection that was reset, lost or timed out before an answer came. */
const TRANSIENT_DRIVER_CODES = new Set(['ESOCKET', 'ECONNRESET', 'ECONNCLOSED', 'ETIMEOUT', 'ECONNREFUSED']);

export function classifySqlServerError(error: SqlServerErrorInfo): ErrorKind {
	if (error.number !== undefined && TRANSIENT_SERVER_ERRORS.has(error.number)) return 'transient';
	if (error.code !== undefined && TRANSIENT_DRIVER_CODES.has(error.code)) return 'transient';
	return 'permanent';
}

export interface RetryPolicy {
	/** Attempts in all, the first included. */
	maxAttempts: number;
	initialDelayMs: number;
	maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, initialDelayMs: 200, maxDelayMs: 5_000 };

/** Exponential backoff with a cap; attempt 1 is the first retry. */
export function backoffDelayMs(policy: RetryPolicy, retryNumber: number): number {
	return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (retryNumber - 1));
}

export function shouldRetry(policy: RetryPolicy, kind: ErrorKind, attemptsMade: number): boolean {
	return kind === 'transient' && attemptsMade < policy.maxAttempts;
}

/** What a partner should check for a SQL Server error, in plain words. */
export function adviceForSqlServerError(error: SqlServerErrorInfo): string {
	switch (error.number) {
		case 18456:
			return 'Login failed: check the user name, password and (for Windows logins) the domain in the credential.';
		case 4060:
			return 'The database named in the credential does not exist or this login may not open it.';
		case 208:
			return 'A table or view named in the node does not exist (or this login cannot see it): pick it again from the list.';
		case 207:
			return 'A column named in the node does not exist in the table: refresh the column list in the node.';
		case 229:
		case 230:
			return 'This login lacks permission for the statement: grant SELECT (source) or INSERT/UPDATE/DELETE (target) on the table.';
		case 2627:
		case 2601:
			return 'A unique key was violated: check that the columns to match on are the table\'s key.';
		case 515:
			return 'A NOT NULL column got no value: map a value for it in the node.';
		case 8114:
		case 245:
		case 241:
		case 8115:
			return 'A value does not convert to the column\'s type: check the mapping for that column.';
		case 1205:
		case 1222:
			return 'SQL Server was busy with locks; the node retried and gave up. The next run will try again.';
	}
	if (error.code === 'ELOGIN') return 'Login failed: check the user name, password and domain in the credential.';
	if (error.code !== undefined && TRANSIENT_DRIVER_CODES.has(error.code)) {
		return 'The SQL Server could not be reached or the connection dropped: check the server name, port, firewall and that SQL Server is running.';
	}
	return 'See SQL Server\'s message above; the watermark has not moved past any row that was not written.';
}
