import type { ICredentialDataDecryptedObject, IExecuteFunctions, ILoadOptionsFunctions } from 'n8n-workflow';

import { credentialMissingError, isCredentialMissing, toNodeError } from '../nodeErrors';
import { sqlTransportSeam } from '../seams';
import type { SchemaCache } from '../schemaCache';
import { schemaCacheOf } from '../schemaCache';
import type { ConnectionSettings } from './connectionSettings';
import { connectionSettingsFromCredentials } from './connectionSettings';
import type { SqlTransport } from './types';

export const CONTRACTING_CREDENTIAL = 'contractingSqlServerApi';
export const CRM_CREDENTIAL = 'crmSqlServerApi';
export type SqlServerCredentialName = typeof CONTRACTING_CREDENTIAL | typeof CRM_CREDENTIAL;

export interface SqlConnection {
	transport: SqlTransport;
	settings: ConnectionSettings;
	/** What this pool's executions already know of the database's schema (see schemaCache.ts). */
	schema: SchemaCache;
}

export function connectWith(data: ICredentialDataDecryptedObject): SqlConnection {
	const settings = connectionSettingsFromCredentials(data);
	const factory = sqlTransportSeam.current;
	return { transport: factory(settings), settings, schema: schemaCacheOf(factory, settings) };
}

export async function connect(
	context: IExecuteFunctions | ILoadOptionsFunctions,
	credentialName: SqlServerCredentialName,
): Promise<SqlConnection> {
	let data: ICredentialDataDecryptedObject;
	try {
		data = await context.getCredentials(credentialName);
	} catch (error) {
		// An imported workflow brings only a reference: n8n's "Credential with ID … does not exist" helps no partner.
		if (isCredentialMissing(error)) throw credentialMissingError(context.getNode(), credentialName);
		throw toNodeError(context.getNode(), error, { doing: 'reading the credential' });
	}
	return connectWith(data);
}
