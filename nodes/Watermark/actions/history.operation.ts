import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import type { WatermarkContext } from '../helpers/context';
import { existingStream, forEachItem, streamParameter } from '../helpers/context';
import { streamProperty } from './common.descriptions';

const MAX_HISTORY_ROWS = 10_000;

export const description: INodeProperties[] = [
	streamProperty(['history']),
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		// An expression may give it as text ("5"): n8n converts it, or stops the node naming it.
		validateType: 'number',
		typeOptions: { minValue: 1, maxValue: MAX_HISTORY_ROWS },
		default: 50,
		description: 'Max number of results to return',
		displayOptions: { show: { operation: ['history'] } },
	},
];

/** History: the stream's changes, newest first, one item each. */
export async function execute(this: IExecuteFunctions, { store }: WatermarkContext): Promise<INodeExecutionData[]> {
	const output: INodeExecutionData[] = [];
	await forEachItem(
		this,
		(itemIndex) => `reading the history of stream "${String(this.getNodeParameter('stream', itemIndex, ''))}"`,
		async (itemIndex) => {
			const stream = streamParameter(this, itemIndex);
			const limit = Math.min(Math.max(Math.trunc(Number(this.getNodeParameter('limit', itemIndex))), 1), MAX_HISTORY_ROWS);
			await existingStream(store, stream);
			for (const entry of await store.history(stream, limit)) {
				output.push({ json: { ...entry }, pairedItem: { item: itemIndex } });
			}
		},
		(item) => output.push(item),
	);
	return output;
}
