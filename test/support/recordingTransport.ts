import { replaceSeam, sqlTransportSeam } from '../../nodes/shared/seams';
import { retrying } from '../../nodes/shared/transport/retryingTransport';
import { assertSendable } from '../../nodes/shared/transport/sendableParameters';
import type { SqlRequest, SqlResult, SqlTransport } from '../../nodes/shared/transport/types';
import type { ConnectionSettings } from '../../nodes/shared/transport/connectionSettings';
import { describeTarget, redactSecrets } from '../../nodes/shared/transport/connectionSettings';

export type Responder = (request: SqlRequest, index: number) => SqlResult | Promise<SqlResult>;

export interface InjectedFault {
	/** SQL Server error number, e.g. 1205 for a deadlock victim. */
	number?: number;
	/** Driver code, e.g. 'ESOCKET' for a lost connection, 'ETIMEOUT' for a request timeout. */
	code?: string;
	message?: string;
	/** Errors SQL Server sent before this one in the same request (mssql's precedingErrors), e.g. a trigger's RAISERROR before 3609. */
	preceding?: InjectedFault[];
}

export const emptyResult = (): SqlResult => ({ recordsets: [], rowsAffected: [] });

export function resultOf(...recordsets: Array<Array<Record<string, unknown>>>): SqlResult {
	return { recordsets, rowsAffected: recordsets.map((set) => set.length) };
}

/** Builds an error shaped like the ones mssql throws (RequestError / ConnectionError). */
export function sqlServerError(fault: InjectedFault): Error {
	const error = new Error(fault.message ?? `Injected SQL Server error ${fault.number ?? fault.code}`) as Error & {
		number?: number;
		code?: string;
	};
	error.name = fault.number !== undefined ? 'RequestError' : 'ConnectionError';
	error.number = fault.number;
	error.code = fault.code ?? (fault.number !== undefined ? 'EREQUEST' : undefined);
	if (fault.preceding) (error as Error & { precedingErrors?: Error[] }).precedingErrors = fault.preceding.map(sqlServerError);
	return error;
}

/**
 * The transport test double: records every request (text, parameters) and answers from a responder. It can be
 * told to fail the Nth request (1-based, counting every attempt) with a given SQL Server error, and can model a
 * round-trip latency.
 */
export class RecordingSqlTransport implements SqlTransport {
	readonly requests: SqlRequest[] = [];
	private readonly faults = new Map<number, InjectedFault>();
	private count = 0;

	/** `keepRequests: false` counts round trips without keeping copies (the benchmark sends a million rows through it). */
	constructor(
		private readonly responder: Responder = () => emptyResult(),
		private readonly latencyMs = 0,
		private readonly options: { keepRequests?: boolean } = {},
	) {}

	get roundTrips(): number {
		return this.count;
	}

	failOn(requestNumber: number, fault: InjectedFault): this {
		this.faults.set(requestNumber, fault);
		return this;
	}

	async execute(request: SqlRequest): Promise<SqlResult> {
		if (this.options.keepRequests !== false) this.requests.push(structuredClone(request));
		// What the real transport refuses before sending, the double refuses too: tests see the same error.
		assertSendable(request);
		const requestNumber = ++this.count;
		if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
		const fault = this.faults.get(requestNumber);
		if (fault) throw sqlServerError(fault);
		return await this.responder(request, requestNumber - 1);
	}
}

export const noSleep = async () => undefined;

/** The double as the production code sees it: behind the same bounded retry as the mssql transport. */
export function asProductionTransport(double: SqlTransport, settings: ConnectionSettings): SqlTransport {
	return retrying(double, {
		target: describeTarget(settings),
		redact: (message) => redactSecrets(message, settings),
		sleep: noSleep,
	});
}

/** Plugs the double into the nodes through the transport seam; returns the settings each connection asked for. */
export function useRecordingTransport(double: RecordingSqlTransport): ConnectionSettings[] {
	const opened: ConnectionSettings[] = [];
	replaceSeam(sqlTransportSeam, (settings) => {
		opened.push(settings);
		return asProductionTransport(double, settings);
	});
	return opened;
}
