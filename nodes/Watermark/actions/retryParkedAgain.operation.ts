import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { RetryListError } from '../../shared/core/retryList';
import type { WatermarkContext } from '../helpers/context';
import { existingStream, forEachItem, streamParameter } from '../helpers/context';
import { chosenOption } from '../../shared/itemParameter';
import { streamProperty } from './common.descriptions';

const show = (extra: Record<string, string[]> = {}) => ({ show: { operation: ['retryParkedAgain'], ...extra } });

/** What happens to the listed rows; read as one of its choices (chosenOption). */
const changeProperty: INodeProperties = {
	displayName: 'Change',
	name: 'change',
	type: 'options',
	options: [
		{ name: 'Retry Again', value: 'retryAgain', description: 'The next run tries the row again, with Max Attempts counted afresh' },
		{
			name: 'Remove From the List',
			value: 'remove',
			description: 'Forget the row: it is not sent again unless it changes in Contracting or the stream is rewound',
		},
	],
	default: 'retryAgain',
	displayOptions: show(),
};

const rowsProperty: INodeProperties = {
	displayName: 'Rows',
	name: 'rows',
	type: 'options',
	options: [
		{ name: 'Every Parked Row of the Stream', value: 'allParked' },
		{ name: 'One Row', value: 'oneRow', description: 'The row with the key given below, parked or not' },
	],
	default: 'allParked',
	displayOptions: show(),
};

export const description: INodeProperties[] = [
	streamProperty(['retryParkedAgain']),
	rowsProperty,
	{
		displayName: 'Key',
		name: 'key',
		type: 'json',
		default: '{ "CustomerNo": 1001 }',
		required: true,
		description: 'The "key" of the row as the Retry List operation shows it',
		displayOptions: show({ rows: ['oneRow'] }),
	},
	changeProperty,
];

function keyOf(value: unknown): Record<string, unknown> {
	let key = value;
	if (typeof value === 'string') {
		try {
			key = JSON.parse(value);
		} catch {
			key = undefined;
		}
	}
	if (!key || typeof key !== 'object' || Array.isArray(key) || Object.keys(key).length === 0) {
		throw new RetryListError('The key is not an object of key columns and values', 'Copy the "key" of the row from the Retry List operation\'s output, e.g. { "CustomerNo": 1001 }.');
	}
	return key as Record<string, unknown>;
}

/** Retry Parked Rows Again: puts parked rows (or one row) back to be retried, or takes them off the list. */
export async function execute(this: IExecuteFunctions, { store }: WatermarkContext): Promise<INodeExecutionData[]> {
	const output: INodeExecutionData[] = [];
	await forEachItem(
		this,
		(itemIndex) => `changing the retry list of stream "${String(this.getNodeParameter('stream', itemIndex, ''))}"`,
		async (itemIndex) => {
			const stream = streamParameter(this, itemIndex);
			const action = chosenOption<'retryAgain' | 'remove'>(this, changeProperty, itemIndex);
			// Any text but "oneRow" meant every parked row: a hand-edited "OneRow" with Remove emptied the stream's list.
			const keys = chosenOption(this, rowsProperty, itemIndex) === 'oneRow' ? [keyOf(this.getNodeParameter('key', itemIndex))] : undefined;
			await existingStream(store, stream);
			const changed = await store.changeRetryEntries(stream, keys, action);
			const what = keys ? `the row ${JSON.stringify(keys[0])}` : 'every parked row';
			const message =
				changed === 0
					? `Stream "${stream}": ${keys ? `${what} is not in the retry list` : 'no row is parked'}; nothing changed.`
					: action === 'remove'
						? `Stream "${stream}": ${changed} row(s) taken off the retry list (${what}).`
						: `Stream "${stream}": ${changed} row(s) will be tried again by the next run (${what}).`;
			output.push({ json: { stream, action, changed, message }, pairedItem: { item: itemIndex } });
		},
		(item) => output.push(item),
	);
	return output;
}
