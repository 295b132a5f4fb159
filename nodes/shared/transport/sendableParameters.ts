import { isTemporalTypeName } from '../core/sqlTypes';
import type { SqlParameter, SqlRequest } from './types';

/**
 * Why the driver cannot be given this parameter as it is, or undefined when it can. Both are values the driver would
 * send without complaint, and wrongly:
 * - a temporal value as text becomes a JavaScript Date, which keeps milliseconds only; a cursor taken from a
 *   datetime2(7) column would then compare a little too low and read rows twice (send it as varchar and CONVERT it
 *   in the statement);
 * - a bit is sent as 1 for any truthy value (tedious), so the text "false" would switch on what it names.
 */
export function parameterProblem(parameter: SqlParameter): string | undefined {
	const { name, type, value } = parameter;
	if (isTemporalTypeName(type.name) && typeof value === 'string') {
		return `Parameter @${name} carries a ${type.name} as text; send it as varchar and CONVERT it in the statement`;
	}
	if (type.name === 'bit' && value !== null && value !== undefined && typeof value !== 'boolean' && value !== 0 && value !== 1) {
		return `Parameter @${name} is a bit but carries ${JSON.stringify(value)}, which the driver would send as ${value ? 1 : 0}; convert it to true or false first`;
	}
	return undefined;
}

/** Refuses a request with a parameter the driver would send wrongly (see parameterProblem), before anything is sent. */
export function assertSendable(request: SqlRequest): void {
	for (const parameter of request.parameters) {
		const problem = parameterProblem(parameter);
		if (problem) throw new Error(problem);
	}
}
