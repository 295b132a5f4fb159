import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { positionInWords } from '../../shared/core/rewind';
import { DEFAULT_MINUTES_BEHIND, streamHealth } from '../../shared/core/syncStatus';
import { chosenOption } from '../../shared/itemParameter';
import type { WatermarkContext } from '../helpers/context';
import { forEachItem, streamParameter } from '../helpers/context';
import type { StreamStatus } from '../stores/watermarkStore';
import { streamProperty } from './common.descriptions';

const show = (extra: Record<string, string[]> = {}) => ({ show: { operation: ['status'], ...extra } });
const MAX_RETRY_ROWS = 1000;
const DEFAULT_RETRY_ROWS = 10;
const MAX_MINUTES_BEHIND = 7 * 24 * 60;

const statusStreamsProperty: INodeProperties = {
	displayName: 'Streams',
	name: 'statusStreams',
	type: 'options',
	options: [
		{ name: 'All Streams', value: 'all', description: 'Every stream with a watermark in these tables' },
		{ name: 'One Stream', value: 'one' },
	],
	default: 'all',
	displayOptions: show(),
};

export const description: INodeProperties[] = [
	statusStreamsProperty,
	streamProperty(['status'], { statusStreams: ['one'] }),
	{
		displayName: 'Unhealthy After (Minutes)',
		name: 'maxMinutesBehind',
		type: 'number',
		// An expression may give it as text ("5"): n8n converts it, or stops the node naming it.
		validateType: 'number',
		typeOptions: { minValue: 1, maxValue: MAX_MINUTES_BEHIND },
		default: DEFAULT_MINUTES_BEHIND,
		description: 'A stream is not healthy when no run of it has finished for longer than this. Several times the schedule, e.g. 30 for a sync every 5 minutes.',
		displayOptions: show(),
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		displayOptions: show(),
		options: [
			{
				displayName: 'Retry Rows to Show',
				name: 'retryRowsShown',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: MAX_RETRY_ROWS },
				default: DEFAULT_RETRY_ROWS,
				description: 'How many rows of each retry list to list (parked first); the counts always cover all of them',
			},
		],
	},
];

function boundedNumber(value: number, itemIndex: number, context: IExecuteFunctions, min: number, max: number, label: string): number {
	if (!Number.isInteger(value) || value < min || value > max) {
		throw new NodeOperationError(context.getNode(), `${label} must be a whole number from ${min} to ${max}, not ${String(value)}`, { itemIndex });
	}
	return value;
}

const minutesSince = (at: string, now: string) => Math.floor((Date.parse(now) - Date.parse(at)) / 60_000);

/** One item of the Status output: the facts in the words and fields a monitoring tool and a partner read. */
export function statusItemOf(status: StreamStatus, now: string, maxMinutesBehind: number): IDataObject {
	const { state, retry, lastStarted, lastFinished } = status;
	const health = streamHealth(
		state.stream,
		{
			now,
			exists: true,
			lease: { owner: state.leaseOwner, expiresAt: state.leaseExpiresAt },
			retry,
			lastStarted,
			lastFinished,
			cursorChangedAt: state.cursorChangedAt,
		},
		maxMinutesBehind,
	);
	const leaseHeld = health.runState === 'running';
	return {
		stream: state.stream,
		healthy: health.healthy,
		problems: health.problems,
		runState: health.runState,
		watermark: {
			inWords: positionInWords(state.cursor, state.timeZone),
			cursor: state.cursor,
			movedAt: state.cursorChangedAt,
			minutesSinceMoved: minutesSince(state.cursorChangedAt, now),
			timeZone: state.timeZone,
		},
		lease: { held: leaseHeld, owner: state.leaseOwner, until: state.leaseExpiresAt },
		retryList: {
			waiting: retry.waiting,
			parked: retry.parked,
			rows: retry.entries.map((entry) => ({ key: { ...entry.key }, attempts: entry.attempts, parked: entry.parked, lastError: entry.lastError, lastTriedAt: entry.lastTriedAt })),
		},
		lastRun: {
			startedAt: lastStarted?.at ?? null,
			startedExecutionId: lastStarted?.executionId ?? null,
			finishedAt: lastFinished?.at ?? null,
			finishedExecutionId: lastFinished?.executionId ?? null,
			minutesSinceFinished: health.minutesSinceLastFinishedRun,
			summary: lastFinished ? { ...lastFinished.summary } : null,
		},
		checkedAt: now,
	};
}

/** A stream asked for by name that has no watermark: reported, not an error, so a monitoring tool sees it. */
function neverRanItem(stream: string, now: string, maxMinutesBehind: number): IDataObject {
	const health = streamHealth(stream, { now, exists: false, lease: { owner: null, expiresAt: null }, retry: { waiting: 0, parked: 0 } }, maxMinutesBehind);
	return { stream, healthy: false, problems: health.problems, runState: health.runState, watermark: null, lease: null, retryList: null, lastRun: null, checkedAt: now };
}

/**
 * Status: per stream (or every stream) the watermark in words and when it last moved, the lease, the retry list
 * and the latest run, with `healthy` and the problems in words. Reads only, in one round trip.
 */
export async function execute(this: IExecuteFunctions, { store }: WatermarkContext): Promise<INodeExecutionData[]> {
	const output: INodeExecutionData[] = [];
	await forEachItem(
		this,
		() => 'reading the status of the sync',
		async (itemIndex) => {
			const stream = chosenOption(this, statusStreamsProperty, itemIndex) === 'one' ? streamParameter(this, itemIndex) : null;
			const maxMinutesBehind = boundedNumber(Number(this.getNodeParameter('maxMinutesBehind', itemIndex)), itemIndex, this, 1, MAX_MINUTES_BEHIND, 'Unhealthy After (Minutes)');
			const options = this.getNodeParameter('options', itemIndex, {}) as IDataObject;
			const retryRows = boundedNumber(Number(options.retryRowsShown ?? DEFAULT_RETRY_ROWS), itemIndex, this, 0, MAX_RETRY_ROWS, 'Retry Rows to Show');
			const answer = await store.status(stream, retryRows);
			const items = answer.streams.map((status) => statusItemOf(status, answer.now, maxMinutesBehind));
			if (stream !== null && items.length === 0) items.push(neverRanItem(stream, answer.now, maxMinutesBehind));
			for (const json of items) output.push({ json, pairedItem: { item: itemIndex } });
		},
		(item) => output.push(item),
	);
	return output;
}
