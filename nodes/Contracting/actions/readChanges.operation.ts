import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import type { FilterCondition, FilterOperator, MarkerSpec, NullMarkerRule, SourceSpec, TimeEncoding } from '../../shared/core/markers';
import { MAX_LAG_SECONDS } from '../../shared/core/markers';
import { MAX_BATCH_SIZE } from '../../shared/core/changeQuery';
import { displayQualifiedName, parseQualifiedName } from '../../shared/core/identifiers';
import { errorItem, toNodeError } from '../../shared/nodeErrors';
import { checkedChoice, chosenOption, itemCollection } from '../../shared/itemParameter';
import type { PickerSpec } from '../../shared/columnPicker';
import { byVersion, columnRows, namePicker, pickedName, pickedNames } from '../../shared/columnPicker';
import { chosenTimeZone, timeZoneProperty } from '../../shared/timeZoneParameter';
import { DEFAULT_BATCH_SIZE, DEFAULT_MAX_ROWS, MAX_ROWS_PER_EXECUTION, readChanges } from '../helpers/readChanges';
import type { ChangeSource } from '../stores/changeSource';

/** The two streams of the CRM link; Custom reads any table as a stream of its own name. */
export const STREAM_PRESETS: Record<string, { stream: string; table: string }> = {
	customers: { stream: 'customers', table: 'dbo.Customers' },
	orders: { stream: 'orders', table: 'dbo.Orders' },
};

function tableLocator(preset: string, defaultTable: string): INodeProperties {
	return {
		displayName: 'Source Table',
		name: 'table',
		type: 'resourceLocator',
		default: { mode: defaultTable ? 'name' : 'list', value: defaultTable },
		required: true,
		description: 'The table or view of the Contracting database to read changed rows from',
		modes: [
			{ displayName: 'From List', name: 'list', type: 'list', typeOptions: { searchListMethod: 'tableSearch', searchable: true } },
			{ displayName: 'By Name', name: 'name', type: 'string', placeholder: 'e.g. dbo.Customers' },
		],
		displayOptions: { show: { operation: ['readChanges'], streamPreset: [preset] } },
	};
}

const show = (extra: Record<string, string[]> = {}) => ({ show: { operation: ['readChanges'], ...extra } });

const COLUMN_CHOICE = {
	loadOptionsMethod: 'getColumns',
	loadOptionsDependsOn: ['table.value'],
};

/** A column of the source table, picked from its columns or typed by name. */
const sourceColumn = (spec: Omit<PickerSpec, 'searchListMethod' | 'dependsOn'>): PickerSpec => ({ searchListMethod: 'columnSearch', dependsOn: ['table.value'], ...spec });

/**
 * A column the chosen change marker is read from. Its default is the Contracting schema's own column name, by
 * name, so a new node shows it without asking the database.
 */
function markerColumn(name: string, displayName: string, defaultColumn: string, markerKind: MarkerSpec['kind'], what: string): INodeProperties {
	return {
		...namePicker(sourceColumn({ name, displayName, description: what, placeholder: `e.g. ${defaultColumn}`, defaultName: defaultColumn })),
		required: true,
		displayOptions: show({ markerKind: [markerKind] }),
	};
}

const filterOperatorProperty: INodeProperties = {
	displayName: 'Operator',
	name: 'operator',
	type: 'options',
	options: [
		{ name: 'Equal', value: 'equal' },
		{ name: 'Greater Than', value: 'greater' },
		{ name: 'Greater Than or Equal', value: 'greaterOrEqual' },
		{ name: 'Is Empty', value: 'isNull' },
		{ name: 'Is Not Empty', value: 'isNotNull' },
		{ name: 'Less Than', value: 'less' },
		{ name: 'Less Than or Equal', value: 'lessOrEqual' },
		{ name: 'Like', value: 'like', description: 'SQL LIKE on a text column: % any text, _ one character' },
		{ name: 'Not Equal', value: 'notEqual', description: 'Rows where the column is empty (NULL) do not match' },
	],
	default: 'equal',
};

/** The conditions of the filter, whose column is a plain list in version 1 and a picker from 1.1. */
function filtersProperty(column: INodeProperties): INodeProperties {
	return {
		displayName: 'Filter',
		name: 'filters',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add condition',
		default: {},
		description: 'Only rows matching every condition are read. A row that stops matching is not seen again until it matches again.',
		displayOptions: show(),
		options: [
			{
				displayName: 'Conditions',
				name: 'conditions',
				values: [
					column,
					filterOperatorProperty,
					{
						displayName: 'Value',
						name: 'value',
						type: 'string',
						default: '',
						description: 'Sent to SQL Server as a parameter of the column\'s type, never as SQL text',
						displayOptions: { hide: { operator: ['isNull', 'isNotNull'] } },
					},
				],
			},
		],
	};
}

/** The read's Options, also read by name in forEachSourceItem (itemCollection converts them to their types). */
const optionsProperty: INodeProperties = {
	displayName: 'Options',
	name: 'options',
	type: 'collection',
	placeholder: 'Add option',
	default: {},
	displayOptions: show(),
	options: [
		{
			displayName: 'Batch Size',
			name: 'batchSize',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: MAX_BATCH_SIZE },
			default: DEFAULT_BATCH_SIZE,
			description: 'Rows per round trip to SQL Server; each output item tells which batch it came in',
		},
		{
			displayName: 'Max Rows per Execution',
			name: 'maxRows',
			type: 'number',
			typeOptions: { minValue: 1, maxValue: MAX_ROWS_PER_EXECUTION },
			default: DEFAULT_MAX_ROWS,
			description: 'Stop after this many rows; the last item\'s _sync.hasMore tells the workflow to run again',
		},
		{
			displayName: 'Rows Without a Change Marker',
			name: 'nullMarkers',
			type: 'options',
			// Checked against its choices when the node runs (itemCollection): an expression can give any text.
			validateType: 'options',
			options: [
				{ name: 'Read on the First Run Only', value: 'firstRunOnly', description: 'Read once when reading from the beginning, before every other row' },
				{ name: 'Never Read', value: 'never' },
			],
			default: 'firstRunOnly',
			description: 'What to do with rows whose change marker is empty (NULL). After the first run they are not seen until their marker is set.',
		},
		{
			displayName: 'Safety Lag (Seconds)',
			name: 'lagSeconds',
			type: 'number',
			typeOptions: { minValue: 0, maxValue: MAX_LAG_SECONDS },
			default: 60,
			description:
				'Rows changed within this many seconds of the database server\'s clock are left for the next run, so a transaction still in flight is never jumped over. 0 reads right up to now (only safe if nothing writes the marker inside a long transaction).',
		},
		timeZoneProperty(
			"The zone the change marker's wall-clock times are written in: for GETDATE(), the SQL Server machine's zone; for UTC columns, UTC",
		),
	],
};

/** How rows are told apart as changed; read as one of its choices (chosenOption). */
const markerKindProperty: INodeProperties = {
	displayName: 'Change Marker',
	name: 'markerKind',
	type: 'options',
	noDataExpression: true,
	options: [
		{ name: 'Date-Time Column', value: 'datetime', description: 'One datetime, datetime2 or smalldatetime column set on every change' },
		{
			name: 'Date Column + Time Column',
			value: 'dateAndTime',
			description: 'A date and a time column, as the original CRM link\'s "last change date" and "last change time" (also integer yyyymmdd + hhmmss or hhmm)',
		},
		{ name: 'Rowversion Column', value: 'rowversion', description: 'A rowversion (timestamp) column: SQL Server changes it on every update' },
		{ name: 'Change Tracking', value: 'changeTracking', description: 'SQL Server Change Tracking on the table: also sees deleted rows' },
	],
	default: 'datetime',
	description: 'How the node tells which rows changed since the watermark',
	displayOptions: show(),
};

/** How an integer time column holds the time; read as one of its choices (chosenOption): a wrong encoding would misread every marker. */
const timeEncodingProperty: INodeProperties = {
	displayName: 'Time Encoding',
	name: 'timeEncoding',
	type: 'options',
	options: [
		{ name: 'Hours Minutes Seconds (134501 = 13:45:01)', value: 'hhmmss' },
		{ name: 'Hours Minutes (1345 = 13:45)', value: 'hhmm' },
	],
	default: 'hhmmss',
	description: 'How an integer time column holds the time (ignored for a time column)',
	displayOptions: show({ markerKind: ['dateAndTime'] }),
};

const outputColumnsModeProperty: INodeProperties = {
	displayName: 'Columns to Output',
	name: 'outputColumnsMode',
	type: 'options',
	options: [
		{ name: 'All Columns', value: 'all' },
		{ name: 'Selected Columns', value: 'selected' },
	],
	default: 'all',
	description: 'Which columns of each row to output; the key columns are always output',
	displayOptions: show(),
};

const streamPresetProperty: INodeProperties = {
	displayName: 'Stream',
	name: 'streamPreset',
	type: 'options',
	noDataExpression: true,
	options: [
		{ name: 'Customers', value: 'customers', description: 'Stream "customers" from dbo.Customers' },
		{ name: 'Orders', value: 'orders', description: 'Stream "orders" from dbo.Orders' },
		{ name: 'Custom', value: 'custom', description: 'Any table or view, as a stream with a name of your own' },
	],
	default: 'customers',
	description: 'Which stream this node reads: it names the watermark and fills in the source table',
	displayOptions: show(),
};

export const description: INodeProperties[] = [
	streamPresetProperty,
	{
		displayName: 'Stream Name',
		name: 'streamName',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. projects',
		description: 'The name the watermark of this stream is stored under',
		displayOptions: show({ streamPreset: ['custom'] }),
	},
	tableLocator('customers', STREAM_PRESETS.customers.table),
	tableLocator('orders', STREAM_PRESETS.orders.table),
	tableLocator('custom', ''),
	...byVersion(
		{
			displayName: 'Key Column Names or IDs',
			name: 'keyColumns',
			type: 'multiOptions',
			typeOptions: COLUMN_CHOICE,
			default: [],
			description:
				'The columns that identify a row. Leave empty for the primary key. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
			displayOptions: show(),
		},
		{
			...columnRows('keyColumns', 'Key Columns', 'The columns that identify a row. Leave empty for the primary key.', sourceColumn({ name: 'column', displayName: 'Key Column', description: 'A column of the key', placeholder: 'e.g. CustomerNo' })),
			displayOptions: show(),
		},
	),
	markerKindProperty,
	markerColumn('markerColumn', 'Marker Column', 'ChangedAt', 'datetime', 'The column set to the date and time of each change'),
	markerColumn('dateColumn', 'Date Column', 'LastChangeDate', 'dateAndTime', 'The date of each change: a date or datetime column, or an integer holding yyyymmdd'),
	markerColumn('timeColumn', 'Time Column', 'LastChangeTime', 'dateAndTime', 'The time of each change: a time column, or an integer (see Time Encoding)'),
	timeEncodingProperty,
	markerColumn('rowversionColumn', 'Rowversion Column', 'RowVer', 'rowversion', 'The rowversion (timestamp) column'),
	outputColumnsModeProperty,
	...byVersion(
		{
			displayName: 'Column Names or IDs',
			name: 'outputColumns',
			type: 'multiOptions',
			typeOptions: COLUMN_CHOICE,
			default: [],
			description: 'Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>',
			displayOptions: show({ outputColumnsMode: ['selected'] }),
		},
		{
			...columnRows('outputColumns', 'Columns', 'The columns to output besides the key columns', sourceColumn({ name: 'column', displayName: 'Column', description: 'A column to output', placeholder: 'e.g. Name' })),
			displayOptions: show({ outputColumnsMode: ['selected'] }),
		},
	),
	...byVersion(
		filtersProperty({
			displayName: 'Column Name or ID',
			name: 'column',
			type: 'options',
			typeOptions: COLUMN_CHOICE,
			default: '',
			description: 'Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>',
		}),
		filtersProperty(namePicker(sourceColumn({ name: 'column', displayName: 'Column', description: 'The column the condition tests', placeholder: 'e.g. Country' }))),
	),
	{
		displayName:
			'Reads from where the Sync Watermark node\'s Get before it says the stream stopped (its "cursor" and "retry" fields). <a href="https://github.com/contracting-crm/n8n-nodes-contracting-crm/blob/main/workflows/README.md#visma-contracting" target="_blank">How the two work together</a>',
		name: 'watermarkNotice',
		type: 'notice',
		default: '',
		displayOptions: show(),
	},
	{
		displayName: 'Advanced',
		name: 'advanced',
		type: 'collection',
		placeholder: 'Add advanced setting',
		default: {},
		description: 'Only for reads that do not come straight after a Sync Watermark Get',
		displayOptions: show(),
		options: [
			{
				displayName: 'Retry Keys',
				name: 'retryKeys',
				type: 'json',
				default: '={{ $json.retry }}',
				description:
					'The keys of rows CRM refused before: their current rows are read first and output with _sync.retry = true (a key no longer in the table as a delete). Without this setting: the "retry" field of the input item, as Get gives it.',
			},
			{
				displayName: 'Since',
				name: 'since',
				type: 'string',
				default: '={{ $json.cursor }}',
				description:
					'The watermark to read after. Without this setting: the "cursor" field of the input item, as Get gives it. Empty reads from the beginning; a watermark that cannot be read stops the node.',
			},
		],
	},
	optionsProperty,
];

function markerSpecOf(context: IExecuteFunctions, itemIndex: number): MarkerSpec {
	const kind = chosenOption<MarkerSpec['kind']>(context, markerKindProperty, itemIndex);
	// Picked from the list or typed by name; a workflow saved before these were pickers holds the plain name.
	const column = (name: string) => String(context.getNodeParameter(name, itemIndex, '', { extractValue: true }));
	switch (kind) {
		case 'datetime':
			return { kind, column: column('markerColumn') };
		case 'dateAndTime':
			return {
				kind,
				dateColumn: column('dateColumn'),
				timeColumn: column('timeColumn'),
				timeEncoding: chosenOption<TimeEncoding>(context, timeEncodingProperty, itemIndex),
			};
		case 'rowversion':
			return { kind, column: column('rowversionColumn') };
		case 'changeTracking':
			return { kind };
	}
}

function streamOf(context: IExecuteFunctions, itemIndex: number): string {
	const preset = chosenOption<keyof typeof STREAM_PRESETS | 'custom'>(context, streamPresetProperty, itemIndex);
	if (preset !== 'custom') return STREAM_PRESETS[preset].stream;
	const name = (context.getNodeParameter('streamName', itemIndex) as string).trim();
	if (name === '') throw new NodeOperationError(context.getNode(), 'Stream Name is empty', { itemIndex, description: 'Give the stream the name its watermark is stored under.' });
	return name;
}

function sourceSpecOf(context: IExecuteFunctions, itemIndex: number, options: IDataObject): SourceSpec {
	// First: the fields shown below depend on the stream's preset, and n8n finds none of them for a preset that is not one.
	const stream = streamOf(context, itemIndex);
	const tableText = context.getNodeParameter('table', itemIndex, '', { extractValue: true }) as string;
	if (tableText.trim() === '') throw new NodeOperationError(context.getNode(), 'No source table is chosen', { itemIndex, description: 'Pick the table from the list or type its name, e.g. dbo.Customers.' });
	const filters = ((context.getNodeParameter('filters', itemIndex, {}) as IDataObject).conditions ?? []) as IDataObject[];
	// Any other text would be read as "selected": a hand-edited "All" output the key columns only, and a mapping that
	// reads the other fields then wrote them to CRM as empty.
	const outputMode = chosenOption(context, outputColumnsModeProperty, itemIndex, 'all');
	return {
		stream,
		table: parseQualifiedName(tableText),
		keyColumns: pickedNames(context.getNodeParameter('keyColumns', itemIndex, [])),
		marker: markerSpecOf(context, itemIndex),
		outputColumns: outputMode === 'all' ? 'all' : pickedNames(context.getNodeParameter('outputColumns', itemIndex, [])),
		filters: filters.map(
			(condition): FilterCondition => ({
				column: pickedName(condition.column),
				// Any other text reached the SQL text as "undefined", and SQL Server's syntax error named nothing a partner set.
				operator: checkedChoice<FilterOperator>(context, `'Operator' in Filter`, filterOperatorProperty, condition.operator ?? 'equal', itemIndex),
				value: condition.value as FilterCondition['value'],
			}),
		),
		timeZone: chosenTimeZone(context, options.timeZone),
		lagSeconds: Number(options.lagSeconds ?? 60),
		nullMarkers: (options.nullMarkers ?? 'firstRunOnly') as NullMarkerRule,
	};
}

/**
 * Where the read starts and which refused rows it reads again: what Watermark Get handed over in the input item,
 * unless Advanced says otherwise; and, on a run's later batches, the read window of its first (with the lease).
 */
export function handoverOf(context: IExecuteFunctions, itemIndex: number): { since: unknown; retryKeys: unknown; window: unknown } {
	const advanced = context.getNodeParameter('advanced', itemIndex, {}) as IDataObject;
	const item = context.getInputData()[itemIndex]?.json ?? {};
	return { since: 'since' in advanced ? advanced.since : item.cursor, retryKeys: 'retryKeys' in advanced ? advanced.retryKeys : item.retry, window: item.window };
}

/**
 * Runs `work` once per input item on that item's source and Options, each output item paired with its input item. A
 * failure stops the node with an error naming the table, or, with "Continue On Fail", becomes an item carrying the error.
 */
export async function forEachSourceItem(
	context: IExecuteFunctions,
	doing: string,
	work: (spec: SourceSpec, itemIndex: number, options: IDataObject) => Promise<IDataObject[]>,
): Promise<INodeExecutionData[]> {
	const output: INodeExecutionData[] = [];
	const items = context.getInputData();
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		let failure: unknown;
		let tableName = 'the source table';
		try {
			// Read once, and without n8n's expression engine where Options only name a field (as the shipped sync's do).
			const options = itemCollection(context, optionsProperty, itemIndex);
			const spec = sourceSpecOf(context, itemIndex, options);
			tableName = displayQualifiedName(spec.table);
			const results = await work(spec, itemIndex, options);
			// One pairing for every row of the item: n8n only reads it, and a re-send would otherwise make one per row.
			const pairedItem = { item: itemIndex };
			for (const json of results) output.push({ json, pairedItem });
			continue;
		} catch (error) {
			failure = error;
		}
		const nodeError = toNodeError(context.getNode(), failure, { itemIndex, doing: `${doing} ${tableName}` });
		if (!context.continueOnFail()) throw nodeError;
		output.push(errorItem(context, nodeError, { item: itemIndex }));
	}
	return output;
}

/** Reads once per input item: the rows changed since that item's watermark, each with its `_sync` info. */
export async function execute(this: IExecuteFunctions, source: ChangeSource): Promise<INodeExecutionData[]> {
	return await forEachSourceItem(this, 'reading changes from', async (spec, itemIndex, options) => {
		const { since, retryKeys, window } = handoverOf(this, itemIndex);
		const limits = { batchSize: Number(options.batchSize ?? DEFAULT_BATCH_SIZE), maxRows: Number(options.maxRows ?? DEFAULT_MAX_ROWS) };
		return await readChanges(source, spec, since, limits, retryKeys, window);
	});
}
