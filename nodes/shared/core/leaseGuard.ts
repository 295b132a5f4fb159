/**
 * The lease guard of a CRM write: a write made by a run whose lease has expired (or been taken over) must never
 * land, or it could replace a newer version another run wrote meanwhile with the older one this run read.
 *
 * When the watermark lives in the CRM database (the default), the write batch checks, in its own transaction and
 * before its MERGE, that the stream's lease is still this run's (the unique lease owner Get handed out, compared
 * binary) and not expired by SQL Server's clock, taking an update lock on the watermark row that it holds until
 * the write commits. A takeover (Get's UPDATE of that row) therefore waits for the write to finish and only then
 * reads the source; a write that arrives after the lease ended writes nothing. The in-memory CRM twin refuses by
 * the same rule (leaseIsLive).
 */
import type { SqlParameter } from '../transport/types';
import type { Condition } from './decisionTable';
import { all, greater, holds, isNull, not, sameText } from './decisionTable';
import type { QualifiedName } from './identifiers';
import { quoteQualifiedName } from './identifiers';

export interface LeaseGuard {
	/** The watermark table (in the database written to). */
	table: QualifiedName;
	stream: string;
	/** The unique lease owner Get handed out for this run. */
	owner: string;
}

/** The parameters the guard adds to a write request (within SQL Server's 2,100 per request). */
export const LEASE_GUARD_PARAMETERS = 2;

/** What the guard answers instead of the write's outcomes when the lease is no longer this run's. */
export const LEASE_LOST_OUTCOME = 'lease lost';

/**
 * T-SQL to put right after BEGIN TRANSACTION of a write batch: ends the batch, rolled back, with one row whose
 * [outcome] is LEASE_LOST_OUTCOME unless the lease is live. UPDLOCK + HOLDLOCK keep the watermark row locked
 * until the write commits.
 */
export function leaseGuardSql(guard: LeaseGuard): { lines: string[]; parameters: SqlParameter[] } {
	return {
		lines: [
			`IF NOT EXISTS (SELECT 1 FROM ${quoteQualifiedName(guard.table)} WITH (UPDLOCK, HOLDLOCK)`,
			`  WHERE [Stream] = @leaseStream AND [LeaseOwner] COLLATE Latin1_General_BIN2 = @leaseOwner AND [LeaseExpiresAt] > SYSUTCDATETIME())`,
			'BEGIN',
			'  ROLLBACK TRANSACTION;',
			`  SELECT CAST(NULL AS int) AS [row], '${LEASE_LOST_OUTCOME}' AS [outcome];`,
			'  RETURN;',
			'END;',
		],
		parameters: [
			{ name: 'leaseStream', type: { name: 'nvarchar', length: 200 }, value: guard.stream },
			{ name: 'leaseOwner', type: { name: 'nvarchar', length: 200 }, value: guard.owner },
		],
	};
}

/** What decides whether a lease is live: its owner and expiry (epoch ms here, datetime2 in T-SQL), the token's owner, now. */
export type LeaseFact = 'leaseOwner' | 'tokenOwner' | 'leaseExpiresAt' | 'now';

/** The lease is this owner's (compared exactly) and ends after now; also the "lease lost" rule of Set (COMMIT_VERDICTS). */
export const LEASE_IS_LIVE: Condition<LeaseFact> = all(not(isNull('leaseOwner')), sameText('leaseOwner', 'tokenOwner'), greater('leaseExpiresAt', 'now'));

/** The rule the guard states in T-SQL: the lease is this owner's and ends after `now`. */
export function leaseIsLive(lease: { owner: string | null; expiresAt: string | null }, owner: string, now: Date): boolean {
	return holds(LEASE_IS_LIVE, { leaseOwner: lease.owner, tokenOwner: owner, leaseExpiresAt: lease.expiresAt === null ? null : Date.parse(lease.expiresAt), now: now.getTime() });
}

export class LeaseLostError extends Error {
	readonly advice =
		'Nothing of this batch was written to CRM and the watermark did not move; the next run sends these rows. If this repeats, raise "Lease Seconds" on Watermark Get above the time one batch takes.';

	constructor(stream: string) {
		super(`Stream "${stream}" is no longer held by this run (its lease expired or another run took it over), so this batch was not written to CRM`);
		this.name = 'LeaseLostError';
	}
}
