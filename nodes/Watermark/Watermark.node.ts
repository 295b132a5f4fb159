import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { PICKER_VERSION } from '../shared/columnPicker';
import { databaseProperty, tablesProperty } from './actions/common.descriptions';
import * as get from './actions/get.operation';
import * as history from './actions/history.operation';
import * as recordRun from './actions/recordRun.operation';
import * as retryList from './actions/retryList.operation';
import * as retryParkedAgain from './actions/retryParkedAgain.operation';
import * as rewind from './actions/rewind.operation';
import { router } from './actions/router';
import * as set from './actions/set.operation';
import * as status from './actions/status.operation';
import * as undoLastRewind from './actions/undoLastRewind.operation';
import { credentialTest, listSearch, loadOptions } from './methods';

/** Get has two outputs: "Acquired", and "Held by Another Run", which the sync workflow leaves unconnected. */
const outputsOf = (parameters: { operation?: string }) =>
	parameters.operation === 'get' || parameters.operation === undefined
		? [
				{ type: 'main', displayName: 'Acquired' },
				{ type: 'main', displayName: 'Held by Another Run' },
			]
		: [{ type: 'main' }];

export class Watermark implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Sync Watermark',
		name: 'watermark',
		icon: { light: 'file:watermark.svg', dark: 'file:watermark.dark.svg' },
		group: ['transform'],
		version: [1, PICKER_VERSION],
		defaultVersion: PICKER_VERSION,
		subtitle:
			'={{ ({ get: "Get", set: "Set", rewind: "Rewind", history: "History", undoLastRewind: "Undo Last Rewind", retryList: "Retry List", retryParkedAgain: "Retry Parked Rows Again", status: "Status", recordRun: "Record Run" })[$parameter["operation"]] + ($parameter["operation"] === "set" ? "" : ($parameter["operation"] === "rewind" && $parameter["streams"] === "all") || ($parameter["operation"] === "status" && $parameter["statusStreams"] === "all") ? ": all streams" : ": " + $parameter["stream"]) }}',
		description: 'Keep where each Contracting → CRM stream stopped: get it with a lease, store it, rewind it',
		defaults: { name: 'Sync Watermark' },
		inputs: [NodeConnectionTypes.Main],
		outputs: `={{(${outputsOf.toString()})($parameter)}}`,
		credentials: [
			{
				name: 'crmSqlServerApi',
				required: true,
				testedBy: 'sqlServerConnectionTest',
				displayOptions: { show: { database: ['crm'] } },
			},
			{
				name: 'contractingSqlServerApi',
				required: true,
				testedBy: 'sqlServerConnectionTest',
				displayOptions: { show: { database: ['contracting'] } },
			},
		],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [
					{ name: 'Watermark', value: 'watermark', description: 'Where each stream stopped' },
					{ name: 'Retry List', value: 'retryList', description: 'The rows CRM refused, tried again by the next runs' },
				],
				default: 'watermark',
			},
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				displayOptions: { show: { resource: ['watermark'] } },
				options: [
					{ name: 'Get', value: 'get', description: "Get a stream's watermark and hold the stream for this run", action: 'Get a watermark' },
					{ name: 'History', value: 'history', description: "List a stream's watermark changes, newest first", action: 'List the history of a watermark' },
					{ name: 'Record Run', value: 'recordRun', description: "Record that a stream's run started or finished, for Status", action: 'Record a run of a stream' },
					{ name: 'Rewind', value: 'rewind', description: 'Move one stream or all streams back, so everything since is sent again', action: 'Rewind a watermark' },
					{ name: 'Set', value: 'set', description: 'Store how far the rows written to CRM reach', action: 'Set a watermark' },
					{ name: 'Status', value: 'status', description: 'Whether each stream is healthy: watermark, lease, retry list and last run, read only', action: 'Get the status of the streams' },
					{ name: 'Undo Last Rewind', value: 'undoLastRewind', description: 'Put a stream back where it was before its latest rewind', action: 'Undo the last rewind of a watermark' },
				],
				default: 'get',
			},
			{
				displayName: 'Operation',
				name: 'operation',
				type: 'options',
				noDataExpression: true,
				displayOptions: { show: { resource: ['retryList'] } },
				options: [
					{ name: 'Get Many', value: 'retryList', description: 'List the rows CRM refused for a stream, with attempts and the last error', action: 'Get many rows of the retry list' },
					{
						name: 'Retry Parked Rows Again',
						value: 'retryParkedAgain',
						description: 'Have the next run try parked rows again, or take rows off the retry list',
						action: 'Retry parked rows again',
					},
				],
				default: 'retryList',
			},
			{
				displayName:
					'Works with Watermark Get: Get holds the stream for this run; the CRM node and Set find its token by themselves (Advanced holds the wiring). How they work together: the README of n8n-nodes-contracting-crm, workflows/README.md, section "Sync Watermark".',
				name: 'worksWithGetNotice',
				type: 'notice',
				default: '',
				displayOptions: { show: { operation: ['get', 'set'] } },
			},
			databaseProperty,
			...get.description,
			...set.description,
			...rewind.description,
			...history.description,
			...undoLastRewind.description,
			...retryList.description,
			...retryParkedAgain.description,
			...status.description,
			...recordRun.description,
			tablesProperty,
		],
	};

	methods = { credentialTest, listSearch, loadOptions };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}
}
