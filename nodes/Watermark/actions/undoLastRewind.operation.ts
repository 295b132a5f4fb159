import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import { RewindInputError, rewindToUndo } from '../../shared/core/rewind';
import type { WatermarkContext } from '../helpers/context';
import { existingStream, forEachItem, isLeaseLive, streamParameter } from '../helpers/context';
import { replaceWithRetry } from '../helpers/replace';
import type { StreamState, WatermarkStore } from '../stores/watermarkStore';
import { streamProperty } from './common.descriptions';

export const description: INodeProperties[] = [
	streamProperty(['undoLastRewind']),
	{
		displayName: 'Reason',
		name: 'undoReason',
		type: 'string',
		default: 'Undone by support',
		required: true,
		description: 'Why, for the history',
		displayOptions: { show: { operation: ['undoLastRewind'] } },
	},
];

async function undoPlan(store: WatermarkStore, state: StreamState) {
	const rewind = rewindToUndo(await store.rewindsAndUndos(state.stream));
	if (!rewind) {
		throw new RewindInputError(`Stream "${state.stream}" has no rewind left to undo`);
	}
	return { cursor: rewind.oldCursor, how: `Undid the rewind of ${rewind.changedAt} (UTC)${rewind.reason ? ` ("${rewind.reason}")` : ''}` };
}

/**
 * Undo Last Rewind: puts back the cursor from before the latest rewind not undone yet (undoing again reaches
 * the rewind before it). It is recorded in the history as an undo and, like a rewind, wins over a running Set.
 */
export async function execute(this: IExecuteFunctions, { store, audit }: WatermarkContext): Promise<INodeExecutionData[]> {
	const output: INodeExecutionData[] = [];
	await forEachItem(
		this,
		(itemIndex) => `undoing the last rewind of stream "${String(this.getNodeParameter('stream', itemIndex, ''))}"`,
		async (itemIndex) => {
			const stream = streamParameter(this, itemIndex);
			const reason = String(this.getNodeParameter('undoReason', itemIndex) ?? '').trim();
			if (reason === '') throw new RewindInputError('Give a reason for the undo; it is kept in the history');
			const state = await existingStream(store, stream);
			const plan = await undoPlan(store, state);
			const result = await replaceWithRetry(store, state, (fresh) => undoPlan(store, fresh), 'undo', `${reason}. ${plan.how}`, audit, plan);
			const runInProgress = isLeaseLive(state, new Date()) ? state.leaseOwner : null;
			output.push({
				json: {
					stream,
					previousCursor: result.previous.cursor,
					cursor: result.state.cursor,
					moved: true,
					how: result.plan.how,
					reason,
					runInProgress,
					message: `Stream "${stream}": ${result.plan.how}. The watermark is back where it was before that rewind.${runInProgress ? ` A run ("${runInProgress}") holds the stream now: it will not store its position.` : ''}`,
				},
				pairedItem: { item: itemIndex },
			});
		},
		(item) => output.push(item),
	);
	return output;
}
