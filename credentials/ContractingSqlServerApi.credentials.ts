import type { Icon, ICredentialType, INodeProperties } from 'n8n-workflow';

import { sqlServerCredentialProperties } from '../nodes/shared/sqlServerCredentialProperties';

export class ContractingSqlServerApi implements ICredentialType {
	name = 'contractingSqlServerApi';

	displayName = 'Visma Contracting SQL Server API';

	icon: Icon = { light: 'file:../nodes/shared/contracting-crm.svg', dark: 'file:../nodes/shared/contracting-crm.dark.svg' };

	documentationUrl = 'https://github.com/contracting-crm/n8n-nodes-contracting-crm/blob/main/workflows/README.md#2-connect-the-credentials';

	properties: INodeProperties[] = sqlServerCredentialProperties({ databaseExample: 'CONTRACTING' });
}
