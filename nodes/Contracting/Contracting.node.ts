import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { PICKER_VERSION } from '../shared/columnPicker';
import * as countChanges from './actions/countChanges.operation';
import * as readChanges from './actions/readChanges.operation';
import { router } from './actions/router';
import { credentialTest, listSearch, loadOptions } from './methods';

export class Contracting implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Visma Contracting',
		name: 'contracting',
		icon: { light: 'file:contracting.svg', dark: 'file:contracting.dark.svg' },
		group: ['input'],
		version: [1, PICKER_VERSION],
		defaultVersion: PICKER_VERSION,
		subtitle:
			'={{ ($parameter["operation"] === "countChanges" ? "Count changes: " : "Read changes: ") + ($parameter["streamPreset"] === "custom" ? $parameter["streamName"] : $parameter["streamPreset"]) }}',
		description: 'Read the customers and orders changed in Visma Contracting since a watermark',
		defaults: { name: 'Visma Contracting' },
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'contractingSqlServerApi', required: true, testedBy: 'sqlServerConnectionTest' }],
		properties: [
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				options: [
					{
						name: 'Count Changes Since Watermark',
						value: 'countChanges',
						description: 'Count the rows Read Changes would send from the watermark now, without reading them',
						action: 'Count changes since watermark',
					},
					{
						name: 'Read Changes Since Watermark',
						value: 'readChanges',
						description: 'Read the rows changed since the watermark, in order, in batches',
						action: 'Read changes since watermark',
					},
				],
				default: 'readChanges',
			},
			...readChanges.description,
			...countChanges.description,
		],
	};

	methods = { credentialTest, listSearch, loadOptions };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
