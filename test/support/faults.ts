/**
 * Faults for the model-based sync test: a wrapper around a store (any object whose methods return promises) that
 * throws a SqlServerRequestError on the Nth call, as the transport does once its retries are spent. A fault
 * "before" the call means the request never reached SQL Server (nothing changed); "after" means it was carried
 * out but its answer was lost (the connection dropped on the way back), e.g. a Set that committed although the
 * run never heard so; "twice" means the answer was lost and the transport's retry sent the same request again
 * (a retried timeout), so it is carried out twice and the second answer is the one the node gets.
 */
import { SqlServerRequestError } from '../../nodes/shared/transport/sqlServerError';

export type FaultKind = 'connection lost' | 'deadlock' | 'timeout';
export type StoreName = 'contracting' | 'crm' | 'watermark';

export interface Fault {
	store: StoreName;
	/** 1-based, counting the calls the store gets after `arm`. */
	call: number;
	kind: FaultKind;
	when: 'before' | 'after' | 'twice';
}

export function faultError(kind: FaultKind, store: StoreName): SqlServerRequestError {
	const info =
		kind === 'deadlock'
			? { number: 1205, message: 'Transaction (Process ID 57) was deadlocked on lock resources with another process and has been chosen as the deadlock victim. Rerun the transaction.' }
			: kind === 'timeout'
				? { code: 'ETIMEOUT', message: 'Timeout: Request failed to complete in 30000ms' }
				: { code: 'ESOCKET', message: 'Connection lost - read ECONNRESET' };
	return new SqlServerRequestError(info, `${store} (injected fault)`, 3);
}

/** Counts the calls each wrapped store gets and fails the ones the armed faults name. */
export class FaultInjector {
	private faults: Fault[] = [];
	private readonly calls = new Map<StoreName, number>();
	/** Faults that fired, for the failure report. */
	readonly fired: Fault[] = [];

	arm(faults: Fault[]): void {
		this.faults = faults;
		this.calls.clear();
	}

	disarm(): void {
		this.arm([]);
	}

	/** The store as the nodes see it: every method in `methods` may fail as armed. */
	wrap<T extends object>(store: T, name: StoreName, methods: readonly string[]): T {
		return new Proxy(store, {
			get: (target, property, receiver) => {
				const value = Reflect.get(target, property, receiver) as unknown;
				if (typeof value !== 'function' || typeof property !== "string" || !methods.includes(property)) return value;
				return async (...args: unknown[]) => {
					const number = (this.calls.get(name) ?? 0) + 1;
					this.calls.set(name, number);
					const fault = this.faults.find((candidate) => candidate.store === name && candidate.call === number);
					if (fault?.when === 'before') {
						this.fired.push(fault);
						throw faultError(fault.kind, name);
					}
					const call = () => (value as (...parameters: unknown[]) => Promise<unknown>).apply(target, args);
					const result = (await call()) as unknown;
					if (fault?.when === 'after') {
						this.fired.push(fault);
						throw faultError(fault.kind, name);
					}
					if (fault?.when === 'twice') {
						this.fired.push(fault);
						return (await call()) as unknown;
					}
					return result;
				};
			},
		});
	}
}
