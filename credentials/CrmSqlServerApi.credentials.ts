import type { Icon, ICredentialType, INodeProperties } from 'n8n-workflow';

import { OPENJSON_MIN_COMPATIBILITY_LEVEL } from '../nodes/shared/core/upsertSql';
import { sqlServerCredentialProperties } from '../nodes/shared/sqlServerCredentialProperties';

export class CrmSqlServerApi implements ICredentialType {
	name = 'crmSqlServerApi';

	displayName = 'Visma CRM SQL Server API';

	icon: Icon = { light: 'file:../nodes/shared/contracting-crm.svg', dark: 'file:../nodes/shared/contracting-crm.dark.svg' };

	documentationUrl = 'https://github.com/contracting-crm/n8n-nodes-contracting-crm/blob/main/workflows/README.md#2-connect-the-credentials';

	// The editor answers a successful test with its own fixed text, so what the test finds about the level is said here.
	properties: INodeProperties[] = sqlServerCredentialProperties({
		databaseExample: 'CRM',
		notice: `The CRM node writes each batch in one request from database compatibility level ${OPENJSON_MIN_COMPATIBILITY_LEVEL} (SQL Server 2016 and later). Below it, writes take a slower path and the CRM node says so in a warning above its output.`,
	});
}
