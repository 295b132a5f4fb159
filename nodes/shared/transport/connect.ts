import type { ICredentialDataDecryptedObject, IExecuteFunctions, ILoadOptionsFunctions } from 'n8n-workflow';

import { sqlTransportSeam } from '../seams';
import type { ConnectionSettings } from './connectionSettings';
import { connectionSettingsFromCredentials } from './connectionSettings';
import type { SqlTransport } from './types';

export const CONTRACTING_CREDENTIAL = 'contractingSqlServerApi';
export const CRM_CREDENTIAL = 'crmSqlServerApi';
export type SqlServerCredentialName = typeof CONTRACTING_CREDENTIAL | typeof CRM_CREDENTIAL;

export interface SqlConnection {
	transport: SqlTransport;
	settings: ConnectionSettings;
}

export function connectWith(data: ICredentialDataDecryptedObject): SqlConnection {
	const settings = connectionSettingsFromCredentials(data);
	return { transport: sqlTransportSeam.current(settings), settings };
}

export async function connect(
	context: IExecuteFunctions | ILoadOptionsFunctions,
	credentialName: SqlServerCredentialName,
): Promise<SqlConnection> {
	return connectWith(await context.getCredentials(credentialName));
}
