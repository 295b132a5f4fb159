import { randomBytes } from 'node:crypto';

import type { IDataObject, IDisplayOptions, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { byVersion, namePicker } from '../../shared/columnPicker';
import { serializeCursor } from '../../shared/core/cursor';
import { parseQualifiedName } from '../../shared/core/identifiers';
import { wallTimeOfInput } from '../../shared/core/rewind';
import { zoneNamed } from '../../shared/core/timeZone';
import { chosenTimeZone, timeZoneProperty } from '../../shared/timeZoneParameter';
import { dueRetryOf } from '../../shared/core/retryList';
import type { LeasePlace } from '../../shared/core/watermark';
import { encodeToken, heldByAnotherRunMessage, leaseOwnerOfRun, nextBatchLeaseFor } from '../../shared/core/watermark';
import type { CursorLocation } from '../../shared/core/watermarkLocation';
import { CursorLocationError, PACKAGE_TABLE, describeLocation, normalisedCursor, storedCursorOf } from '../../shared/core/watermarkLocation';
import type { AuditInfo, StreamState, WatermarkStore, WatermarkTables } from '../stores/watermarkStore';
import { watermarkCredentialOf } from '../helpers/database';
import type { WatermarkContext } from '../helpers/context';
import { forEachItem, streamParameter } from '../helpers/context';
import { chosenOption, itemParameter } from '../../shared/itemParameter';
import { streamProperty } from './common.descriptions';

export const DEFAULT_LEASE_SECONDS = 600;
const MAX_LEASE_SECONDS = 7 * 24 * 3600;

const show = (extra: Record<string, string[]> = {}) => ({ show: { operation: ['get'], ...extra } });
const existingTable = { storeCursorIn: ['existingTable'] };

const COLUMN_DEPENDS_ON = ['cursorTable.value', 'database'];

interface CursorTableColumn {
	name: string;
	displayName: string;
	description: string;
	placeholder: string;
	displayOptions: IDisplayOptions;
}

/** A column of the existing table that keeps the cursor: version 1's plain list, a picker from 1.1. */
function cursorTableColumn({ name, displayName, description, placeholder, displayOptions }: CursorTableColumn): INodeProperties[] {
	const shared = { required: true, displayOptions };
	return byVersion(
		{
			...shared,
			displayName: `${displayName} Name or ID`,
			name,
			type: 'options',
			typeOptions: { loadOptionsMethod: 'getCursorTableColumns', loadOptionsDependsOn: COLUMN_DEPENDS_ON },
			default: '',
			description: `${description} Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>`,
		},
		{ ...namePicker({ name, displayName, description, placeholder, searchListMethod: 'cursorTableColumnSearch', dependsOn: COLUMN_DEPENDS_ON }), ...shared },
	);
}

/** Where a new stream starts; read as one of its choices (chosenOption): "Date" must not mean the beginning. */
const startingPointProperty: INodeProperties = {
	displayName: 'Starting Point',
	name: 'startingPoint',
	type: 'options',
	options: [
		{ name: 'From the Beginning', value: 'beginning', description: 'The first run sends every row' },
		{ name: 'From a Date', value: 'date', description: 'The first run sends the rows changed since a date and time' },
	],
	default: 'beginning',
	description: 'Where the stream starts the very first time. Ignored once the stream has a watermark.',
	displayOptions: show(),
};

/** Where the cursor is kept; read as one of its choices (chosenOption): a misspelt choice must not pick the other place. */
const storeCursorInProperty: INodeProperties = {
	displayName: 'Store Cursor In',
	name: 'storeCursorIn',
	type: 'options',
	options: [
		{ name: "This Package's Table", value: 'packageTable', description: 'The watermark table under Watermark Tables' },
		{
			name: 'An Existing Table',
			value: 'existingTable',
			description: 'A row of a table the installation already uses, e.g. the transfer date in Contracting\'s system codes',
		},
	],
	default: 'packageTable',
	description: 'Where the stream\'s position is kept. Leases and history always stay in the watermark tables. Fixed at the first run.',
	displayOptions: show(),
};

export const description: INodeProperties[] = [
	streamProperty(['get']),
	startingPointProperty,
	{
		displayName: 'Starting Date',
		name: 'startingDate',
		type: 'dateTime',
		default: '',
		required: true,
		description: 'Wall-clock date and time in the stream\'s time zone. Only for streams read by a date-time change marker.',
		displayOptions: show({ startingPoint: ['date'] }),
	},
	timeZoneProperty("The time zone of the stream's change dates; rewinds count days and hours in it. Stored with the stream on its first run.", {
		displayOptions: show(),
	}),
	storeCursorInProperty,
	{
		displayName: 'Table',
		name: 'cursorTable',
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		required: true,
		description: 'The existing table with the row that keeps the position',
		modes: [
			{ displayName: 'From List', name: 'list', type: 'list', typeOptions: { searchListMethod: 'tableSearch', searchable: true } },
			{ displayName: 'By Name', name: 'name', type: 'string', placeholder: 'e.g. dbo.SystemCodes' },
		],
		displayOptions: show(existingTable),
	},
	...cursorTableColumn({
		name: 'rowFilterColumn',
		displayName: 'Row Column',
		description: 'The column that picks the one row to keep the position in.',
		placeholder: 'e.g. Code',
		displayOptions: show(existingTable),
	}),

	{
		displayName: 'Row Value',
		name: 'rowFilterValue',
		type: 'string',
		default: '',
		required: true,
		description: 'The value of that column in the one row to keep the position in',
		displayOptions: show(existingTable),
	},
	{
		displayName: 'Cursor Columns',
		name: 'cursorColumns',
		type: 'options',
		options: [
			{ name: 'One Text Column', value: 'textColumn', description: 'The whole position, as this package writes it' },
			{
				name: 'A Date Column and a Time Column',
				value: 'dateAndTimeColumns',
				description: 'Like "last change date" and "last change time": whole seconds, for date-time change markers only',
			},
		],
		default: 'dateAndTimeColumns',
		displayOptions: show(existingTable),
	},
	...cursorTableColumn({
		name: 'cursorColumn',
		displayName: 'Cursor Column',
		description: 'A text column (nvarchar(max) is best).',
		placeholder: 'e.g. Position',
		displayOptions: show({ ...existingTable, cursorColumns: ['textColumn'] }),
	}),

	...cursorTableColumn({
		name: 'dateColumn',
		displayName: 'Date Column',
		description: 'A date, datetime or integer (yyyymmdd) column.',
		placeholder: 'e.g. TransferDate',
		displayOptions: show({ ...existingTable, cursorColumns: ['dateAndTimeColumns'] }),
	}),

	...cursorTableColumn({
		name: 'timeColumn',
		displayName: 'Time Column',
		description: 'A time or integer (hhmmss) column.',
		placeholder: 'e.g. TransferTime',
		displayOptions: show({ ...existingTable, cursorColumns: ['dateAndTimeColumns'] }),
	}),

	{
		displayName: 'Advanced',
		name: 'advanced',
		type: 'collection',
		placeholder: 'Add option',
		default: {},
		description: 'Internal wiring between the batches of a run; the defaults work',
		displayOptions: show(),
		options: [
			{
				displayName: 'Lease Owner',
				name: 'leaseOwner',
				type: 'string',
				default: '',
				description:
					"Empty: a new owner for this run, unique across n8n instances (the execution ID and a random part), output as leaseOwner. Not added: the input item's leaseOwner field if it has one, else a new owner. To keep the stream across the batches of one run, hand the leaseOwner of the first batch's Get on to the next batch's Get, as the shipped sync does.",
			},
			{
				displayName: 'Lease Seconds',
				name: 'leaseSeconds',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: MAX_LEASE_SECONDS },
				default: DEFAULT_LEASE_SECONDS,
				description:
					'How long the stream stays held if this run never releases it (it crashed). Longer than the slowest batch: a CRM write or a Set after the lease ended does nothing.',
			},
		],
	},
];

interface StartingPoint {
	cursor: string | null;
	/** For the output and the history, e.g. "the beginning", "2025-01-01T00:00:00 (Europe/Oslo)". */
	label: string;
}

function startingPointOf(context: IExecuteFunctions, itemIndex: number, zoneName: string): StartingPoint {
	if (chosenOption(context, startingPointProperty, itemIndex) !== 'date') return { cursor: null, label: 'the beginning' };
	const marker = wallTimeOfInput(String(context.getNodeParameter('startingDate', itemIndex) ?? ''), zoneNamed(zoneName));
	return { cursor: serializeCursor({ kind: 'datetime', marker, key: null }), label: `${marker} (${zoneName})` };
}

function locationOf(context: IExecuteFunctions, itemIndex: number): CursorLocation {
	if (chosenOption(context, storeCursorInProperty, itemIndex) !== 'existingTable') return PACKAGE_TABLE;
	const text = (name: string) => String(context.getNodeParameter(name, itemIndex, '', { extractValue: true }) ?? '').trim();
	const tableText = text('cursorTable');
	if (!tableText) throw new CursorLocationError('No table was chosen to keep the cursor in');
	const row = { table: parseQualifiedName(tableText), filterColumn: text('rowFilterColumn'), filterValue: text('rowFilterValue') };
	if (!row.filterColumn) throw new CursorLocationError('No column was chosen to pick the row that keeps the cursor');
	if (text('cursorColumns') === 'textColumn') return { kind: 'textColumn', ...row, cursorColumn: text('cursorColumn') };
	return { kind: 'dateAndTimeColumns', ...row, dateColumn: text('dateColumn'), timeColumn: text('timeColumn') };
}

function leaseOf(context: IExecuteFunctions, itemIndex: number): { owner: string; seconds: number } {
	// Not added (null): the input item's leaseOwner, which the shipped sync hands from batch to batch.
	const given = String(itemParameter(context, 'advanced.leaseOwner', itemIndex, null) ?? context.getInputData()[itemIndex]?.json.leaseOwner ?? '').trim();
	const owner = given === '' ? leaseOwnerOfRun(context.getExecutionId(), randomBytes(8).toString('hex')) : given;
	if (owner.length > 200) {
		throw new NodeOperationError(context.getNode(), `Lease Owner must be at most 200 characters, not ${owner.length}`, {
			itemIndex,
			description: 'Leave it empty for a new run, or pass the leaseOwner the first Get of this run output.',
		});
	}
	const seconds = Number(context.getNodeParameter('advanced.leaseSeconds', itemIndex, DEFAULT_LEASE_SECONDS));
	if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_LEASE_SECONDS) {
		throw new NodeOperationError(context.getNode(), `Lease Seconds must be a whole number from 1 to ${MAX_LEASE_SECONDS}, not ${seconds}`, {
			itemIndex,
			description: `The default of ${DEFAULT_LEASE_SECONDS} seconds suits a run of a few minutes; use more than your slowest run takes.`,
		});
	}
	return { owner, seconds };
}

/** The credential and table of the lease, for the lease guard of a CRM write through the same credential. */
function leasePlaceOf(context: IExecuteFunctions, tables: WatermarkTables): LeasePlace | undefined {
	const credentialType = watermarkCredentialOf(context);
	const credentialId = context.getNode().credentials?.[credentialType]?.id;
	return credentialId ? { credentialType, credentialId, table: tables.state } : undefined;
}

/**
 * A cursor edited by hand that is readable but not in this package's form is stored again in that form (in the
 * history as a "repair"), while this run holds the lease: Set compares the stored text with the cursor the batch
 * was read from, which is always in that form, so the stream would otherwise never move again.
 */
async function withCursorNormalised(store: WatermarkStore, state: StreamState, audit: AuditInfo): Promise<StreamState> {
	const normal = normalisedCursor(state.cursor);
	if (normal === undefined) return state;
	const repaired = await store.replaceCursor({
		stream: state.stream,
		expectedGeneration: state.generation,
		cursor: normal,
		action: 'repair',
		reason: `The stored watermark ${state.cursor} was edited by hand; stored again in the form this package writes`,
		audit,
	});
	return repaired.replaced && repaired.state ? repaired.state : state;
}

/**
 * Get: the stream's cursor, a lease on it, and (on the run's first batch) the retry list's keys that are due, on the first output; when another run holds the stream, a
 * plain-words item on the second output (the shipped sync workflow leaves it unconnected, so that run ends quietly).
 * With "Continue On Fail" an error item goes to the second output too: the first output only ever carries a
 * lease, so nothing downstream reads or stores without one.
 */
export async function execute(this: IExecuteFunctions, { store, audit, tables }: WatermarkContext): Promise<INodeExecutionData[][]> {
	const acquiredItems: INodeExecutionData[] = [];
	const heldItems: INodeExecutionData[] = [];
	await forEachItem(
		this,
		(itemIndex) => `getting the watermark of stream "${String(this.getNodeParameter('stream', itemIndex, ''))}"`,
		async (itemIndex) => {
			const stream = streamParameter(this, itemIndex);
			const timeZone = chosenTimeZone(this, itemParameter(this, 'timeZone', itemIndex));
			zoneNamed(timeZone);
			const starting = startingPointOf(this, itemIndex, timeZone);
			const lease = leaseOf(this, itemIndex);
			const location = locationOf(this, itemIndex);
			const handedOn = nextBatchLeaseFor(this.getInputData()[itemIndex]?.json.nextBatch, stream, lease.owner);
			if (handedOn) {
				const { retryListInUse, ...rest } = handedOn;
				acquiredItems.push({ json: { ...rest, startedFrom: 'the previous batch of this run', firstRun: false, retry: [], retryListInUse }, pairedItem: { item: itemIndex } });
				return;
			}
			const result = await store.acquire({
				stream,
				owner: lease.owner,
				leaseSeconds: lease.seconds,
				startingCursor: starting.cursor,
				startingReason: `Starting point: ${starting.label}`,
				timeZone,
				location,
				audit,
			});
			if (result.kind === 'held') {
				heldItems.push({
					json: { stream, heldBy: result.owner, leaseExpiresAt: result.until, message: heldByAnotherRunMessage(stream, result.owner, result.until) },
					pairedItem: { item: itemIndex },
				});
				return;
			}
			const state = await withCursorNormalised(store, result.state, audit);
			let startedFrom = 'the stored watermark';
			if (result.firstUse) {
				startedFrom = state.cursor === storedCursorOf(starting.cursor, location) ? starting.label : `the value already in ${describeLocation(location)}`;
				startedFrom += ' (first run)';
			}
			const json: IDataObject = {
				stream,
				cursor: state.cursor,
				token: encodeToken({ stream, generation: state.generation, owner: lease.owner, retryListInUse: result.retry.size > 0, leasePlace: leasePlaceOf(this, tables) }),
				generation: state.generation,
				leaseOwner: state.leaseOwner,
				leaseExpiresAt: state.leaseExpiresAt,
				timeZone: state.timeZone,
				startedFrom,
				firstRun: result.firstUse,
				// The keys the read takes under "Retry Keys" (its default is {{ $json.retry }}): read again first.
				retry: result.retry.due.map((entry) => ({ ...dueRetryOf(entry) })),
				retryListSize: result.retry.size,
			};
			if (result.takenOverFrom) json.takenOverFrom = { ...result.takenOverFrom };
			acquiredItems.push({ json, pairedItem: { item: itemIndex } });
		},
		(item) => heldItems.push(item),
	);
	return [acquiredItems, heldItems];
}
