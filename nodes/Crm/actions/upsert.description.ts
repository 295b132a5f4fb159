import type { IDisplayOptions, INodeProperties, NodeParameterValueType } from 'n8n-workflow';

import { byVersion, namePicker } from '../../shared/columnPicker';

const showForUpsert = { show: { operation: ['upsert'] } };

/**
 * The column mapping. Under Other Table it appears once a table is set, as n8n's Postgres node does, so it never
 * shows an error for a table not chosen yet; the two variants are one parameter, shown under exclusive conditions.
 */
function columnsProperty(displayOptions: IDisplayOptions): INodeProperties {
	return {
		displayName: 'Columns',
		name: 'columns',
		type: 'resourceMapper',
		noDataExpression: true,
		default: { mappingMode: 'autoMapInputData', value: null },
		required: true,
		displayOptions,
		typeOptions: {
			loadOptionsDependsOn: ['target', 'table.value'],
			resourceMapper: {
				resourceMapperMethod: 'getMappingColumns',
				mode: 'upsert',
				fieldWords: { singular: 'column', plural: 'columns' },
				addAllFields: true,
				multiKeyMatch: true,
				supportAutoMap: true,
				matchingFieldsLabels: {
					title: 'Columns to Match On',
					description: 'The key that finds the CRM row to update; sending the same item again then never adds a second row',
				},
			},
		},
	};
}

/** A column of the target table the node can write, in version 1's plain list. */
const writableColumnList = (name: string, displayName: string): INodeProperties => ({
	displayName,
	name,
	type: 'options',
	typeOptions: { loadOptionsMethod: 'getWritableColumns', loadOptionsDependsOn: ['target', 'table.value'] },
	default: '',
	description: 'Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>',
});

/** A column of the target table the node can write, picked from the list or typed by name. */
const writableColumnPicker = (name: string, displayName: string, description: string): INodeProperties =>
	namePicker({ name, displayName, description, searchListMethod: 'writableColumnSearch', placeholder: 'e.g. IsActive', dependsOn: ['target', 'table.value'] });

/** A column of the lookup's own table (From Table of the same lookup). */
const lookupColumnPicker = (name: string, displayName: string, placeholder: string, description: string): INodeProperties =>
	namePicker({ name, displayName, description, searchListMethod: 'lookupColumnSearch', placeholder });

export const setToProperty: INodeProperties = {
	displayName: 'Set To',
	name: 'setTo',
	type: 'options',
	options: [
		{ name: 'A Value', value: 'value', description: 'The value below, converted to the column\'s type' },
		{ name: 'Empty (NULL)', value: 'null' },
		{ name: 'The Time of Writing (UTC)', value: 'now', description: 'For a date column; a row already marked keeps its first time' },
	],
	default: 'value',
};

/** "Columns to Set on Deleted Rows": its column a plain list in version 1, a picker from 1.1 (its default columns saved in the shape `savedAs` gives). */
function deleteColumnsProperty(column: INodeProperties, savedAs: (column: string) => NodeParameterValueType): INodeProperties {
	return {
		displayName: 'Columns to Set on Deleted Rows',
		name: 'deleteColumns',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add column',
		displayOptions: { show: { operation: ['upsert'], deletes: ['markDeleted'] } },
		default: { column: [{ column: savedAs('IsActive'), setTo: 'value', value: '0' }, { column: savedAs('DeletedAt'), setTo: 'now' }] },
		options: [
			{
				displayName: 'Column',
				name: 'column',
				values: [
					column,
					setToProperty,
					{
						displayName: 'Value',
						name: 'value',
						type: 'string',
						default: '',
						placeholder: 'e.g. 0',
						description: 'Converted to the column\'s type, e.g. 0 for a bit column',
						displayOptions: { show: { setTo: ['value'] } },
					},
				],
			},
		],
	};
}

const LOOKUP_TABLE = 'The CRM table to look in, as schema.table';
const LOOKUP_KEY = 'A unique column of that table';
const LOOKUP_VALUE = 'The column whose value is written; empty: that table\'s primary key';

/** "Look Up Columns", with the table and columns of each lookup as version 1 typed them or as pickers from 1.1. */
function lookupsProperty(fields: Record<'targetColumn' | 'fromTable' | 'keyColumn' | 'valueColumn', INodeProperties>): INodeProperties {
	return {
		displayName: 'Look Up Columns',
		name: 'lookups',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true },
		placeholder: 'Add lookup',
		displayOptions: { show: { operation: ['upsert'], target: ['table'] } },
		default: {},
		description: 'Fill a column from another CRM table by a natural key, e.g. CompanyId from dbo.Company where CustomerNo is the item\'s CustomerNo',
		options: [
			{
				displayName: 'Lookup',
				name: 'lookup',
				values: [
					fields.targetColumn,
					fields.fromTable,
					fields.keyColumn,
					{
						displayName: 'Equals Item Field',
						name: 'itemField',
						type: 'string',
						default: '',
						placeholder: 'e.g. CustomerNo',
						description: 'The item\'s field holding the value; empty: the field named like the column',
					},
					fields.valueColumn,
					{
						displayName: 'Name in Messages',
						name: 'label',
						type: 'string',
						default: '',
						placeholder: 'e.g. Customer',
						description: 'How a missing row is named: "Customer 123 is not in CRM yet"',
					},
				],
			},
		],
	};
}

/** What a deleted row does in CRM, read by upsertSettingsOf as one of its choices (chosenOption): any other value must not delete. */
export const deletesProperty: INodeProperties = {
	displayName: 'Deleted in Contracting',
	name: 'deletes',
	type: 'options',
	noDataExpression: true,
	displayOptions: showForUpsert,
	options: [
		{
			name: 'Mark the CRM Row',
			value: 'markDeleted',
			description: 'Set columns of the CRM row, e.g. IsActive = 0 and DeletedAt = now; the row and its history stay',
		},
		{
			name: 'Delete the CRM Row',
			value: 'delete',
			description: 'Remove the CRM row',
		},
		{
			name: 'Ignore',
			value: 'ignore',
			description: 'Leave CRM as it is; the item is reported as ignored',
		},
	],
	default: 'markDeleted',
	description: 'What to do with items the Contracting node reports as deleted (Change Tracking)',
};

/** The upsert's Options, read by upsertSettingsOf (itemCollection converts them to their types). */
export const upsertOptionsProperty: INodeProperties = {
	displayName: 'Options',
	name: 'options',
	type: 'collection',
	placeholder: 'Add option',
	displayOptions: showForUpsert,
	default: {},
	options: [
		{
			displayName: 'Batch Size',
			name: 'batchSize',
			type: 'number',
			typeOptions: { minValue: 1 },
			default: 1000,
			description: 'Items written per statement and transaction',
		},
		{
			displayName: 'Dry Run',
			name: 'dryRun',
			type: 'boolean',
			default: false,
			description: 'Whether to only report what would be inserted, updated, left unchanged or deleted, without writing. Items then carry "wouldBe" instead of "status", so a Watermark node after this one does not move.',
		},
	],
};

export const upsertProperties: INodeProperties[] = [
	{
		displayName: 'Target',
		name: 'target',
		type: 'options',
		noDataExpression: true,
		displayOptions: showForUpsert,
		options: [
			{
				name: 'Customers → dbo.Company',
				value: 'customers',
				description: 'Visma CRM companies, matched on CustomerNo',
			},
			{
				name: 'Orders → dbo.SalesOrder',
				value: 'orders',
				description: 'Visma CRM sales orders, matched on OrderNo; CompanyId is looked up in dbo.Company by the item\'s CustomerNo',
			},
			{
				name: 'Other Table',
				value: 'table',
				description: 'Any table of the CRM database, picked from the list',
			},
		],
		default: 'customers',
		description: 'Where the items are written',
	},
	{
		displayName: 'Table',
		name: 'table',
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		required: true,
		displayOptions: { show: { operation: ['upsert'], target: ['table'] } },
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				placeholder: 'Select a table…',
				typeOptions: { searchListMethod: 'tableSearch', searchable: true },
			},
			{
				displayName: 'By Name',
				name: 'name',
				type: 'string',
				placeholder: 'e.g. dbo.Company',
			},
		],
		description: 'The CRM table to upsert into',
	},
	columnsProperty({ show: { operation: ['upsert'], target: ['customers', 'orders'] } }),
	columnsProperty({ show: { operation: ['upsert'], target: ['table'] }, hide: { table: [''] } }),
	deletesProperty,
	...byVersion(
		deleteColumnsProperty(
			writableColumnList('column', 'Column Name or ID'),
			(column) => column,
		),
		deleteColumnsProperty(writableColumnPicker('column', 'Column', 'The column to set'), (column) => ({ mode: 'name', value: column })),
	),
	...byVersion(
		lookupsProperty({
			targetColumn: {
				...writableColumnList('targetColumn', 'Fill Column Name or ID'),
				description: 'The column to fill. Choose from the list, or specify an ID using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
			},
			fromTable: { displayName: 'From Table', name: 'fromTable', type: 'string', default: '', placeholder: 'e.g. dbo.Company', description: LOOKUP_TABLE },
			keyColumn: { displayName: 'Where Column', name: 'keyColumn', type: 'string', default: '', placeholder: 'e.g. CustomerNo', description: LOOKUP_KEY },
			valueColumn: { displayName: 'Copy Column', name: 'valueColumn', type: 'string', default: '', placeholder: 'e.g. CompanyId', description: LOOKUP_VALUE },
		}),
		lookupsProperty({
			targetColumn: writableColumnPicker('targetColumn', 'Fill Column', 'The column to fill'),
			fromTable: namePicker({ name: 'fromTable', displayName: 'From Table', searchListMethod: 'tableSearch', placeholder: 'e.g. dbo.Company', description: LOOKUP_TABLE }),
			keyColumn: lookupColumnPicker('keyColumn', 'Where Column', 'e.g. CustomerNo', LOOKUP_KEY),
			valueColumn: lookupColumnPicker('valueColumn', 'Copy Column', 'e.g. CompanyId', LOOKUP_VALUE),
		}),
	),
	upsertOptionsProperty,
];
