/**
 * Count Changes Since Watermark: the COUNT statement is built from the very conditions the batch statement
 * reads with (so a count can only differ from a read by rows changed in between), the SQL Server adapter sends
 * it in one round trip, and the node outputs one item per input item.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { INodeParameters, INodeProperties, IWorkflowBase } from 'n8n-workflow';

import * as countChangesOperation from '../../nodes/Contracting/actions/countChanges.operation';
import * as readChangesOperation from '../../nodes/Contracting/actions/readChanges.operation';
import { SqlServerChangeSource } from '../../nodes/Contracting/stores/sqlServerChangeSource';
import { DESCRIBE_TABLE_QUERY } from '../../nodes/shared/catalog';
import type { ReadWindow } from '../../nodes/shared/core/changeQuery';
import { changeBatchRequest, changeCountRequest } from '../../nodes/shared/core/changeQuery';
import type { Cursor } from '../../nodes/shared/core/cursor';
import { beginningCursor, serializeCursor } from '../../nodes/shared/core/cursor';
import type { MarkerSpec, SourcePlan, SourceSpec } from '../../nodes/shared/core/markers';
import { resolveSourcePlan } from '../../nodes/shared/core/markers';
import { restoreAllSeams } from '../../nodes/shared/seams';
import type { SqlRequest } from '../../nodes/shared/transport/types';
import { catalogueResult } from '../support/catalogueAnswer';
import { CONTRACTING_TEST_CREDENTIALS, contractingWorkflow } from '../support/contractingWorkflow';
import type { TableDefinition } from '../support/memory/memoryChangeSource';
import { MemoryChangeSource } from '../support/memory/memoryChangeSource';
import { RecordingSqlTransport, resultOf, useRecordingTransport } from '../support/recordingTransport';
import { sourceSpecFor } from '../support/sourceSpec';
import { runWorkflow } from '../support/workflowRunner';

const customers: TableDefinition = {
	name: 'dbo.Customers',
	columns: [
		{ name: 'CustomerNo', type: 'int', nullable: false },
		{ name: 'Name', type: 'nvarchar(100)', nullable: false },
		{ name: 'City', type: 'nvarchar(100)' },
		{ name: 'ChangedAt', type: 'datetime2(7)' },
		{ name: 'LegacyChangedAt', type: 'datetime' },
		{ name: 'LastChangeDate', type: 'int' },
		{ name: 'LastChangeTime', type: 'int' },
		{ name: 'RowVer', type: 'rowversion' },
	],
	primaryKey: ['CustomerNo'],
	changeTracking: true,
};

const planFor = (marker: MarkerSpec, overrides: Partial<SourceSpec> = {}): SourcePlan =>
	resolveSourcePlan(new MemoryChangeSource().define(customers).catalog, sourceSpecFor('dbo.Customers', marker, overrides));

const MARKER = '2024-11-18T08:00:00.1234567';
const dateTimeWindow: ReadWindow = { upperBound: '2024-12-01T12:59:00.000' };
const withoutTake = (request: SqlRequest) => request.parameters.filter((parameter) => parameter.name !== 'take');
/** WHERE … of a keyset statement, up to ORDER BY (a read) or the end (a count). */
/** FROM … WHERE … of a keyset statement (the date + time marker's CROSS APPLY included). */
const fromWhereOf = (text: string) => (/\n(FROM [\s\S]*?)(?:\nORDER BY [^\n]*)?;$/.exec(text) ?? [])[1];
const cityFilter = { filters: [{ column: 'City', operator: 'equal' as const, value: 'Oslo' }] };

describe('Count Changes\' parameters are Read Changes\' own source parameters', () => {
	const withoutOperation = (property: INodeProperties) => {
		const { operation, ...show } = property.displayOptions?.show ?? {};
		return { property: { ...property, displayOptions: { ...property.displayOptions, show } }, operation };
	};

	it('each is the read\'s parameter, shown for counting instead of reading', () => {
		const read = readChangesOperation.description.map(withoutOperation);
		const count = countChangesOperation.description.map(withoutOperation);
		assert.ok(count.every((parameter) => JSON.stringify(parameter.operation) === JSON.stringify(['countChanges'])));
		const readSource = read.filter(({ property }) => countChangesOperation.SOURCE_PARAMETERS.has(property.name));
		assert.deepEqual(
			count.filter(({ property }) => property.type !== 'collection').map(({ property }) => property),
			readSource.map(({ property }) => property),
		);
		const inside = (parameters: typeof read, collection: string) =>
			(parameters.find(({ property }) => property.name === collection)?.property.options ?? []) as INodeProperties[];
		for (const collection of ['options', 'advanced']) {
			assert.deepEqual(inside(count, collection), inside(read, collection).filter((option) => countChangesOperation.SOURCE_OPTIONS.has(option.name)));
		}
		assert.deepEqual(inside(count, 'options').map((option) => option.name), ['nullMarkers', 'lagSeconds', 'timeZone']);
		assert.deepEqual(inside(count, 'advanced').map((option) => option.name), ['since']);
	});

	it('leaves out what only shapes the read\'s output: columns, batch size, cap', () => {
		const names = countChangesOperation.description.map((property) => property.name);
		for (const outputOnly of ['outputColumnsMode', 'outputColumns']) assert.ok(!names.includes(outputOnly));
		assert.ok(readChangesOperation.description.some((property) => property.name === 'outputColumnsMode'), 'the read has them');
	});
});

describe('count statement: the read\'s own conditions under COUNT_BIG(*)', () => {
	const keysetCases: Array<[string, MarkerSpec, Cursor, Partial<SourceSpec>]> = [
		['date-time, from the beginning (rows without a marker included)', { kind: 'datetime', column: 'ChangedAt' }, beginningCursor('datetime'), {}],
		['date-time, part-way through the rows without a marker', { kind: 'datetime', column: 'ChangedAt' }, { kind: 'datetime', marker: null, key: ['17'] }, {}],
		['date-time, from a rewound watermark (a marker, no key)', { kind: 'datetime', column: 'ChangedAt' }, { kind: 'datetime', marker: MARKER, key: null }, {}],
		['date-time, from the middle of a marker, with a filter', { kind: 'datetime', column: 'ChangedAt' }, { kind: 'datetime', marker: MARKER, key: ['17'] }, cityFilter],
		['date-time, rows without a marker never read', { kind: 'datetime', column: 'ChangedAt' }, beginningCursor('datetime'), { nullMarkers: 'never' }],
		['legacy datetime', { kind: 'datetime', column: 'LegacyChangedAt' }, { kind: 'datetime', marker: '2024-11-18T08:00:00.003', key: ['4'] }, {}],
		[
			'date + time integers',
			{ kind: 'dateAndTime', dateColumn: 'LastChangeDate', timeColumn: 'LastChangeTime', timeEncoding: 'hhmmss' },
			{ kind: 'dateAndTime', marker: '2024-11-18T08:00:00', key: null },
			{},
		],
		['rowversion', { kind: 'rowversion', column: 'RowVer' }, { kind: 'rowversion', marker: '0x00000000000007D5', key: ['3'] }, {}],
	];
	for (const [name, marker, from, overrides] of keysetCases) {
		it(name, () => {
			const plan = planFor(marker, overrides);
			const window = marker.kind === 'rowversion' ? { upperBound: '0x0000000000000900' } : dateTimeWindow;
			const read = changeBatchRequest(plan, window, from, 1000);
			const count = changeCountRequest(plan, window, from);
			const fromWhere = fromWhereOf(read.text);
			assert.ok(fromWhere?.includes('\nWHERE '), 'the read has a WHERE');
			assert.equal(count.text, `SELECT COUNT_BIG(*) AS changeCount\n${fromWhere};`);
			assert.deepEqual(count.parameters, withoutTake(read), 'the same typed parameters, minus the batch size');
		});
	}

	const MIN_VALID_VERSION_CHECK = 'SELECT CONVERT(varchar(20), CHANGE_TRACKING_MIN_VALID_VERSION(OBJECT_ID(@table))) AS minValidVersion;';
	const changesPart = (text: string) => /FROM CHANGETABLE\(CHANGES [\s\S]*?(?=\nORDER BY|\) AS changeCount;|;$)/.exec(text)?.[0];

	it('Change Tracking after a version: the CHANGETABLE rows the read sends, deletes included', () => {
		const plan = planFor({ kind: 'changeTracking' }, cityFilter);
		const from: Cursor = { kind: 'changeTracking', marker: '42', key: ['7'] };
		const window = { upperBound: '50', snapshotVersion: '50' };
		const read = changeBatchRequest(plan, window, from, 1000);
		const count = changeCountRequest(plan, window, from);
		assert.ok(changesPart(read.text));
		assert.equal(count.text, `DECLARE @since bigint = CONVERT(bigint, @sinceText);\nSELECT COUNT_BIG(*) AS changeCount\n${changesPart(read.text)};\n${MIN_VALID_VERSION_CHECK}`);
		assert.deepEqual(count.parameters, withoutTake(read));
	});

	it('Change Tracking from the beginning: the full read\'s rows plus the changes since it began', () => {
		const plan = planFor({ kind: 'changeTracking' }, cityFilter);
		const window = { upperBound: '50', snapshotVersion: '50' };
		for (const from of [beginningCursor('changeTracking'), { kind: 'changeTracking' as const, marker: null, key: ['7'], snapshotVersion: '44' }]) {
			const read = changeBatchRequest(plan, window, from, 1000);
			const count = changeCountRequest(plan, window, from);
			const snapshotPart = /FROM \[dbo\]\.\[Customers\] AS src[\s\S]*?(?=\nORDER BY)/.exec(read.text)?.[0];
			assert.ok(snapshotPart && changesPart(read.text));
			assert.equal(
				count.text,
				`DECLARE @since bigint = CONVERT(bigint, @sinceText);\nSELECT (SELECT COUNT_BIG(*)\n${snapshotPart})\n     + (SELECT COUNT_BIG(*)\n${changesPart(read.text)}) AS changeCount;\n${MIN_VALID_VERSION_CHECK}`,
			);
			assert.deepEqual(count.parameters, withoutTake(read));
		}
	});
});

describe('SQL Server change source: countChanges against the transport double', () => {
	const plan = planFor({ kind: 'datetime', column: 'ChangedAt' });
	const from: Cursor = { kind: 'datetime', marker: MARKER, key: null };

	it('sends the count statement in one round trip and reads COUNT_BIG\'s text as a number', async () => {
		const double = new RecordingSqlTransport(() => resultOf([{ changeCount: '1234567' }]));
		const rows = await new SqlServerChangeSource(double).countChanges(plan, dateTimeWindow, from);
		assert.equal(rows, 1_234_567);
		assert.deepEqual(double.requests, [changeCountRequest(plan, dateTimeWindow, from)]);
	});

	it('refuses an answer without a count rather than calling it zero', async () => {
		const double = new RecordingSqlTransport(() => resultOf([]));
		await assert.rejects(new SqlServerChangeSource(double).countChanges(plan, dateTimeWindow, from), /did not return a row count/);
	});
});

describe('Contracting node: Count Changes Since Watermark in a workflow, over the transport double', () => {
	afterEach(restoreAllSeams);

	const credentials = CONTRACTING_TEST_CREDENTIALS;

	const countWorkflow = (parameters: INodeParameters, settings: Record<string, unknown> = {}): IWorkflowBase =>
		contractingWorkflow(
			'count changes',
			'Count',
			{
				operation: 'countChanges',
				streamPreset: 'customers',
				table: { __rl: true, mode: 'name', value: 'dbo.Customers' },
				markerKind: 'datetime',
				markerColumn: 'ChangedAt',
				...parameters,
			},
			settings,
		);

	/** Catalogue, clock, and a count that depends on the @m it is sent, so a wrong cursor shows as a wrong count. */
	const server = () =>
		new RecordingSqlTransport((request) => {
			if (request.text === DESCRIBE_TABLE_QUERY) return catalogueResult(customers);
			if (request.text.includes('SYSUTCDATETIME()')) return resultOf([{ serverUtcNow: '2024-12-01T12:00:00.0000000' }]);
			if (request.text.includes('COUNT_BIG')) {
				const since = request.parameters.find((parameter) => parameter.name === 'm')?.value;
				return resultOf([{ changeCount: since === undefined ? '20' : '3' }]);
			}
			throw new Error(`unexpected request:\n${request.text}`);
		});

	it('outputs one item per input item: stream, since, rows and the bound, without reading a row', async () => {
		const double = server();
		useRecordingTransport(double);
		const rewound = serializeCursor({ kind: 'datetime', marker: MARKER, key: null });
		const result = await runWorkflow(countWorkflow({}), {
			credentials,
			triggerItems: [{ json: { cursor: null } }, { json: { cursor: rewound } }],
			startNodeName: 'Start',
		});
		assert.equal(result.errorMessage, undefined);
		const items = result.output('Count');
		assert.deepEqual(
			items.map((item) => [item.json, item.pairedItem]),
			[
				[{ stream: 'customers', since: null, rows: 20, upTo: '2024-12-01T12:59:00.000' }, { item: 0 }],
				[{ stream: 'customers', since: rewound, rows: 3, upTo: '2024-12-01T12:59:00.000' }, { item: 1 }],
			],
		);
		const counts = double.requests.filter((request) => request.text.includes('COUNT_BIG'));
		assert.equal(counts.length, 2, 'one count statement per item');
		assert.ok(double.requests.every((request) => !request.text.includes('TOP (@take)')), 'no row is read');
		assert.equal(counts[1].parameters.find((parameter) => parameter.name === 'upperBound')?.value, '2024-12-01T12:59:00.000', 'counted up to the bound it reports');
	});

	it('stops on a watermark it cannot read, naming it; with Continue On Fail the item carries the error', async () => {
		useRecordingTransport(server());
		const failed = await runWorkflow(countWorkflow({ advanced: { since: 'two days ago' } }), { credentials, startNodeName: 'Start', triggerItems: [{ json: {} }] });
		assert.match(failed.errorMessage ?? '', /two days ago/);
		const continued = await runWorkflow(countWorkflow({ advanced: { since: 'two days ago' } }, { onError: 'continueRegularOutput' }), {
			credentials,
			startNodeName: 'Start',
			triggerItems: [{ json: {} }],
		});
		assert.equal(continued.errorMessage, undefined);
		assert.match(String(continued.output('Count')[0].json.error), /two days ago/);
	});
});
