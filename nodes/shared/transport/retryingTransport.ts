import type { RetryPolicy } from './errorClassification';
import { DEFAULT_RETRY_POLICY, backoffDelayMs, classifySqlServerError, shouldRetry } from './errorClassification';
import { SqlServerRequestError, sqlServerErrorInfo } from './sqlServerError';
import type { SqlRequest, SqlResult, SqlTransport } from './types';

export interface RetryOptions {
	policy?: RetryPolicy;
	/** Names the server and database in the final error; never credentials. */
	target: string;
	/** Removes secrets from driver messages before they reach an error. */
	redact?: (message: string) => string;
	sleep?: (ms: number) => Promise<void>;
}

const realSleep = async (ms: number) => await new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sends each request through `singleAttempt`, retrying transient SQL Server failures (deadlock victim,
 * lock timeout, lost connection, Azure throttling) a bounded number of times with backoff. Every batch the
 * nodes send is written to be safe to repeat, which is what makes this retry correct.
 */
export function retrying(singleAttempt: SqlTransport, options: RetryOptions): SqlTransport {
	const policy = options.policy ?? DEFAULT_RETRY_POLICY;
	const sleep = options.sleep ?? realSleep;
	const redact = options.redact ?? ((message: string) => message);
	return {
		async execute(request: SqlRequest): Promise<SqlResult> {
			for (let attempt = 1; ; attempt++) {
				let failure: unknown;
				try {
					return await singleAttempt.execute(request);
				} catch (error) {
					failure = error;
				}
				const info = sqlServerErrorInfo(failure);
				if (!shouldRetry(policy, classifySqlServerError(info), attempt)) {
					throw new SqlServerRequestError({ ...info, message: redact(info.message), errors: info.errors?.map((each) => ({ ...each, message: redact(each.message) })) }, options.target, attempt);
				}
				await sleep(backoffDelayMs(policy, attempt));
			}
		},
	};
}
