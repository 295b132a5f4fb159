import type { SqlServerCredentialName } from '../../shared/transport/connect';
import { CONTRACTING_CREDENTIAL, CRM_CREDENTIAL } from '../../shared/transport/connect';

/** The "Database" parameter: the watermark tables may live in either database, with its credential. */
export function credentialOf(database: string): SqlServerCredentialName {
	return database === 'contracting' ? CONTRACTING_CREDENTIAL : CRM_CREDENTIAL;
}

export function databaseLabel(database: string): string {
	return database === 'contracting' ? 'Contracting' : 'CRM';
}
