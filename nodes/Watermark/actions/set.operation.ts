import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import {
	WrittenItemsError,
	decodeToken,
	explainSetOutcome,
	furthestWrittenCursor,
	leaseGoesWithThisSet,
	releasesLease,
	setOutcome,
	writtenItemOf,
} from '../../shared/core/watermark';
import { toNodeError } from '../../shared/nodeErrors';
import type { WatermarkContext } from '../helpers/context';
import { UnknownStreamError, errorJson } from '../helpers/context';

export const description: INodeProperties[] = [
	{
		displayName: 'Token From Get',
		name: 'token',
		// Not a secret: it only names the stream, generation and lease owner Get handed out, and it is set by an
		// expression that a password mask would hide.
		// eslint-disable-next-line n8n-nodes-base/node-param-type-options-password-missing
		type: 'string',
		default: '',
		required: true,
		placeholder: "e.g. {{ $('Get Watermark').first().json.token }}",
		description: 'The "token" field of the Get output of this run. Set stores only if nobody rewound or took over the stream since.',
		displayOptions: { show: { operation: ['set'] } },
	},
	{
		displayName: 'Options',
		name: 'setOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { operation: ['set'] } },
		options: [
			{
				displayName: 'Release Lease',
				name: 'releaseLease',
				type: 'boolean',
				default: true,
				description:
					'Whether to give the stream up for the next run now. Off keeps it only while another batch of this run follows (the rows reached the end of a batch and more wait); a run that is caught up, read nothing or stopped at a failed row always gives it up.',
			},
			{
				displayName: 'Allow Moving Backwards',
				name: 'allowMovingBackwards',
				type: 'boolean',
				default: false,
				description:
					'Whether to store even if the stream was rewound since Get, or these rows were not read from the stored watermark. Off keeps a rewind made during a run. Never stores without the lease.',
			},
		],
	},
];

/**
 * Set: one item for the whole input (paired with every input item): how far the written rows allow the watermark
 * to move, whether the store took it, and why not in plain words.
 */
export async function execute(this: IExecuteFunctions, { store, audit }: WatermarkContext): Promise<INodeExecutionData[]> {
	const items = this.getInputData();
	const pairedItem = items.map((_, item) => ({ item }));
	let failure: unknown;
	try {
		const token = decodeToken(String(this.getNodeParameter('token', 0) ?? ''));
		const options = this.getNodeParameter('setOptions', 0, {}) as { releaseLease?: boolean; allowMovingBackwards?: boolean };
		const progress = furthestWrittenCursor(items.map((item) => writtenItemOf(item.json)));
		const releaseLease = leaseGoesWithThisSet(options.releaseLease ?? true, progress);
		if (progress.stream !== undefined && progress.stream !== token.stream) {
			throw new WrittenItemsError(`The rows are of stream "${progress.stream}", but the token from Get is for stream "${token.stream}"`);
		}
		const move = progress.cursor === undefined ? undefined : { from: progress.startCursor ?? null, to: progress.cursor };
		const result = await store.commit({ token, move, allowBackwards: options.allowMovingBackwards ?? false, releaseLease, audit });
		if (result.verdict === 'unknown stream') throw new UnknownStreamError(token.stream, await store.streamNames());
		const outcome = setOutcome(result.verdict, progress);
		const moved = result.verdict === 'store';
		const json: IDataObject = {
			stream: token.stream,
			previousCursor: result.previousCursor,
			cursor: moved ? progress.cursor : (result.state?.cursor ?? result.previousCursor),
			moved,
			outcome,
			message: explainSetOutcome(outcome, token.stream, progress, result.state?.leaseOwner),
			counts: { ...progress.counts },
			hasMore: moved && progress.hasMore,
			firstFailure: progress.firstFailure ? { ...progress.firstFailure } : null,
			leaseReleased: releasesLease(result.verdict, releaseLease),
		};
		return [{ json, pairedItem }];
	} catch (error) {
		failure = error;
	}
	const nodeError = toNodeError(this.getNode(), failure, { doing: 'storing the watermark' });
	if (!this.continueOnFail()) throw nodeError;
	return [{ json: errorJson(nodeError), pairedItem }];
}
