import type { INodeProperties } from 'n8n-workflow';

export type WatermarkOperation = 'get' | 'set' | 'rewind' | 'history' | 'undoLastRewind' | 'retryList' | 'retryParkedAgain' | 'status' | 'recordRun';

export const databaseProperty: INodeProperties = {
	displayName: 'Database',
	name: 'database',
	type: 'options',
	noDataExpression: true,
	options: [
		{ name: 'CRM', value: 'crm', description: 'Keep the watermark in the Visma CRM database (its login can already write)' },
		{ name: 'Contracting', value: 'contracting', description: 'Keep the watermark in the Visma Contracting database' },
	],
	default: 'crm',
	description: 'Which database holds the watermark tables. Use the same on every Watermark node of a sync and its rewind workflow.',
};

export const tablesProperty: INodeProperties = {
	displayName: 'Watermark Tables',
	name: 'tables',
	type: 'collection',
	placeholder: 'Change Table Names',
	default: {},
	description: 'Where the watermark and its history are kept. Created on first use; use the same on every Watermark node of a sync.',
	options: [
		{
			displayName: 'Watermark Table',
			name: 'watermarkTable',
			type: 'string',
			default: 'dbo.ContractingCrmWatermark',
			description: 'Schema and name of the table with one row per stream',
		},
		{
			displayName: 'History Table',
			name: 'historyTable',
			type: 'string',
			default: '',
			placeholder: 'e.g. dbo.ContractingCrmWatermarkHistory',
			description: 'Schema and name of the table with every change of every stream. Empty: the watermark table\'s name followed by "History".',
		},
		{
			displayName: 'Retry Table',
			name: 'retryTable',
			type: 'string',
			default: '',
			placeholder: 'e.g. dbo.ContractingCrmWatermarkRetry',
			description: 'Schema and name of the table with the rows CRM refused (the retry list), created when the first row is refused. Empty: the watermark table\'s name followed by "Retry".',
		},
	],
};

export function streamProperty(operations: WatermarkOperation[], extraShow: Record<string, string[]> = {}): INodeProperties {
	return {
		displayName: 'Stream',
		name: 'stream',
		type: 'string',
		default: 'customers',
		required: true,
		placeholder: 'e.g. customers',
		description: 'The stream name the Contracting node uses: customers, orders, or the name of a custom stream',
		displayOptions: { show: { operation: operations, ...extraShow } },
	};
}
