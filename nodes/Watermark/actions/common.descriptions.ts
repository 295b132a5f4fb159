import type { INodeProperties } from 'n8n-workflow';

import { displayQualifiedName } from '../../shared/core/identifiers';
import { DEFAULT_WATERMARK_TABLES } from '../stores/watermarkStore';

const DEFAULT_WATERMARK_TABLE = displayQualifiedName(DEFAULT_WATERMARK_TABLES.state);

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
	description: 'Which database holds the watermark tables. Use the same on every Sync Watermark node of a sync and its rewind workflow.',
};

export const tablesProperty: INodeProperties = {
	displayName: 'Watermark Tables',
	name: 'tables',
	type: 'collection',
	placeholder: 'Add table name',
	// Not empty, so the editor shows where the watermark is kept instead of an empty "No properties".
	default: { watermarkTable: DEFAULT_WATERMARK_TABLE },
	description: 'Where the watermark, its history and the retry list are kept. Created on first use; use the same on every Sync Watermark node of a sync.',
	options: [
		{
			displayName: 'Watermark Table',
			name: 'watermarkTable',
			type: 'string',
			default: DEFAULT_WATERMARK_TABLE,
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
