import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { CRM_CREDENTIAL } from '../shared/transport/connect';
import { router } from './actions/router';
import { upsertProperties } from './actions/upsert.description';
import { listSearch, loadOptions, resourceMapping, sqlServerConnectionTest } from './methods';

export class Crm implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Visma CRM',
		name: 'crm',
		icon: { light: 'file:crm.svg', dark: 'file:crm.dark.svg' },
		group: ['output'],
		version: 1,
		subtitle: '={{ $parameter["target"] === "table" ? "Upsert into table" : "Upsert " + $parameter["target"] }}',
		description: 'Upsert customers and orders into Visma CRM (SQL Server), in set-based batches',
		defaults: { name: 'Visma CRM' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: CRM_CREDENTIAL, required: true, testedBy: 'sqlServerConnectionTest' }],
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{
						name: 'Create or Update',
						value: 'upsert',
						description: 'Create a new record, or update the current one if it already exists (upsert)',
						action: 'Upsert rows',
					},
				],
				default: 'upsert',
			},
			...upsertProperties,
		],
	};

	methods = {
		credentialTest: { sqlServerConnectionTest },
		listSearch,
		loadOptions,
		resourceMapping,
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
