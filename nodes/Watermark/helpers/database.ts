import type { IExecuteFunctions } from 'n8n-workflow';

import { chosenOption } from '../../shared/itemParameter';
import type { SqlServerCredentialName } from '../../shared/transport/connect';
import { CONTRACTING_CREDENTIAL, CRM_CREDENTIAL } from '../../shared/transport/connect';
import { databaseProperty } from '../actions/common.descriptions';

/** The "Database" parameter: the watermark tables may live in either database, with its credential. */
export function credentialOf(database: string): SqlServerCredentialName {
	return database === 'contracting' ? CONTRACTING_CREDENTIAL : CRM_CREDENTIAL;
}

/**
 * The credential of the database a running node keeps its watermark in. A hand-edited "Contracting" would otherwise
 * be read as CRM: another watermark table, a stream started again from its starting point.
 */
export function watermarkCredentialOf(context: IExecuteFunctions): SqlServerCredentialName {
	return credentialOf(chosenOption(context, databaseProperty, 0));
}

export function databaseLabel(database: string): string {
	return database === 'contracting' ? 'Contracting' : 'CRM';
}
