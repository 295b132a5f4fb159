/**
 * Watermark Rewind with Preview Only: where each stream would move, by the rewind's own rules, with nothing
 * stored — not the cursor, not the history, not the lease — on the in-memory store and on the SQL Server store
 * behind the transport double. A real rewind run next stores exactly the cursor the preview showed.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { IDataObject, IWorkflowBase } from 'n8n-workflow';

import { serializeCursor } from '../../nodes/shared/core/cursor';
import { positionInWords, rewindInWords } from '../../nodes/shared/core/rewind';
import type { CursorLocation } from '../../nodes/shared/core/watermarkLocation';
import { PACKAGE_TABLE } from '../../nodes/shared/core/watermarkLocation';
import { replaceSeam, restoreAllSeams } from '../../nodes/shared/seams';
import { DEFAULT_WATERMARK_TABLES, watermarkStoreSeam } from '../../nodes/Watermark/stores/watermarkStore';
import { HISTORY_COLUMNS, STATE_COLUMNS, ensureTablesSql, readStateSql, streamNamesSql } from '../../nodes/Watermark/stores/watermarkSql';
import { MemoryWatermarkStore } from '../support/memory/memoryWatermarkStore';
import type { RecordingSqlTransport } from '../support/recordingTransport';
import { RecordingSqlTransport as Recording, resultOf, useRecordingTransport } from '../support/recordingTransport';
import { runWorkflow } from '../support/workflowRunner';
import { SYSTEM_CODES_PAIR } from '../support/cursorLocations';

const credentials = { crmSqlServerApi: { server: 'crm.invalid', database: 'CRM', user: 'n8n', password: 'not-used' } };
const datetime = (marker: string | null, key: string[] | null = null) => serializeCursor({ kind: 'datetime', marker, key });
const rowversion = (marker: string) => serializeCursor({ kind: 'rowversion', marker, key: ['1'] });

function rewindWorkflow(parameters: IDataObject): IWorkflowBase {
	return {
		id: 'wf-rewind',
		name: 'rewind preview',
		active: false,
		connections: { Start: { main: [[{ node: 'Rewind', type: 'main', index: 0 }]] } },
		nodes: [
			{ id: '1', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
			{
				id: '2',
				name: 'Rewind',
				type: 'n8n-nodes-contracting-crm.watermark',
				typeVersion: 1,
				position: [200, 0],
				parameters: { operation: 'rewind', ...parameters },
				credentials: { crmSqlServerApi: { id: 'crm', name: 'CRM' } },
			},
		],
	} as unknown as IWorkflowBase;
}

async function rewind(parameters: IDataObject) {
	const run = await runWorkflow(rewindWorkflow(parameters), { credentials });
	return { error: run.errorMessage, items: run.output('Rewind').map((item) => item.json) };
}

describe('a rewind in words, for the summary', () => {
	it('says where a cursor stands: minutes unless the seconds matter, the zone named, other kinds by their marker', () => {
		const cases: Array<[string | null, string]> = [
			[datetime('2024-11-18T08:00:00.1234567'), '2024-11-18 08:00 (Europe/Oslo)'],
			[datetime('2024-11-18T08:00:30', ['4']), '2024-11-18 08:00:30 (Europe/Oslo)'],
			[serializeCursor({ kind: 'dateAndTime', marker: '2010-06-04T00:00:00', key: null }), '2010-06-04 00:00 (Europe/Oslo)'],
			[null, 'the beginning'],
			[datetime(null), 'the beginning'],
			[datetime(null, ['17']), 'part-way through the rows without a change marker'],
			[serializeCursor({ kind: 'changeTracking', marker: null, key: ['3'], snapshotVersion: '40' }), 'part-way through the first full read'],
			[rowversion('0x00000000000007D1'), 'rowversion 0x00000000000007D1'],
			[serializeCursor({ kind: 'changeTracking', marker: '42', key: null }), 'Change Tracking version 42'],
			['15.03.2025', '"15.03.2025"'],
		];
		for (const [cursor, words] of cases) assert.equal(positionInWords(cursor, 'Europe/Oslo'), words);
	});

	it('says how far and where to, or why not', () => {
		const to = datetime('2024-11-18T08:00:00.1234567');
		const base = { moved: true, preview: false, cursor: to, zone: 'Europe/Oslo', how: '' };
		assert.equal(rewindInWords({ ...base, request: { by: 'duration', days: 2, hours: 0 } }), 'rewound 2 days to 2024-11-18 08:00 (Europe/Oslo)');
		assert.equal(rewindInWords({ ...base, request: { by: 'duration', days: 1, hours: 3 }, preview: true }), 'would be rewound 1 day and 3 hours to 2024-11-18 08:00 (Europe/Oslo)');
		assert.equal(rewindInWords({ ...base, request: { by: 'dateTime', dateTime: '2024-11-18 08:00' } }), 'rewound to 2024-11-18 08:00 (Europe/Oslo)');
		assert.equal(rewindInWords({ ...base, request: { by: 'beginning' }, cursor: null }), 'rewound to the beginning');
		assert.equal(
			rewindInWords({ ...base, request: { by: 'beginning' }, moved: false, cursor: null, how: 'The stream is at the beginning already; nothing to rewind' }),
			'not moved: the stream is at the beginning already; nothing to rewind',
		);
	});
});

describe('Rewind, Preview Only, on the in-memory store', () => {
	let clock = new Date('2025-03-20T12:00:00Z');
	let store: MemoryWatermarkStore;

	/** A stream at `cursor`, first used at the store's clock, its lease still held by "run 9". */
	async function stream(name: string, cursor: string | null, location: CursorLocation = PACKAGE_TABLE) {
		const acquired = await store.acquire({
			stream: name,
			owner: 'run 9',
			leaseSeconds: 600,
			startingCursor: cursor,
			startingReason: 'test',
			timeZone: 'Europe/Oslo',
			location,
			audit: { workflowId: 'sync', executionId: '9' },
		});
		assert.equal(acquired.kind, 'acquired');
	}

	/** Everything a rewind could touch: each stream's state (cursor, generation, lease) and its history. */
	async function everything() {
		const names = await store.streamNames();
		return await Promise.all(names.map(async (name) => ({ state: await store.read(name), history: await store.history(name, 100) })));
	}

	/** Previews, checks that nothing changed, then rewinds for real and checks each stored cursor is the one previewed. */
	async function previewThenRewind(parameters: IDataObject) {
		const before = await everything();
		const preview = await rewind({ ...parameters, previewOnly: true });
		assert.equal(preview.error, undefined);
		assert.deepEqual(await everything(), before, 'the preview stored nothing');
		const real = await rewind(parameters);
		assert.equal(real.error, undefined);
		for (const item of preview.items) {
			assert.equal((await store.read(String(item.stream)))?.cursor, item.cursor, `${String(item.stream)}: the rewind stored what the preview showed`);
			const done = real.items.find((candidate) => candidate.stream === item.stream);
			assert.equal(done?.moved, item.wouldMove, `${String(item.stream)}: moved as the preview said it would`);
			assert.equal(done?.cursor, item.cursor, `${String(item.stream)}: the rewind's output shows the cursor it stored, null included`);
		}
		return preview.items;
	}

	beforeEach(() => {
		clock = new Date('2025-03-20T12:00:00Z');
		store = new MemoryWatermarkStore(() => clock);
		replaceSeam(watermarkStoreSeam, () => store);
	});
	afterEach(restoreAllSeams);

	it('by a duration: the cursor the rewind would store, named like the rewind\'s own output', async () => {
		await stream('customers', datetime('2025-03-20T10:00:00.5', ['7']));
		const [item] = await previewThenRewind({ stream: 'customers', days: 2 });
		assert.deepEqual(item, {
			stream: 'customers',
			previousCursor: datetime('2025-03-20T10:00:00.5', ['7']),
			cursor: datetime('2025-03-18T10:00:00.5'),
			moved: false,
			wouldMove: true,
			how: '2 days back from 2025-03-20T10:00:00.5 (Europe/Oslo)',
			inWords: 'would be rewound 2 days to 2025-03-18 10:00 (Europe/Oslo)',
			reason: 'Rewound by support',
			timeZone: 'Europe/Oslo',
			runInProgress: null,
			message: 'Stream "customers" would be rewound. 2 days back from 2025-03-20T10:00:00.5 (Europe/Oslo). Nothing was changed: this is a preview.',
		});
	});

	it('for all streams to a date: one item per stream, a stream not behind the date shown as staying', async () => {
		await stream('customers', datetime('2025-03-20T10:00:00', ['7']));
		await stream('orders', datetime('2025-03-10T10:00:00', ['3']));
		const items = await previewThenRewind({ streams: 'all', rewindBy: 'dateTime', dateTime: '2025-03-15 00:00' });
		assert.deepEqual(
			items.map((item) => [item.stream, item.wouldMove, item.cursor]),
			[
				['customers', true, datetime('2025-03-15T00:00:00')],
				['orders', false, datetime('2025-03-10T10:00:00', ['3'])],
			],
		);
		assert.match(String(items[1].message), /^Stream "orders" would not be moved\. .*after where the stream is now/);
	});

	it('to the beginning, and a stream at the beginning already', async () => {
		await stream('customers', datetime('2025-03-20T10:00:00', ['7']));
		await stream('orders', null);
		const items = await previewThenRewind({ streams: 'all', rewindBy: 'beginning' });
		assert.deepEqual(
			items.map((item) => [item.stream, item.wouldMove, item.cursor]),
			[
				['customers', true, null],
				['orders', false, null],
			],
		);
	});

	it('a rowversion stream: the cursor the history held at the target time', async () => {
		await stream('projects', rowversion('0x00000000000007D1'));
		clock = new Date('2025-03-23T12:00:00Z');
		const current = await store.read('projects');
		await store.replaceCursor({ stream: 'projects', expectedGeneration: current?.generation ?? -1, cursor: rowversion('0x00000000000009A0'), action: 'undo', reason: 'test', audit: { workflowId: null, executionId: null } });
		const [item] = await previewThenRewind({ stream: 'projects', days: 2 });
		assert.equal(item.cursor, rowversion('0x00000000000007D1'), 'two days back from the latest change (23 March) it was still at its first cursor');
		assert.match(String(item.how), /^The watermark stored at 2025-03-20T12:00:00\.000Z/);
	});

	it('a stream kept in an existing date + time pair: the cursor in the form the pair keeps it', async () => {
		const location = SYSTEM_CODES_PAIR;
		store.seedExistingRow(location, '2025-03-20T10:00:00');
		await stream('customers', null, location);
		const [item] = await previewThenRewind({ stream: 'customers', days: 0, hours: 1.5 });
		assert.equal(item.cursor, datetime('2025-03-20T08:30:00'));
	});

	it('refuses a bad date as the rewind does, and changes nothing', async () => {
		await stream('customers', datetime('2025-03-20T10:00:00', ['7']));
		const before = await everything();
		const preview = await rewind({ stream: 'customers', rewindBy: 'dateTime', dateTime: '31.02.2025', previewOnly: true });
		assert.match(preview.error ?? '', /"31\.02\.2025" is not a date and time/);
		assert.deepEqual(await everything(), before);
	});
});

describe('Rewind, Preview Only, on the SQL Server store behind the transport double', () => {
	afterEach(restoreAllSeams);

	const tables = DEFAULT_WATERMARK_TABLES;
	const bytesOf = (definition: string) => (/\(max\)/.test(definition) ? -1 : Number(/\((\d+)\)/.exec(definition)?.[1] ?? 8) * (definition.startsWith('nvarchar') ? 2 : 1));
	const columnsOf = (role: string, specs: typeof STATE_COLUMNS) => specs.map((spec) => ({ tableRole: role, name: spec.name, typeName: spec.typeName, maxLength: bytesOf(spec.definition) }));
	const stored = datetime('2025-03-20T10:00:00.1234567', ['17']);
	const stateRow = (extra: IDataObject = {}) => ({
		stream: 'customers',
		cursorKind: 'datetime',
		generation: 3,
		rewoundAtGeneration: 1,
		timeZone: 'Europe/Oslo',
		leaseOwner: null,
		leaseExpiresAt: null,
		cursorChangedAt: '2025-03-20T10:01:00.000',
		cursorLocation: null,
		storedValue: stored,
		...extra,
	});

	/** Answers the reads a rewind makes; a statement that replaces the cursor is answered only when `allowReplace`. */
	function server(allowReplace: boolean): RecordingSqlTransport {
		return new Recording((request) => {
			if (request.text === ensureTablesSql(tables)) {
				return resultOf([{ stateSchemaExists: 1, historySchemaExists: 1 }], [...columnsOf('state', STATE_COLUMNS), ...columnsOf('history', HISTORY_COLUMNS)]);
			}
			if (request.text === readStateSql(tables)) return resultOf([stateRow()]);
			if (request.text === streamNamesSql(tables)) return resultOf([{ stream: 'customers' }]);
			if (allowReplace && request.parameters.some((parameter) => parameter.name === 'expectedGeneration')) {
				const cursor = request.parameters.find((parameter) => parameter.name === 'newCursorText')?.value as string | null;
				return resultOf([{ ...stateRow({ generation: 4, rewoundAtGeneration: 4, storedValue: cursor }), replaced: 1 }]);
			}
			throw new Error(`unexpected request:\n${request.text}`);
		});
	}

	it('sends only reads: the table check, the state and the stream names; no statement that writes', async () => {
		const double = server(false);
		useRecordingTransport(double);
		const preview = await rewind({ streams: 'all', days: 2, previewOnly: true });
		assert.equal(preview.error, undefined);
		assert.deepEqual(preview.items.map((item) => [item.stream, item.cursor, item.wouldMove]), [['customers', datetime('2025-03-18T10:00:00.1234567'), true]]);
		assert.deepEqual(
			double.requests.map((request) => request.text),
			[ensureTablesSql(tables), streamNamesSql(tables), readStateSql(tables)],
		);
	});

	it('the cursor previewed is the one the rewind then sends to be stored', async () => {
		const previewDouble = server(false);
		useRecordingTransport(previewDouble);
		const [previewed] = (await rewind({ stream: 'customers', days: 2, hours: 3, previewOnly: true })).items;
		const rewindDouble = server(true);
		useRecordingTransport(rewindDouble);
		const real = await rewind({ stream: 'customers', days: 2, hours: 3 });
		assert.equal(real.error, undefined);
		const replace = rewindDouble.requests.find((request) => request.parameters.some((parameter) => parameter.name === 'expectedGeneration'));
		assert.ok(replace, 'the real rewind replaces the cursor');
		assert.equal(replace.parameters.find((parameter) => parameter.name === 'newCursorText')?.value, previewed.cursor);
		assert.equal(real.items[0].cursor, previewed.cursor);
		assert.equal(previewed.cursor, datetime('2025-03-18T07:00:00.1234567'));
	});
});
