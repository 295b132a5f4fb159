import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import {
	DEFAULT_MAX_ATTEMPTS,
	MAX_ATTEMPTS_LIMIT,
	PARKED_ROWS_ADVICE,
	ROWS_NOT_TAKEN_ADVICE,
	checkMaxAttempts,
	dueRetryOf,
	firstRowNotTaken,
	parkedRowsMessage,
	parkingEndsTheRun,
	retryKeyText,
	retryListChanges,
	rowsNotTakenMessage,
} from '../../shared/core/retryList';
import { isWritten } from '../../shared/core/syncItem';
import type { FailedRowsRule, NextBatchLease, WatermarkToken, WrittenItem } from '../../shared/core/watermark';
import {
	WatermarkTokenError,
	WrittenItemsError,
	decodeToken,
	encodeToken,
	explainSetOutcome,
	furthestWrittenCursor,
	leaseGoesWithThisSet,
	releasesLease,
	setOutcome,
	writtenItemOf,
} from '../../shared/core/watermark';
import { errorItem, errorJson, toNodeError } from '../../shared/nodeErrors';
import { itemCollection } from '../../shared/itemParameter';
import { tokenOfUpstreamGet } from '../../shared/upstreamGet';
import type { ReadWindow } from '../../shared/core/changeQuery';
import type { StreamState } from '../stores/watermarkStore';
import type { WatermarkContext } from '../helpers/context';
import { UnknownStreamError } from '../helpers/context';

/** Set's Options, read in execute (itemCollection converts them to their types). */
const setOptionsProperty: INodeProperties = {
	displayName: 'Options',
	name: 'setOptions',
	type: 'collection',
	placeholder: 'Add option',
	default: {},
	displayOptions: { show: { operation: ['set'] } },
	options: [
		{
			displayName: 'Allow Moving Backwards',
			name: 'allowMovingBackwards',
			type: 'boolean',
			default: false,
			description:
				'Whether to store even if the stream was rewound since Get, or these rows were not read from the stored watermark. Off keeps a rewind made during a run. Never stores without the lease.',
		},
		{
			displayName: 'Fail the Execution When a Row Is Parked',
			name: 'failWhenParked',
			type: 'boolean',
			default: true,
			description: "Whether to fail the execution (after storing the watermark) when a row reaches Max Attempts, so n8n's error workflow can alert someone",
		},
		{
			displayName: 'Failed Rows',
			name: 'failedRows',
			type: 'options',
			// Checked against its choices when the node runs (itemCollection): an expression can give any text.
			validateType: 'options',
			options: [
				{
					name: 'Park in Retry List and Move On',
					value: 'park',
					description: 'A row CRM refused goes to the retry list (in the same transaction) and the rows behind it go on; the next runs read it again first',
				},
				{ name: 'Stop Before Them', value: 'stop', description: 'The watermark stops before the first refused row, so it and everything after it are read again' },
			],
			default: 'park',
			description: 'What to do with rows CRM refused',
		},
		{
			displayName: 'Max Attempts',
			name: 'maxAttempts',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: MAX_ATTEMPTS_LIMIT },
			default: DEFAULT_MAX_ATTEMPTS,
			description: 'How many times a row in the retry list is tried (once per run) before it stays there as parked and is reported',
		},
		{
			displayName: 'Release Lease',
			name: 'releaseLease',
			type: 'boolean',
			default: true,
			description:
				'Whether to give the stream up for the next run now. Off keeps it only while another batch of this run follows (the rows reached the end of a batch and more wait); a run that is caught up, read nothing or stopped at a failed row always gives it up.',
		},
	],
};

export const description: INodeProperties[] = [
	setOptionsProperty,
	{
		displayName: 'Advanced',
		name: 'advanced',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		description: 'Internal wiring with Watermark Get; the default works',
		displayOptions: { show: { operation: ['set'] } },
		options: [
			{
				displayName: 'Token From Get',
				name: 'fromGet',
				type: 'string',
				// Not a secret, but n8n's scanner wants every "token" masked; the mask does not hide the expression it is set by.
				typeOptions: { password: true },
				default: '',
				placeholder: "e.g. {{ $('Get Watermark').first().json.token }}",
				description:
					'The "token" field of the Get output of this run. Empty: taken from the Watermark Get this node follows. Set stores only if nobody rewound or took over the stream since.',
			},
		],
	},
];

interface SetOptions {
	releaseLease?: boolean;
	allowMovingBackwards?: boolean;
	failedRows?: FailedRowsRule;
	maxAttempts?: number;
	failWhenParked?: boolean;
}

/** "Token From Get", or else the token of the Watermark Get this node follows. */
function tokenText(context: IExecuteFunctions): string {
	const given = String((context.getNodeParameter('advanced', 0, {}) as { fromGet?: unknown }).fromGet ?? '').trim();
	if (given !== '') return given;
	const upstream = tokenOfUpstreamGet(context);
	if (upstream === undefined) throw new WatermarkTokenError('no Watermark Get runs before this node, and "Token From Get" is empty');
	return upstream;
}

const LEASE_LOST_READ_AGAIN =
	'Written to CRM by a run whose lease had ended before its Set; read again so that CRM surely holds the latest version';

/**
 * The rows this Set's items say were written, one per key: a run that lost its lease puts them in the retry list,
 * so the next run reads them again. Without a lease guard on the write (the watermark kept in another database), a
 * write could have landed after a newer one; reading them again puts the newest version back.
 */
function writtenRows(items: WrittenItem[]): Array<{ key: Record<string, unknown>; cursor: string | null }> {
	const byKey = new Map<string, { key: Record<string, unknown>; cursor: string | null }>();
	for (const { sync, status } of items) {
		if (sync && status && isWritten(status)) byKey.set(retryKeyText(sync.key), { key: sync.key, cursor: sync.cursor ?? null });
	}
	return [...byKey.values()];
}

/** The lease this Set renewed, for the next batch's Get (see NextBatchLease); none when the store no longer shows it as this run's. */
function nextBatchLeaseOf(token: WatermarkToken, state: StreamState | undefined, retryListInUse: boolean, window: ReadWindow | undefined): NextBatchLease | undefined {
	if (!state || state.leaseOwner !== token.owner) return undefined;
	return {
		stream: token.stream,
		cursor: state.cursor,
		token: encodeToken({ ...token, generation: state.generation, retryListInUse }),
		generation: state.generation,
		leaseOwner: token.owner,
		leaseExpiresAt: state.leaseExpiresAt,
		timeZone: state.timeZone,
		retryListInUse,
		...(window === undefined ? {} : { window }),
	};
}

/** The rows read again from the retry list, and how they fared. */
function retriedCounts(items: WrittenItem[]): IDataObject {
	const retried = items.filter((item) => item.sync?.retry === true && item.status !== undefined);
	const written = retried.filter((item) => isWritten(item.status as NonNullable<WrittenItem['status']>)).length;
	return { read: retried.length, written, failed: retried.length - written };
}

/**
 * Set: one item for the whole input (paired with every input item): how far the written rows allow the watermark
 * to move, whether the store took it, and why not in plain words. With Failed Rows "park", refused rows go into the
 * retry list in the same step (retryListChanges); when that parks a row for good, the execution fails afterwards.
 */
export async function execute(this: IExecuteFunctions, { store, audit }: WatermarkContext): Promise<INodeExecutionData[]> {
	const items = this.getInputData();
	const pairedItem = items.map((_, item) => ({ item }));
	let failure: unknown;
	try {
		const token = decodeToken(tokenText(this));
		const options = itemCollection(this, setOptionsProperty, 0) as SetOptions;
		const written = items.map((item) => writtenItemOf(item.json));
		const progress = furthestWrittenCursor(written, options.failedRows ?? 'park');
		const changes = retryListChanges(written, progress, token.retryListInUse === true);
		const rules = { maxAttempts: checkMaxAttempts(options.maxAttempts), releaseLeaseWhenParked: options.failWhenParked ?? true };
		// A Set that fails the execution ends the run, so it gives the lease up.
		const notTaken = firstRowNotTaken(written, progress);
		const releaseLease = leaseGoesWithThisSet(options.releaseLease ?? true, progress) || notTaken !== undefined;
		if (progress.stream !== undefined && progress.stream !== token.stream) {
			throw new WrittenItemsError(`The rows are of stream "${progress.stream}", but the token from Get is for stream "${token.stream}"`);
		}
		const move = progress.cursor === undefined ? undefined : { from: progress.startCursor ?? null, to: progress.cursor };
		const result = await store.commit({
			token,
			move,
			allowBackwards: options.allowMovingBackwards ?? false,
			releaseLease,
			audit,
			retry: changes.length > 0 ? { changes, rules } : undefined,
		});
		if (result.verdict === 'unknown stream') throw new UnknownStreamError(token.stream, await store.streamNames());
		const readAgain = result.verdict === 'lease lost' ? await store.readAgain(token.stream, writtenRows(written), LEASE_LOST_READ_AGAIN) : 0;
		const outcome = setOutcome(result.verdict, progress);
		const moved = result.verdict === 'store';
		const parked = result.retry?.newlyParked ?? [];
		const releasedForParked = parkingEndsTheRun(rules, parked);
		const json: IDataObject = {
			stream: token.stream,
			previousCursor: result.previousCursor,
			cursor: moved ? progress.cursor : (result.state?.cursor ?? result.previousCursor),
			moved,
			outcome,
			message: explainSetOutcome(outcome, token.stream, progress, result.state?.leaseOwner, readAgain),
			counts: { ...progress.counts },
			// A Set that fails the execution (a row parked, or rows CRM did not take) ends the run, so no batch follows it.
			hasMore: moved && progress.hasMore && !releasedForParked && !notTaken,
			firstFailure: progress.firstFailure ? { ...progress.firstFailure } : null,
			leaseReleased: releasesLease(result.verdict, releaseLease || releasedForParked),
			retried: retriedCounts(written),
			retryList: {
				removed: result.retry?.removed ?? 0,
				failing: result.retry?.failing ?? 0,
				parked: parked.map((entry) => ({ ...dueRetryOf(entry) })),
			},
		};
		const nextBatch =
			json.hasMore === true
				? nextBatchLeaseOf(token, result.state, token.retryListInUse === true || changes.length > 0, written.find((item) => item.sync?.window)?.sync?.window)
				: undefined;
		if (nextBatch) json.nextBatch = { ...nextBatch };
		// The watermark and the list are stored by now; failing lets n8n's error workflow tell someone.
		const stop = notTaken
			? new NodeOperationError(this.getNode(), rowsNotTakenMessage(token.stream, notTaken), { description: ROWS_NOT_TAKEN_ADVICE })
			: releasedForParked
				? new NodeOperationError(this.getNode(), parkedRowsMessage(token.stream, parked.map(dueRetryOf)), { description: PARKED_ROWS_ADVICE })
				: undefined;
		if (!stop) return [{ json, pairedItem }];
		if (!this.continueOnFail()) throw stop;
		return [errorItem(this, stop, pairedItem, { ...json, ...errorJson(stop) })];
	} catch (error) {
		failure = error;
	}
	const nodeError = toNodeError(this.getNode(), failure, { doing: 'storing the watermark' });
	if (!this.continueOnFail()) throw nodeError;
	return [errorItem(this, nodeError, pairedItem)];
}
