import type { ICredentialDataDecryptedObject } from 'n8n-workflow';
import { createHash } from 'node:crypto';

/** What a Contracting or CRM credential says about how to reach its SQL Server. */
export interface ConnectionSettings {
	server: string;
	port: number;
	database: string;
	user: string;
	password: string;
	/** Set for a Windows (NTLM) login; empty for a SQL Server login. */
	domain: string;
	encrypt: boolean;
	trustServerCertificate: boolean;
	connectTimeoutMs: number;
	requestTimeoutMs: number;
}

function text(value: unknown, fallback: string): string {
	return typeof value === 'string' && value.trim() !== '' ? value.trim() : fallback;
}

function positiveNumber(value: unknown, fallback: number): number {
	const parsed = typeof value === 'number' ? value : Number(value);
	return Number.isFinite(parsed) && parsed > 0 ? parsed : fallback;
}

export function connectionSettingsFromCredentials(data: ICredentialDataDecryptedObject): ConnectionSettings {
	return {
		server: text(data.server, 'localhost'),
		port: positiveNumber(data.port, 1433),
		database: text(data.database, 'master'),
		user: text(data.user, ''),
		password: typeof data.password === 'string' ? data.password : '',
		domain: text(data.domain, ''),
		encrypt: data.encrypt !== false,
		trustServerCertificate: data.trustServerCertificate === true,
		connectTimeoutMs: positiveNumber(data.connectTimeout, 15_000),
		requestTimeoutMs: positiveNumber(data.requestTimeout, 60_000),
	};
}

/** Names the server and database a credential points at, for messages; never the login or password. */
export function describeTarget(settings: ConnectionSettings): string {
	return `${settings.server}:${settings.port}, database ${settings.database}`;
}

/** One pool per distinct credential content; the hash keeps the password out of the key. */
export function poolKey(settings: ConnectionSettings): string {
	return createHash('sha256').update(JSON.stringify(settings)).digest('hex');
}

/** Replaces every occurrence of a secret in a message, so a password that a driver echoes is never shown. */
export function redactSecrets(message: string, settings: ConnectionSettings): string {
	const secret = settings.password;
	if (secret.length === 0) return message;
	return message.split(secret).join('•••');
}
