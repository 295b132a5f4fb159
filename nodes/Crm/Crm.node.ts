import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { PICKER_VERSION } from '../shared/columnPicker';
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
		version: [1, PICKER_VERSION],
		defaultVersion: PICKER_VERSION,
		subtitle: '={{ "Insert or update " + ($parameter["target"] === "table" ? "rows" : $parameter["target"]) }}',
		description: 'Insert or update customers and orders in Visma CRM (SQL Server), in set-based batches',
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
						name: 'Insert or Update',
						value: 'upsert',
						description: 'Insert a new row, or update the row with the same key if CRM already has it (upsert)',
						action: 'Insert or update rows in CRM',
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
