import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import type { WatermarkContext } from '../helpers/context';
import { forEachItem, streamParameter } from '../helpers/context';
import { chosenOption } from '../../shared/itemParameter';
import { streamProperty } from './common.descriptions';

const show = (extra: Record<string, string[]> = {}) => ({ show: { operation: ['recordRun'], ...extra } });

const runEventProperty: INodeProperties = {
	displayName: 'Event',
	name: 'runEvent',
	type: 'options',
	options: [
		{ name: 'Run Started', value: 'started', description: 'Before the stream\'s first batch' },
		{ name: 'Run Finished', value: 'finished', description: 'After the stream\'s last batch, with the run\'s summary' },
	],
	default: 'finished',
	description: 'What to record. A start with no finish after it shows in Status as a run that did not finish.',
	displayOptions: show(),
};

export const description: INodeProperties[] = [
	streamProperty(['recordRun']),
	runEventProperty,
	{
		displayName: 'Advanced',
		name: 'advanced',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		description: 'Only where the run\'s summary is not the input item; the default works',
		displayOptions: show({ runEvent: ['finished'] }),
		options: [
			{
				displayName: 'Summary',
				name: 'summary',
				type: 'json',
				default: '={{ $json }}',
				description: "The run's summary (a JSON object), shown by Status as the last run's summary. Without this setting: the input item, as the sync's summary nodes give it.",
			},
		],
	},
];

function summaryOf(context: IExecuteFunctions, itemIndex: number): Record<string, unknown> {
	const advanced = context.getNodeParameter('advanced', itemIndex, {}) as IDataObject;
	const value = 'summary' in advanced ? (advanced.summary as unknown) : context.getInputData()[itemIndex]?.json;
	const parsed = typeof value === 'string' ? (value.trim() === '' ? {} : (JSON.parse(value) as unknown)) : value;
	if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
		throw new NodeOperationError(context.getNode(), 'Summary must be a JSON object', { itemIndex, description: 'Remove Advanced → Summary: the node then records its input item, the summary item of the run.' });
	}
	return parsed as Record<string, unknown>;
}

/**
 * Record Run: keeps the stream's latest run start, or finish with its summary, for the Status operation.
 * Passes its input items on unchanged, so it can sit between any two nodes of a workflow.
 */
export async function execute(this: IExecuteFunctions, { store, audit }: WatermarkContext): Promise<INodeExecutionData[]> {
	const output: INodeExecutionData[] = [];
	const items = this.getInputData();
	await forEachItem(
		this,
		(itemIndex) => `recording a run of stream "${String(this.getNodeParameter('stream', itemIndex, ''))}"`,
		async (itemIndex) => {
			const stream = streamParameter(this, itemIndex);
			const event = chosenOption<'started' | 'finished'>(this, runEventProperty, itemIndex);
			await store.recordRun({ stream, event, ...(event === 'finished' ? { summary: summaryOf(this, itemIndex) } : {}), audit });
			output.push({ json: items[itemIndex].json as IDataObject, pairedItem: { item: itemIndex } });
		},
		(item) => output.push(item),
	);
	return output;
}
