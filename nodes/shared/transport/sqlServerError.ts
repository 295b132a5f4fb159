import type { ConnectionFailure, ErrorKind } from './errorClassification';
import { adviceForSqlServerError, classifySqlServerError, connectionFailureMessage, connectionFailureOf } from './errorClassification';
import type { SqlServerErrorInfo } from './types';

/**
 * A failed request, with what SQL Server said and what to check. Nodes turn it into a NodeApiError;
 * stores can inspect `number` (e.g. to find the rows SQL Server refuses).
 */
export class SqlServerRequestError extends Error {
	readonly number?: number;
	readonly code?: string;
	readonly kind: ErrorKind;
	readonly advice: string;
	readonly attempts: number;
	/** Set when no connection came about or it was lost; such a failure leads whatever the node was doing. */
	readonly connectionFailure?: ConnectionFailure;
	/** Every error of the request, the last (`number`) included: see SqlServerErrorInfo.errors. */
	readonly errors: ReadonlyArray<{ number?: number; message: string }>;

	constructor(info: SqlServerErrorInfo, target: string, attempts: number) {
		const numberPart = info.number !== undefined ? ` (SQL Server error ${info.number})` : '';
		const failure = connectionFailureOf(info);
		super(failure ? connectionFailureMessage(failure, target, info.message) : `${info.message}${numberPart} [${target}]`);
		this.name = 'SqlServerRequestError';
		this.number = info.number;
		this.code = info.code;
		this.kind = classifySqlServerError(info);
		this.advice = adviceForSqlServerError(info);
		this.attempts = attempts;
		this.connectionFailure = failure;
		this.errors = info.errors ?? [{ number: info.number, message: info.message }];
	}
}

function numberAndMessage(error: unknown): { number?: number; message: string } {
	const candidate = (error ?? {}) as { number?: unknown; message?: unknown; originalError?: { number?: unknown; info?: { number?: unknown } } };
	const number = [candidate.number, candidate.originalError?.number, candidate.originalError?.info?.number].find((n) => typeof n === 'number') as number | undefined;
	return { number, message: typeof candidate.message === 'string' ? candidate.message : String(error) };
}

/** Reads the error number and driver code from whatever mssql / tedious threw, and the errors mssql puts before it (precedingErrors). */
export function sqlServerErrorInfo(error: unknown): SqlServerErrorInfo {
	if (typeof error !== 'object' || error === null) return { message: String(error) };
	const candidate = error as { code?: unknown; originalError?: { code?: unknown } };
	const code = [candidate.code, candidate.originalError?.code].find((c) => typeof c === 'string') as string | undefined;
	const { number, message } = numberAndMessage(error);
	const preceding = (error as { precedingErrors?: unknown }).precedingErrors;
	const errors = [...(Array.isArray(preceding) ? preceding.map(numberAndMessage) : []), { number, message }];
	const causes = causeCodes(error);
	return { number, code, message, errors, ...(causes.length > 0 ? { causes } : {}) };
}

/** The codes of the errors a driver error wraps (mssql's originalError, tedious's cause, an AggregateError's errors). */
function causeCodes(error: unknown, depth = 0): string[] {
	if (typeof error !== 'object' || error === null || depth > 5) return [];
	const { originalError, cause, errors } = error as { originalError?: unknown; cause?: unknown; errors?: unknown };
	return [originalError, cause, ...(Array.isArray(errors) ? errors : [])].flatMap((inner) => {
		const code = (inner as { code?: unknown } | null | undefined)?.code;
		return [...(typeof code === 'string' ? [code] : []), ...causeCodes(inner, depth + 1)];
	});
}
