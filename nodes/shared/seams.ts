import type { ConnectionSettings } from './transport/connectionSettings';
import { mssqlTransport } from './transport/mssqlTransport';
import type { SqlTransport } from './transport/types';

/**
 * The one place where tests swap what the nodes talk to. A seam holds the production implementation; a test
 * replaces it (the transport double, an in-memory store) and restores it afterwards. Nodes always go through
 * `seam.current`, so the shipped workflows run unchanged on either side of it.
 */
export interface Seam<T> {
	readonly name: string;
	readonly production: T;
	current: T;
}

const allSeams: Array<Seam<unknown>> = [];

export function defineSeam<T>(name: string, production: T): Seam<T> {
	const seam: Seam<T> = { name, production, current: production };
	allSeams.push(seam as Seam<unknown>);
	return seam;
}

export function replaceSeam<T>(seam: Seam<T>, replacement: T): void {
	seam.current = replacement;
}

export function restoreAllSeams(): void {
	for (const seam of allSeams) seam.current = seam.production;
}

export type TransportFactory = (settings: ConnectionSettings) => SqlTransport;

/** Opens the SQL transport for a credential: mssql in production, the recording double in tests. */
export const sqlTransportSeam = defineSeam<TransportFactory>('sqlTransport', mssqlTransport);
