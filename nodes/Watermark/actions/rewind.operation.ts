import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';

import type { RewindPlan, RewindRequest } from '../../shared/core/rewind';
import { NotBehindError, RewindInputError, planRewind, rewindFromHistory, rewindInWords } from '../../shared/core/rewind';
import type { WatermarkContext } from '../helpers/context';
import { existingStream, forEachItem, isLeaseLive, streamParameter } from '../helpers/context';
import type { StreamState, WatermarkStore } from '../stores/watermarkStore';
import { replaceWithRetry } from '../helpers/replace';
import { storedCursorOf } from '../../shared/core/watermarkLocation';
import { chosenOption } from '../../shared/itemParameter';
import { streamProperty } from './common.descriptions';

const show = (extra: Record<string, string[]> = {}) => ({ show: { operation: ['rewind'], ...extra } });

const DEFAULT_REWIND_REASON = 'Rewound by support';

/** A rewind's choices are checked when it runs (chosenOption): an expression giving "All" or "Beginning" must not rewind something else. */
const streamsProperty: INodeProperties = {
	displayName: 'Streams',
	name: 'streams',
	type: 'options',
	options: [
		{ name: 'One Stream', value: 'one' },
		{ name: 'All Streams', value: 'all', description: 'Every stream with a watermark in these tables' },
	],
	default: 'one',
	displayOptions: show(),
};

const rewindByProperty: INodeProperties = {
	displayName: 'Rewind By',
	name: 'rewindBy',
	type: 'options',
	options: [
		{ name: 'Duration', value: 'duration', description: 'Days and hours back from where the stream is' },
		{ name: 'To a Date and Time', value: 'dateTime', description: 'Back to a wall-clock date and time' },
		{ name: 'To the Beginning', value: 'beginning', description: 'Everything is sent again (a full re-send)' },
	],
	default: 'duration',
	displayOptions: show(),
};

export const description: INodeProperties[] = [
	streamsProperty,
	streamProperty(['rewind'], { streams: ['one'] }),
	rewindByProperty,
	{
		displayName: 'Days',
		name: 'days',
		type: 'number',
		// An expression may give it as text ("5"): n8n converts it, or stops the node naming it.
		validateType: 'number',
		typeOptions: { minValue: 0 },
		default: 2,
		description: 'Calendar days: the same time of day, that many days earlier, in the stream\'s time zone',
		displayOptions: show({ rewindBy: ['duration'] }),
	},
	{
		displayName: 'Hours',
		name: 'hours',
		type: 'number',
		// An expression may give it as text ("5"): n8n converts it, or stops the node naming it.
		validateType: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description: 'Elapsed hours, counted after the days',
		displayOptions: show({ rewindBy: ['duration'] }),
	},
	{
		displayName: 'Date and Time',
		name: 'dateTime',
		type: 'dateTime',
		default: '',
		required: true,
		description: 'Wall-clock date and time in the stream\'s time zone; everything changed since is sent again',
		displayOptions: show({ rewindBy: ['dateTime'] }),
	},
	{
		displayName: 'Reason',
		name: 'reason',
		type: 'string',
		default: DEFAULT_REWIND_REASON,
		required: true,
		description: 'Why, for the history',
		displayOptions: show(),
	},
	{
		displayName: 'Preview Only',
		name: 'previewOnly',
		type: 'boolean',
		// An expression may give it as text ("true"): n8n converts it, or stops the node naming it.
		validateType: 'boolean',
		default: false,
		description:
			'Whether to only show where each stream would move, changing nothing: no watermark, history or lease is touched. The output has one item per stream, with the cursor a rewind would store.',
		displayOptions: show(),
	},
];

function requestOf(context: IExecuteFunctions, itemIndex: number): RewindRequest {
	const by = chosenOption<RewindRequest['by']>(context, rewindByProperty, itemIndex);
	if (by === 'beginning') return { by: 'beginning' };
	if (by === 'dateTime') {
		return { by: 'dateTime', dateTime: String(context.getNodeParameter('dateTime', itemIndex) ?? '') };
	}
	return { by: 'duration', days: Number(context.getNodeParameter('days', itemIndex)), hours: Number(context.getNodeParameter('hours', itemIndex)) };
}

async function planFor(store: WatermarkStore, state: StreamState, request: RewindRequest, now: Date): Promise<RewindPlan> {
	const planned = planRewind(state.cursor, request, state.timeZone, state.cursorChangedAt, now);
	if ('plan' in planned) return planned.plan;
	return rewindFromHistory(state.cursor, await store.entryInEffectAt(state.stream, planned.historyAt), planned.historyAt);
}

interface PlannedStream {
	state: StreamState;
	plan?: RewindPlan;
	/** Why a stream of "all streams" is left as it is. */
	skipped?: string;
}

/** Every stream planned before any is changed, so a bad date changes nothing. */
async function planEvery(store: WatermarkStore, names: string[], request: RewindRequest, all: boolean, now: Date): Promise<PlannedStream[]> {
	const planned: PlannedStream[] = [];
	for (const name of names) {
		const state = await existingStream(store, name);
		const plan = await planFor(store, state, request, now).catch((error: unknown) => {
			// For all streams, one that is not behind the target is left alone; for one stream it is an error.
			if (all && error instanceof NotBehindError) return error;
			return Promise.reject(error);
		});
		planned.push(plan instanceof NotBehindError ? { state, skipped: plan.message } : { state, plan });
	}
	return planned;
}

/** What Preview Only outputs for a stream: the cursor the rewind would store, in the form its location keeps it. */
function previewJson({ state, plan, skipped }: PlannedStream, request: RewindRequest, reason: string, now: Date) {
	// The same test the rewind makes before it stores.
	const wouldMove = plan !== undefined && plan.cursor !== state.cursor;
	const cursor = wouldMove ? storedCursorOf(plan.cursor, state.location) : state.cursor;
	const how = plan?.how ?? skipped ?? '';
	const runInProgress = isLeaseLive(state, now) ? state.leaseOwner : null;
	return {
		stream: state.stream,
		previousCursor: state.cursor,
		cursor,
		moved: false,
		wouldMove,
		how,
		inWords: rewindInWords({ request, moved: wouldMove, preview: true, cursor, zone: state.timeZone, how }),
		reason,
		timeZone: state.timeZone,
		runInProgress,
		message: wouldMove
			? `Stream "${state.stream}" would be rewound. ${how}. Nothing was changed: this is a preview.${runInProgress ? ` A run ("${runInProgress}") holds the stream now; after a rewind it would not store its position.` : ''}`
			: `Stream "${state.stream}" would not be moved. ${how}. Nothing was changed: this is a preview.`,
	};
}

/**
 * Rewind: moves one stream, or every stream, back. Every stream is planned before any is changed, so a bad
 * date changes nothing. A run holding a stream meanwhile does not overwrite the rewind: its Set finds the
 * generation moved and stores nothing. With Preview Only, the plans are output and nothing is stored.
 */
export async function execute(this: IExecuteFunctions, { store, audit }: WatermarkContext): Promise<INodeExecutionData[]> {
	const output: INodeExecutionData[] = [];
	await forEachItem(
		this,
		() => 'rewinding the watermark',
		async (itemIndex) => {
			const all = chosenOption(this, streamsProperty, itemIndex) === 'all';
			const request = requestOf(this, itemIndex);
			const reason = String(this.getNodeParameter('reason', itemIndex) ?? '').trim();
			if (reason === '') throw new RewindInputError('Give a reason for the rewind; it is kept in the history');
			const names = all ? await store.streamNames() : [streamParameter(this, itemIndex)];
			if (names.length === 0) throw new RewindInputError('No stream has a watermark in these tables yet, so there is nothing to rewind');
			const now = new Date();
			const planned = await planEvery(store, names, request, all, now);
			if (this.getNodeParameter('previewOnly', itemIndex, false) === true) {
				output.push(...planned.map((stream) => ({ json: previewJson(stream, request, reason, now), pairedItem: { item: itemIndex } })));
				return;
			}
			for (const { state, plan, skipped } of planned) {
				const result = plan && plan.cursor !== state.cursor ? await replaceWithRetry(store, state, (fresh) => planFor(store, fresh, request, now), 'rewind', reason, audit, plan) : undefined;
				const runInProgress = isLeaseLive(state, now) ? state.leaseOwner : null;
				const moved = result !== undefined;
				const how = result?.plan.how ?? plan?.how ?? skipped ?? '';
				// Not `??`: a rewind to the beginning stores null, which is the cursor to show.
				const cursor = result ? result.state.cursor : state.cursor;
				output.push({
					json: {
						stream: state.stream,
						previousCursor: result ? result.previous.cursor : state.cursor,
						cursor,
						moved,
						how,
						inWords: rewindInWords({ request, moved, preview: false, cursor, zone: state.timeZone, how }),
						reason,
						timeZone: state.timeZone,
						runInProgress,
						message: moved
							? `Stream "${state.stream}" rewound. ${how}. The next run sends everything changed since then again; nothing is duplicated in CRM.${runInProgress ? ` A run ("${runInProgress}") holds the stream now: it will not store its position, and the next run starts from here.` : ''}`
							: `Stream "${state.stream}" was not moved. ${how}.`,
					},
					pairedItem: { item: itemIndex },
				});
			}
		},
		(item) => output.push(item),
	);
	return output;
}
