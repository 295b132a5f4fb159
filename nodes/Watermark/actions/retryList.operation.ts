import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import type { WatermarkContext } from '../helpers/context';
import { existingStream, forEachItem, streamParameter } from '../helpers/context';
import { streamProperty } from './common.descriptions';

export const description: INodeProperties[] = [
	streamProperty(['retryList']),
	{
		displayName: 'Include Parked Rows',
		name: 'includeParked',
		type: 'boolean',
		// An expression may give it as text ("true"): n8n converts it, or stops the node naming it.
		validateType: 'boolean',
		default: true,
		description: 'Whether to list the rows that reached Max Attempts too (they are no longer retried until "Retry Parked Rows Again")',
		displayOptions: { show: { operation: ['retryList'] } },
	},
];

/** Retry List: the rows CRM refused for the stream, one item each, least recently tried first. */
export async function execute(this: IExecuteFunctions, { store }: WatermarkContext): Promise<INodeExecutionData[]> {
	const output: INodeExecutionData[] = [];
	await forEachItem(
		this,
		(itemIndex) => `reading the retry list of stream "${String(this.getNodeParameter('stream', itemIndex, ''))}"`,
		async (itemIndex) => {
			const stream = streamParameter(this, itemIndex);
			const includeParked = this.getNodeParameter('includeParked', itemIndex, true) as boolean;
			await existingStream(store, stream);
			for (const entry of await store.retryList(stream)) {
				if (entry.parked && !includeParked) continue;
				output.push({ json: { ...entry, key: { ...entry.key } }, pairedItem: { item: itemIndex } });
			}
		},
		(item) => output.push(item),
	);
	return output;
}
