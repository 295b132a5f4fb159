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

/** Failures no retry within a run cures: a server name that does not exist, a certificate, a login. */
const PERMANENT_CONNECTION_FAILURES = new Set<ConnectionFailure>(['unknownServer', 'tls', 'login']);

export function classifySqlServerError(error: SqlServerErrorInfo): ErrorKind {
	const failure = connectionFailureOf(error);
	if (failure !== undefined && PERMANENT_CONNECTION_FAILURES.has(failure)) return 'permanent';
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
	const failure = connectionFailureOf(error);
	if (failure !== undefined) return CONNECTION_FAILURE_ADVICE[failure];
	if (error.code === 'ETIMEOUT') {
		return 'The statement ran longer than the Request Timeout of the credential: raise it there, or make the batch smaller.';
	}
	return 'See SQL Server\'s message above; the watermark has not moved past any row that was not written.';
}

/** The ways a connection to SQL Server fails, each with its own advice. */
export type ConnectionFailure = 'unknownServer' | 'refused' | 'unreachable' | 'connectTimeout' | 'tls' | 'login' | 'instanceLookup' | 'lost';

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|EPROTO$|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT|UNABLE_TO_(GET|VERIFY)_|CERT_)/;

/**
 * How a connection failed, from the driver's code, the system errors beneath it and its text; undefined for a
 * statement SQL Server answered with an error.
 */
export function connectionFailureOf(error: SqlServerErrorInfo): ConnectionFailure | undefined {
	const codes = [error.code, ...(error.causes ?? [])].filter((code): code is string => code !== undefined);
	const has = (...wanted: string[]) => codes.some((code) => wanted.includes(code)) || wanted.some((code) => error.message.includes(code));
	const connecting = /^Failed to connect/.test(error.message);
	if (error.number === 18456 || error.code === 'ELOGIN') return 'login';
	if (error.code === 'EINSTLOOKUP') return 'instanceLookup';
	if (has('ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME')) return 'unknownServer';
	if (has('ECONNREFUSED')) return 'refused';
	if (has('EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN')) return 'unreachable';
	if (error.code === 'ETIMEOUT') return connecting ? 'connectTimeout' : undefined;
	if (codes.some((code) => TLS_CODE.test(code)) || (connecting && /certificate|self[- ]signed|\bSSL\b|\bTLS\b|altnames/i.test(error.message))) return 'tls';
	if (connecting) return 'unreachable';
	if (error.code !== undefined && TRANSIENT_DRIVER_CODES.has(error.code)) return 'lost';
	return undefined;
}

/**
 * The headline for a connection failure, naming the server: it leads the node's error, so it carries no driver
 * codes (n8n would swap a message holding ENOTFOUND or ECONNREFUSED for its own generic text).
 */
export function connectionFailureMessage(failure: ConnectionFailure, target: string, driverMessage: string): string {
	const cannot = `Cannot connect to SQL Server ${target}`;
	switch (failure) {
		case 'unknownServer':
			return `${cannot}: the server name does not resolve`;
		case 'refused':
			return `${cannot}: nothing accepts connections on that port`;
		case 'unreachable':
			return `${cannot}: the server cannot be reached from the n8n machine`;
		case 'connectTimeout': {
			const ms = /in (\d+)ms/.exec(driverMessage)?.[1];
			return `${cannot}: no answer within ${ms ? `${Number(ms) / 1000} s` : 'the connect timeout'}`;
		}
		case 'tls': {
			const detail = plainDetail(driverMessage);
			return `${cannot}: the encrypted (TLS) connection failed${detail ? ` (${detail})` : ''}`;
		}
		case 'login': {
			const detail = plainDetail(driverMessage);
			return `SQL Server ${target} refused the login${detail ? `: ${detail}` : ''}`;
		}
		case 'instanceLookup':
			return `${cannot}: SQL Server Browser did not answer for the instance name`;
		case 'lost':
			return `The connection to SQL Server ${target} was lost`;
	}
}

/** The part of a driver message worth showing (after "Failed to connect to host:port - "), without system error codes. */
function plainDetail(driverMessage: string): string {
	return driverMessage
		.replace(/^Failed to connect to \S+ - /, '')
		.replace(/\b(E[A-Z_]{3,}|ERR_[A-Z_]+)\b:?\s*/g, '')
		.trim();
}

const CHECK_IN_CREDENTIAL = 'in the credential (Overview → Credentials)';

const CONNECTION_FAILURE_ADVICE: Record<ConnectionFailure, string> = {
	unknownServer: `Check the Server field ${CHECK_IN_CREDENTIAL}: the name must resolve from the n8n machine (try the full name, e.g. sql01.customer.local, or the IP address).`,
	refused: `The server answers but nothing listens on that port: check the Port field ${CHECK_IN_CREDENTIAL} (1433 by default; a named instance often uses another), that SQL Server is running and has TCP/IP enabled (SQL Server Configuration Manager).`,
	unreachable: `Check the Server and Port fields ${CHECK_IN_CREDENTIAL}, that SQL Server is running, and that a firewall lets the n8n machine through to that port.`,
	connectTimeout: `A firewall may drop the connection, or the server is down or overloaded: check the Server and Port fields ${CHECK_IN_CREDENTIAL} and the firewall, or raise Connect Timeout there.`,
	tls: `Install a certificate on SQL Server that the n8n machine trusts (its name must match the Server field), or for a self-signed certificate turn on Trust Server Certificate ${CHECK_IN_CREDENTIAL}.`,
	login: `Check the user, password and, for a Windows login, the domain ${CHECK_IN_CREDENTIAL}, and that the login may open the database.`,
	instanceLookup: `Check the instance name after the backslash in the Server field ${CHECK_IN_CREDENTIAL}, that the SQL Server Browser service runs and UDP port 1434 is open; or give the instance's own port instead.`,
	lost: 'The connection dropped while working and the node retried and gave up: check that SQL Server is running and the network is stable. The next run carries on where this one stopped.',
};
