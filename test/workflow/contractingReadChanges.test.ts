/**
 * The Contracting node inside a workflow, run in-process by n8n-core with the in-memory change source plugged
 * in through its seam: parameters as the editor stores them, expressions, pairedItem, continue-on-fail and the
 * error output, and the loop a sync workflow makes by feeding the last item's cursor back in.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { IDataObject, INodeParameters, IWorkflowBase } from 'n8n-workflow';

import { changeSourceSeam } from '../../nodes/Contracting/stores/changeSource';
import type { SyncInfo } from '../../nodes/shared/core/syncItem';
import { replaceSeam, restoreAllSeams } from '../../nodes/shared/seams';
import { CONTRACTING_TEST_CREDENTIALS, contractingWorkflow } from '../support/contractingWorkflow';
import { MemoryChangeSource } from '../support/memory/memoryChangeSource';
import { runWorkflow } from '../support/workflowRunner';

const credentials = CONTRACTING_TEST_CREDENTIALS;

function contractingSource(): MemoryChangeSource {
	const source = new MemoryChangeSource();
	source.define({
		name: 'dbo.Customers',
		columns: [
			{ name: 'CustomerNo', type: 'int', nullable: false },
			{ name: 'Name', type: 'nvarchar(100)', nullable: false },
			{ name: 'City', type: 'nvarchar(100)' },
			{ name: 'ChangedAt', type: 'datetime2(7)' },
			{ name: 'LastChangeDate', type: 'int' },
			{ name: 'LastChangeTime', type: 'int' },
			{ name: 'RowVer', type: 'rowversion' },
		],
		primaryKey: ['CustomerNo'],
	});
	source.define({
		name: 'dbo.Orders',
		columns: [
			{ name: 'OrderNo', type: 'int', nullable: false },
			{ name: 'CustomerNo', type: 'int', nullable: false },
			{ name: 'Status', type: 'varchar(20)' },
			{ name: 'ChangedAt', type: 'datetime' },
		],
		primaryKey: ['OrderNo'],
		changeTracking: true,
	});
	source.serverUtcNow = '2024-12-01T12:00:00.0000000';
	replaceSeam(changeSourceSeam, () => source);
	return source;
}

const readWorkflow = (parameters: INodeParameters, settings: Record<string, unknown> = {}): IWorkflowBase =>
	contractingWorkflow('read changes', 'Contracting', { operation: 'readChanges', ...parameters }, settings);

const customersParameters = (options: INodeParameters = {}): INodeParameters => ({
	streamPreset: 'customers',
	table: { __rl: true, mode: 'name', value: 'dbo.Customers' },
	markerKind: 'datetime',
	markerColumn: 'ChangedAt',
	options,
});

const sync = (item: { json: IDataObject }) => item.json._sync as unknown as SyncInfo;

async function runOnce(parameters: INodeParameters, cursor: string | null, settings: Record<string, unknown> = {}) {
	return await runWorkflow(readWorkflow(parameters, settings), { credentials, triggerItems: [{ json: { cursor } }], startNodeName: 'Start' });
}

describe('Contracting node in a workflow', () => {
	afterEach(restoreAllSeams);

	it('reads rows sharing one marker over several batches and executions, each exactly once, looping on hasMore', async () => {
		const source = contractingSource();
		source.table('dbo.Customers').insert(...Array.from({ length: 25 }, (_, index) => ({ CustomerNo: 100 - index, Name: `C${index}`, ChangedAt: '2024-11-30T10:00:00.1234567' })));
		const read: unknown[] = [];
		const perExecution: number[] = [];
		let cursor: string | null = null;
		for (let execution = 0; execution < 10; execution++) {
			const result = await runOnce(customersParameters({ batchSize: 4, maxRows: 10 }), cursor);
			assert.equal(result.errorMessage, undefined);
			const items = result.output('Contracting');
			perExecution.push(items.length);
			read.push(...items.map((item) => item.json.CustomerNo));
			assert.ok(items.every((item) => JSON.stringify(item.pairedItem) === JSON.stringify({ item: 0 })), 'every item paired with its input');
			const last = items.at(-1);
			if (!last || !sync(last).hasMore) break;
			cursor = sync(last).cursor;
		}
		assert.deepEqual(perExecution, [10, 10, 5]);
		assert.deepEqual(read, Array.from({ length: 25 }, (_, index) => 76 + index));
		const again = await runOnce(customersParameters(), JSON.stringify({ kind: 'datetime', marker: '2024-11-30T10:00:00.1234567', key: ['100'] }));
		assert.deepEqual(again.output('Contracting'), [], 'nothing new: no items, and no error');
	});

	it('gives each item the row at the top level and _sync with stream, key, cursors, place in the batch and change time', async () => {
		const source = contractingSource();
		source.table('dbo.Customers').insert(
			{ CustomerNo: 1, Name: 'Autumn AS', City: 'Oslo', ChangedAt: '2024-10-27T02:30:00.0000000' },
			{ CustomerNo: 2, Name: 'Winter AS', City: null, ChangedAt: '2024-10-27T03:00:00.0000000' },
		);
		const result = await runOnce(customersParameters({ batchSize: 1 }), '');
		const items = result.output('Contracting');
		assert.deepEqual(items[0].json, {
			CustomerNo: 1,
			Name: 'Autumn AS',
			City: 'Oslo',
			ChangedAt: '2024-10-27T02:30:00.0000000',
			LastChangeDate: null,
			LastChangeTime: null,
			RowVer: items[0].json.RowVer,
			_sync: {
				stream: 'customers',
				operation: 'upsert',
				key: { CustomerNo: 1 },
				cursor: JSON.stringify({ kind: 'datetime', marker: '2024-10-27T02:30:00.0000000', key: ['1'] }),
				batchStartCursor: JSON.stringify({ kind: 'datetime', marker: null, key: null }),
				position: 0,
				batchRows: 1,
				hasMore: true,
				window: sync(items[0]).window,
				changedAt: '2024-10-27T02:30:00.0000000+02:00',
			},
		});
		assert.match(String((sync(items[0]).window as { upperBound?: unknown }).upperBound), /^\d{4}-\d{2}-\d{2}T/, 'the read window, for the run\'s next batches');
		assert.equal(sync(items[1]).changedAt, '2024-10-27T03:00:00.0000000+01:00');
		assert.equal(sync(items[1]).batchStartCursor, sync(items[0]).cursor);
		assert.equal(sync(items[1]).hasMore, false);
	});

	it('reads the legacy date + time pair and accepts a date-time watermark from a rewind', async () => {
		const source = contractingSource();
		source.table('dbo.Customers').insert(
			{ CustomerNo: 1, Name: 'old', LastChangeDate: 20100603, LastChangeTime: 235959 },
			{ CustomerNo: 2, Name: 'new', LastChangeDate: 20100604, LastChangeTime: 0 },
		);
		const parameters = { ...customersParameters(), markerKind: 'dateAndTime', dateColumn: 'LastChangeDate', timeColumn: 'LastChangeTime', timeEncoding: 'hhmmss' };
		const result = await runOnce(parameters, JSON.stringify({ kind: 'datetime', marker: '2010-06-04T00:00:00', key: null }));
		assert.deepEqual(result.output('Contracting').map((item) => item.json.Name), ['new']);
		assert.equal(sync(result.output('Contracting')[0]).changedAt, '2010-06-04T00:00:00.0000000+02:00');
	});

	it('reads by rowversion', async () => {
		const source = contractingSource();
		source.table('dbo.Customers').insert({ CustomerNo: 1, Name: 'a' }, { CustomerNo: 2, Name: 'b' });
		const parameters = { ...customersParameters(), markerKind: 'rowversion', rowversionColumn: 'RowVer' };
		const first = await runOnce(parameters, null);
		source.table('dbo.Customers').update({ CustomerNo: 1 }, { Name: 'a2' });
		const second = await runOnce(parameters, sync(first.output('Contracting')[1]).cursor);
		assert.deepEqual(second.output('Contracting').map((item) => item.json.Name), ['a2']);
		assert.equal(sync(second.output('Contracting')[0]).changedAt, undefined);
	});

	it('sees a delete through Change Tracking on the orders stream', async () => {
		const source = contractingSource();
		source.table('dbo.Orders').insert({ OrderNo: 10, CustomerNo: 1, Status: 'open', ChangedAt: null }, { OrderNo: 11, CustomerNo: 1, Status: 'open', ChangedAt: null });
		const parameters: INodeParameters = { streamPreset: 'orders', table: { __rl: true, mode: 'name', value: 'dbo.Orders' }, markerKind: 'changeTracking' };
		const initial = await runOnce(parameters, null);
		assert.deepEqual(initial.output('Contracting').map((item) => [item.json.OrderNo, sync(item).stream]), [[10, 'orders'], [11, 'orders']]);
		source.table('dbo.Orders').remove({ OrderNo: 10 });
		const changes = await runOnce(parameters, sync(initial.output('Contracting')[1]).cursor);
		const [deleted] = changes.output('Contracting');
		assert.equal(sync(deleted).operation, 'delete');
		assert.equal(deleted.json.OrderNo, 10);
		assert.equal(deleted.json.Status, undefined, 'a delete carries its key only');
	});

	it('filters with typed values and outputs the chosen columns plus the key, on a custom stream', async () => {
		const source = contractingSource();
		source.table('dbo.Customers').insert(
			{ CustomerNo: 1, Name: 'a', City: 'Oslo', ChangedAt: '2024-11-30T10:00:00.0000000' },
			{ CustomerNo: 2, Name: 'b', City: 'Bergen', ChangedAt: '2024-11-30T10:00:00.0000000' },
		);
		const parameters: INodeParameters = {
			streamPreset: 'custom',
			streamName: 'oslo-customers',
			table: { __rl: true, mode: 'list', value: '[dbo].[Customers]' },
			markerKind: 'datetime',
			markerColumn: 'ChangedAt',
			outputColumnsMode: 'selected',
			outputColumns: ['Name'],
			filters: { conditions: [{ column: 'City', operator: 'equal', value: 'Oslo' }] },
		};
		const items = (await runOnce(parameters, null)).output('Contracting');
		assert.deepEqual(items.map((item) => ({ ...item.json, _sync: sync(item).stream })), [{ CustomerNo: 1, Name: 'a', _sync: 'oslo-customers' }]);
	});

	describe('version 1.1: key, output and filter columns picked from the list or typed by name', () => {
		const byName = (value: string) => ({ __rl: true, mode: 'name', value });
		const rowsOf = (...names: string[]) => ({ column: names.map((name) => ({ column: byName(name) })) });
		const version1: INodeParameters = {
			...customersParameters(),
			keyColumns: ['CustomerNo'],
			outputColumnsMode: 'selected',
			outputColumns: ['Name'],
			filters: { conditions: [{ column: 'City', operator: 'equal', value: 'Oslo' }] },
		};
		const version11: INodeParameters = {
			...version1,
			markerColumn: byName('ChangedAt'),
			keyColumns: rowsOf('CustomerNo'),
			outputColumns: { column: [{ column: { __rl: true, mode: 'list', value: 'Name', cachedResultName: 'Name' } }] },
			filters: { conditions: [{ column: byName('City'), operator: 'equal', value: 'Oslo' }] },
		};

		async function readEach(parameters: INodeParameters, typeVersion: number) {
			const source = contractingSource();
			source.table('dbo.Customers').insert(
				{ CustomerNo: 1, Name: 'a', City: 'Oslo', ChangedAt: '2024-11-30T10:00:00.0000000' },
				{ CustomerNo: 2, Name: 'b', City: 'Bergen', ChangedAt: '2024-11-30T10:00:00.0000000' },
			);
			return await runOnce(parameters, null, { typeVersion });
		}

		it('read what version 1 read from the plain names it saved', async () => {
			const [before, after] = [await readEach(version1, 1), await readEach(version11, 1.1)];
			assert.equal(after.errorMessage, undefined);
			assert.deepEqual(after.output('Contracting').map((item) => item.json), before.output('Contracting').map((item) => item.json));
			assert.deepEqual(after.output('Contracting').map((item) => ({ ...item.json, _sync: sync(item).key })), [{ CustomerNo: 1, Name: 'a', _sync: { CustomerNo: 1 } }]);
		});

		it('a column typed by name that the table does not have stops the read as a wrong plain name did, naming table and column', async () => {
			const unknown = [
				[{ keyColumns: ['CustomerNumber'] }, { keyColumns: rowsOf('CustomerNumber') }],
				[{ outputColumns: ['Town'] }, { outputColumns: rowsOf('Town') }],
				[{ filters: { conditions: [{ column: 'Town', operator: 'equal', value: 'Oslo' }] } }, { filters: { conditions: [{ column: byName('Town'), operator: 'equal', value: 'Oslo' }] } }],
			];
			for (const [old, picked] of unknown) {
				const [before, after] = [await readEach({ ...version1, ...old }, 1), await readEach({ ...version11, ...picked }, 1.1)];
				assert.match(String(after.errorMessage), /Column "(CustomerNumber|Town)" does not exist in dbo\.Customers/, JSON.stringify(picked));
				assert.equal(after.errorMessage, before.errorMessage);
			}
		});
	});

	const badInputs: Array<[string, INodeParameters, string | null, RegExp, RegExp]> = [
		['an unknown table', { ...customersParameters(), table: { __rl: true, mode: 'name', value: 'dbo.Customer' } }, null, /dbo\.Customer does not exist/, /Pick the table again/],
		['an unknown column', { ...customersParameters(), markerColumn: 'ChangedOn' }, null, /Column "ChangedOn" does not exist in dbo\.Customers/, /refresh the column list/],
		['a marker column of the wrong type', { ...customersParameters(), markerColumn: 'Name' }, null, /"Name" of dbo\.Customers is nvarchar/, /datetime, datetime2 or smalldatetime/],
		['a watermark that does not parse', customersParameters(), '04.06.10 00.00.00', /watermark "04\.06\.10 00\.00\.00" cannot be read/, /Rewind/],
		['a date watermark for a rowversion source', { ...customersParameters(), markerKind: 'rowversion', rowversionColumn: 'RowVer' }, JSON.stringify({ kind: 'datetime', marker: '2024-01-01T00:00:00', key: null }), /is a date-time, but dbo\.Customers is read by rowversion/, /Rewind "to the beginning"/],
		['an enormous batch size', customersParameters({ batchSize: 1e12 }), null, /Batch Size must be a whole number from 1 to 50,000/, /default of 1,000/],
		['an unknown time zone', customersParameters({ timeZone: 'Oslo' }), null, /"Oslo" is not a time zone/, /Europe\/Oslo/],
	];

	for (const [what, parameters, cursor, message, description] of badInputs) {
		it(`stops on ${what} with a message naming it and what to do, emitting no row`, async () => {
			contractingSource().table('dbo.Customers').insert({ CustomerNo: 1, Name: 'a', ChangedAt: '2024-11-30T10:00:00.0000000' });
			const result = await runOnce(parameters, cursor);
			assert.match(result.errorMessage ?? '', message);
			assert.match(result.errorMessage ?? '', description);
			assert.match(result.errorMessage ?? '', /^Failed while reading changes from/);
			assert.deepEqual(result.output('Contracting'), []);
		});
	}

	it('stops on a batch size an expression gives as words, naming the option, emitting no row', async () => {
		contractingSource().table('dbo.Customers').insert({ CustomerNo: 1, Name: 'a', ChangedAt: '2024-11-30T10:00:00.0000000' });
		const result = await runOnce(customersParameters({ batchSize: "={{ 'many' }}" }), null);
		assert.match(result.errorMessage ?? '', /'Batch Size' in Options cannot be "many" — It takes a number/);
		assert.deepEqual(result.output('Contracting'), []);
	});

	it('stops on a Rows Without a Change Marker an expression sets to none of its choices, listing them, emitting no row', async () => {
		contractingSource().table('dbo.Customers').insert({ CustomerNo: 1, Name: 'a', ChangedAt: '2024-11-30T10:00:00.0000000' });
		const result = await runOnce(customersParameters({ nullMarkers: "={{ 'Never' }}" }), null);
		assert.match(result.errorMessage ?? '', /'Rows Without a Change Marker' in Options cannot be "Never" — It takes one of: "firstRunOnly" \(Read on the First Run Only\), "never" \(Never Read\)/);
		assert.deepEqual(result.output('Contracting'), []);
	});

	for (const [field, parameters, message] of [
		['Change Marker', { markerKind: 'date' }, /'Change Marker' cannot be "date" — It takes one of: "datetime" \(Date-Time Column\), "dateAndTime"/],
		['Time Encoding', { markerKind: 'dateAndTime', dateColumn: 'LastChangeDate', timeColumn: 'LastChangeTime', timeEncoding: "={{ 'HHMMSS' }}" }, /'Time Encoding' cannot be "HHMMSS" — It takes one of: "hhmmss" \(Hours Minutes Seconds \(134501 = 13:45:01\)\), "hhmm"/],
		['Stream', { streamPreset: 'Customers' }, /'Stream' cannot be "Customers" — It takes one of: "customers" \(Customers\), "orders" \(Orders\), "custom" \(Custom\)/],
		['Filter Operator', { filters: { conditions: [{ column: 'City', operator: "={{ 'Equal' }}", value: 'Oslo' }] } as INodeParameters }, /'Operator' in Filter cannot be "Equal" — It takes one of: "equal" \(Equal\), "greater" \(Greater Than\)/],
		['Columns to Output', { outputColumnsMode: "={{ 'All' }}" }, /'Columns to Output' cannot be "All" — It takes one of: "all" \(All Columns\), "selected" \(Selected Columns\)/],
	] as const) {
		it(`stops on a ${field} that is none of its choices, listing them, emitting no row`, async () => {
			contractingSource().table('dbo.Customers').insert({ CustomerNo: 1, Name: 'a', LastChangeDate: 20100603, LastChangeTime: 235959 });
			const result = await runOnce({ ...customersParameters(), ...parameters }, null);
			assert.match(result.errorMessage ?? '', message);
			assert.deepEqual(result.output('Contracting'), []);
		});
	}

	it('stops on an expired Change Tracking version, saying a full re-send is needed and how', async () => {
		const source = contractingSource();
		source.table('dbo.Orders').insert({ OrderNo: 10, CustomerNo: 1, Status: 'open', ChangedAt: null });
		source.table('dbo.Orders').update({ OrderNo: 10 }, { Status: 'closed' });
		source.minValidVersion = 2n;
		const parameters: INodeParameters = { streamPreset: 'orders', table: { __rl: true, mode: 'name', value: 'dbo.Orders' }, markerKind: 'changeTracking' };
		const result = await runOnce(parameters, JSON.stringify({ kind: 'changeTracking', marker: '1', key: null }));
		assert.match(result.errorMessage ?? '', /Change Tracking on dbo\.Orders no longer holds the changes/);
		assert.match(result.errorMessage ?? '', /full re-send is needed: use the Watermark node's Rewind "to the beginning"/);
		assert.deepEqual(result.output('Contracting'), []);
	});

	it('with "continue" on error, gives an error item paired with its input instead of rows', async () => {
		contractingSource();
		const result = await runOnce({ ...customersParameters(), markerColumn: 'Name' }, null, { onError: 'continueRegularOutput' });
		assert.equal(result.errorMessage, undefined);
		const [item] = result.output('Contracting');
		assert.match(String(item.json.error), /"Name" of dbo\.Customers is nvarchar/);
		assert.match(String(item.json.errorDescription), /The change marker must be datetime, datetime2 or smalldatetime/, 'what to do, in the item, as the other nodes give it');
		assert.deepEqual(item.pairedItem, { item: 0 });
	});

	it('with the error output, routes the failure there and nothing to the main output', async () => {
		contractingSource();
		const result = await runOnce(customersParameters(), 'not a watermark', { onError: 'continueErrorOutput' });
		assert.equal(result.errorMessage, undefined);
		assert.deepEqual(result.output('Contracting', 0), []);
		assert.match(String(result.output('Contracting', 1)[0]?.json.error), /cannot be read/);
	});
});
