import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

/**
 * MSSQL_URL names the SQL Server the integration suite and the benchmark run against, in one line that fits an
 * environment variable, e.g. `mssql://sa:Passw0rd!@localhost:1433?encrypt=false&trustServerCertificate=true`.
 * It becomes the same credential data a partner types into the Contracting and CRM credentials, so the tests
 * reach SQL Server through exactly the code path the nodes use. The database is chosen per test.
 */
export interface MssqlUrl {
	server: string;
	port: number;
	user: string;
	password: string;
	/** Set for a Windows (NTLM) login. */
	domain: string;
	encrypt: boolean;
	trustServerCertificate: boolean;
	connectTimeout: number;
	requestTimeout: number;
	/** The database in the URL's path, if it names one. */
	database?: string;
}

export const MSSQL_URL_FORM =
	'mssql://user:password@host:1433/database?encrypt=false&trustServerCertificate=true (percent-encode @ # / ? % : in the password)';

/** Says what is wrong with MSSQL_URL without repeating it, since it holds a password. */
export class MssqlUrlError extends Error {
	constructor(reason: string) {
		super(`MSSQL_URL ${reason}. Expected ${MSSQL_URL_FORM}`);
		this.name = 'MssqlUrlError';
	}
}

const DEFAULT_PORT = 1433;

type Option = 'encrypt' | 'trustServerCertificate' | 'connectTimeout' | 'requestTimeout' | 'domain';
const OPTIONS: readonly Option[] = ['encrypt', 'trustServerCertificate', 'connectTimeout', 'requestTimeout', 'domain'];

function decoded(part: string, what: string): string {
	let text: string | undefined;
	try {
		text = decodeURIComponent(part);
	} catch {
		text = undefined;
	}
	if (text === undefined) throw new MssqlUrlError(`has a malformed percent-encoding in its ${what}`);
	return text;
}

function booleanOption(name: Option, value: string | null, fallback: boolean): boolean {
	if (value === null) return fallback;
	if (value === 'true') return true;
	if (value === 'false') return false;
	throw new MssqlUrlError(`option ${name} must be true or false, not "${value}"`);
}

function millisecondsOption(name: Option, value: string | null, fallback: number): number {
	if (value === null) return fallback;
	if (!/^[1-9]\d*$/.test(value)) throw new MssqlUrlError(`option ${name} must be a positive whole number of milliseconds`);
	return Number(value);
}

function parsedUrl(text: string): URL {
	// URL.canParse is Node 19.9+; the error new URL() throws would carry the input, password included.
	if (!URL.canParse(text)) throw new MssqlUrlError('is not a URL');
	return new URL(text);
}

export function parseMssqlUrl(text: string): MssqlUrl {
	const url = parsedUrl(text.trim());
	if (url.protocol !== 'mssql:') throw new MssqlUrlError('must start with mssql://');
	if (url.hash !== '') throw new MssqlUrlError('contains a # (write it as %23 in the password)');
	const server = url.hostname.replace(/^\[(.*)\]$/, '$1');
	if (server === '') throw new MssqlUrlError('names no host');
	const user = decoded(url.username, 'user');
	if (user === '') throw new MssqlUrlError('names no user');
	const unknown = [...url.searchParams.keys()].filter((key) => !OPTIONS.includes(key as Option));
	if (unknown.length > 0) {
		throw new MssqlUrlError(`has unknown option ${unknown.join(', ')} (known: ${OPTIONS.join(', ')})`);
	}
	const option = (name: Option) => url.searchParams.get(name);
	const path = decoded(url.pathname.replace(/^\//, ''), 'database');
	if (path.includes('/')) throw new MssqlUrlError('names more than one database in its path');
	return {
		server,
		port: url.port === '' ? DEFAULT_PORT : Number(url.port),
		user,
		password: decoded(url.password, 'password'),
		domain: option('domain') ?? '',
		encrypt: booleanOption('encrypt', option('encrypt'), true),
		trustServerCertificate: booleanOption('trustServerCertificate', option('trustServerCertificate'), false),
		connectTimeout: millisecondsOption('connectTimeout', option('connectTimeout'), 15_000),
		requestTimeout: millisecondsOption('requestTimeout', option('requestTimeout'), 60_000),
		...(path === '' ? {} : { database: path }),
	};
}

/** The data of a contractingSqlServerApi / crmSqlServerApi credential for one database on the server. */
export function credentialData(url: MssqlUrl, database: string): ICredentialDataDecryptedObject {
	return {
		server: url.server,
		port: url.port,
		database,
		user: url.user,
		password: url.password,
		domain: url.domain,
		encrypt: url.encrypt,
		trustServerCertificate: url.trustServerCertificate,
		connectTimeout: url.connectTimeout,
		requestTimeout: url.requestTimeout,
	};
}

/** Where MSSQL_URL points, for messages: login and server, never the password. */
export function describeMssqlUrl(url: MssqlUrl): string {
	const login = url.domain === '' ? url.user : `${url.domain}\\${url.user}`;
	return `${login}@${url.server}:${url.port}`;
}
