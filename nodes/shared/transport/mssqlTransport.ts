/**
 * The only module that talks to SQL Server. Everything above it speaks SqlTransport.
 */
import * as mssql from 'mssql';

import type { ConnectionSettings } from './connectionSettings';
import { describeTarget, poolKey, redactSecrets } from './connectionSettings';
import { IdleClosingCache } from './idleClosingCache';
import { retrying } from './retryingTransport';
import { assertSendable } from './sendableParameters';
import type { SqlRequest, SqlResult, SqlTransport, SqlType } from './types';

/** A pool not used for this long is closed, so an idle n8n holds no connections to the customer's server. */
export const POOL_IDLE_CLOSE_MS = 5 * 60_000;

const pools = new IdleClosingCache<mssql.ConnectionPool>(async (pool) => await pool.close(), POOL_IDLE_CLOSE_MS);

function mssqlConfig(settings: ConnectionSettings): mssql.config {
	const windowsLogin = settings.domain !== '';
	return {
		server: settings.server,
		port: settings.port,
		database: settings.database,
		connectionTimeout: settings.connectTimeoutMs,
		requestTimeout: settings.requestTimeoutMs,
		pool: { max: 4, min: 0, idleTimeoutMillis: 30_000 },
		options: {
			encrypt: settings.encrypt,
			trustServerCertificate: settings.trustServerCertificate,
			enableArithAbort: true,
			useUTC: true,
		},
		...(windowsLogin
			? {
					authentication: {
						type: 'ntlm',
						options: { userName: settings.user, password: settings.password, domain: settings.domain },
					},
				}
			: { user: settings.user, password: settings.password }),
	};
}

async function connectedPool(settings: ConnectionSettings): Promise<mssql.ConnectionPool> {
	return await pools.get(poolKey(settings), async () => await new mssql.ConnectionPool(mssqlConfig(settings)).connect());
}

function mssqlType(type: SqlType): mssql.ISqlType | (() => mssql.ISqlType) {
	const length = type.length === -1 ? mssql.MAX : type.length;
	switch (type.name) {
		case 'bit':
			return mssql.Bit;
		case 'tinyint':
			return mssql.TinyInt;
		case 'smallint':
			return mssql.SmallInt;
		case 'int':
			return mssql.Int;
		case 'bigint':
			return mssql.BigInt;
		case 'decimal':
			return mssql.Decimal(type.precision ?? 18, type.scale ?? 0);
		case 'numeric':
			return mssql.Numeric(type.precision ?? 18, type.scale ?? 0);
		case 'money':
			return mssql.Money;
		case 'float':
			return mssql.Float;
		case 'real':
			return mssql.Real;
		case 'date':
			return mssql.Date;
		case 'time':
			return mssql.Time(type.scale ?? 7);
		case 'datetime':
			return mssql.DateTime;
		case 'datetime2':
			return mssql.DateTime2(type.scale ?? 7);
		case 'smalldatetime':
			return mssql.SmallDateTime;
		case 'datetimeoffset':
			return mssql.DateTimeOffset(type.scale ?? 7);
		case 'char':
			return mssql.Char(length ?? 1);
		case 'varchar':
			return mssql.VarChar(length ?? mssql.MAX);
		case 'nchar':
			return mssql.NChar(length ?? 1);
		case 'nvarchar':
			return mssql.NVarChar(length ?? mssql.MAX);
		case 'uniqueidentifier':
			return mssql.UniqueIdentifier;
		case 'binary':
		case 'rowversion':
			return mssql.Binary;
		case 'varbinary':
			return mssql.VarBinary(length ?? mssql.MAX);
	}
}

function singleAttempt(settings: ConnectionSettings): SqlTransport {
	return {
		async execute(request: SqlRequest): Promise<SqlResult> {
			assertSendable(request);
			const pool = await connectedPool(settings);
			const mssqlRequest = pool.request();
			for (const parameter of request.parameters) {
				mssqlRequest.input(parameter.name, mssqlType(parameter.type), parameter.value);
			}
			const result = await mssqlRequest.query(request.text);
			const recordsets = (result.recordsets as unknown as Array<Array<Record<string, unknown>>>) ?? [];
			return { recordsets: recordsets.map((set) => [...set]), rowsAffected: result.rowsAffected };
		},
	};
}

export function mssqlTransport(settings: ConnectionSettings): SqlTransport {
	return retrying(singleAttempt(settings), {
		target: describeTarget(settings),
		redact: (message) => redactSecrets(message, settings),
	});
}

/** For shutdown: closes every pool now. */
export async function closeAllPools(): Promise<void> {
	await pools.closeAll();
}
