import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { checkReadLimits, cursorFromSince, readChanges } from '../../nodes/Contracting/helpers/readChanges';
import { CursorFormatError, beginningCursor } from '../../nodes/shared/core/cursor';
import type { SourceSpec } from '../../nodes/shared/core/markers';
import { ChangeSourceError } from '../../nodes/shared/core/markers';
import type { SyncInfo } from '../../nodes/shared/core/syncItem';
import { localReadingOf, zoneNamed } from '../../nodes/shared/core/timeZone';
import { MemoryChangeSource } from '../support/memory/memoryChangeSource';
import { sourceSpecFor } from '../support/sourceSpec';
import { describeFailure, forAll, propertyOptionsFromEnvironment } from '../support/property';

const sync = (item: Record<string, unknown>) => item._sync as unknown as SyncInfo;

function customersSource(): MemoryChangeSource {
	const source = new MemoryChangeSource();
	source.define({
		name: 'dbo.Customers',
		columns: [
			{ name: 'CustomerNo', type: 'int', nullable: false },
			{ name: 'Name', type: 'nvarchar(100)', nullable: false },
			{ name: 'ChangedAt', type: 'datetime2(7)' },
		],
		primaryKey: ['CustomerNo'],
		changeTracking: true,
	});
	return source;
}

const spec = (overrides: Partial<SourceSpec> = {}): SourceSpec => sourceSpecFor('dbo.Customers', { kind: 'datetime', column: 'ChangedAt' }, overrides);

describe('read limits and the Since parameter', () => {
	it('accepts the defaults and refuses a batch size or cap that is not a sane whole number, naming the option', () => {
		assert.deepEqual(checkReadLimits({ batchSize: 1000, maxRows: 10_000 }), { batchSize: 1000, maxRows: 10_000 });
		for (const batchSize of [0, -5, 1.5, Number.NaN, 50_001, 1e12]) {
			assert.throws(() => checkReadLimits({ batchSize, maxRows: 10 }), (error: unknown) => error instanceof ChangeSourceError && /^Batch Size must be a whole number from 1 to 50,000/.test(error.message));
		}
		assert.throws(() => checkReadLimits({ batchSize: 10, maxRows: 0 }), /Max Rows per Execution/);
	});

	it('reads empty, null and missing as from the beginning, and refuses anything it cannot parse', () => {
		for (const since of ['', '   ', null, undefined]) assert.deepEqual(cursorFromSince(since, 'datetime'), beginningCursor('datetime'));
		assert.deepEqual(cursorFromSince({ kind: 'rowversion', marker: '0x00000000000007D1', key: ['1'] }, 'rowversion'), { kind: 'rowversion', marker: '0x00000000000007D1', key: ['1'] });
		assert.throws(() => cursorFromSince('04.06.10', 'datetime'), CursorFormatError);
		assert.throws(() => cursorFromSince(20100604, 'datetime'), CursorFormatError);
	});
});

describe('reading changes into items', () => {
	it('stops on a bad watermark before any batch is read', async () => {
		const source = customersSource();
		source.table('dbo.Customers').insert({ CustomerNo: 1, Name: 'a', ChangedAt: '2024-01-01T00:00:00.0000000' });
		await assert.rejects(readChanges(source, spec(), '{"kind":"datetime","marker":"yesterday","key":null}', { batchSize: 10, maxRows: 10 }), CursorFormatError);
		assert.equal(source.roundTrips, 1, 'only the catalogue was read');
	});

	it('gives changedAt with the right offset across the autumn overlap and the spring gap, and none for a NULL marker', async () => {
		const source = customersSource();
		source.table('dbo.Customers').insert(
			{ CustomerNo: 1, Name: 'null marker', ChangedAt: null },
			{ CustomerNo: 2, Name: 'spring gap', ChangedAt: '2024-03-31T02:30:00.0000000' },
			{ CustomerNo: 3, Name: 'summer', ChangedAt: '2024-07-01T12:00:00.1234567' },
			{ CustomerNo: 4, Name: 'autumn overlap', ChangedAt: '2024-10-27T02:30:00.0000000' },
			{ CustomerNo: 5, Name: 'winter', ChangedAt: '2024-10-27T03:00:00.0000000' },
		);
		source.serverUtcNow = '2024-12-01T00:00:00.0000000';
		const items = await readChanges(source, spec(), '', { batchSize: 2, maxRows: 100 });
		assert.deepEqual(items.map((item) => sync(item).changedAt), [
			undefined,
			'2024-03-31T02:30:00.0000000+01:00',
			'2024-07-01T12:00:00.1234567+02:00',
			'2024-10-27T02:30:00.0000000+02:00',
			'2024-10-27T03:00:00.0000000+01:00',
		]);
	});

	it('gives a Change Tracking delete as its key only, with operation delete and no change time', async () => {
		const source = customersSource();
		const table = source.table('dbo.Customers');
		table.insert({ CustomerNo: 1, Name: 'a', ChangedAt: null }, { CustomerNo: 2, Name: 'b', ChangedAt: null });
		const first = await readChanges(source, spec({ marker: { kind: 'changeTracking' } }), '', { batchSize: 10, maxRows: 10 });
		table.remove({ CustomerNo: 1 });
		const second = await readChanges(source, spec({ marker: { kind: 'changeTracking' } }), sync(first[1]).cursor, { batchSize: 10, maxRows: 10 });
		assert.equal(second.length, 1);
		const { _sync: info, ...row } = second[0];
		assert.deepEqual(row, { CustomerNo: 1 });
		assert.equal((info as unknown as SyncInfo).operation, 'delete');
		assert.deepEqual((info as unknown as SyncInfo).key, { CustomerNo: 1 });
		assert.equal((info as unknown as SyncInfo).changedAt, undefined);
	});
});

type Event = { type: 'insert'; key: number } | { type: 'update'; key: number } | { type: 'tick'; minutes: number } | { type: 'run'; batchSize: number; maxRows: number };

describe('model: across an autumn night, every version of every row is read exactly once', () => {
	it('holds for random writes, clock ticks, batch sizes and caps', async () => {
		const oslo = zoneNamed('Europe/Oslo');
		const check = async (events: Event[]): Promise<string | undefined> => {
			const source = customersSource();
			const table = source.table('dbo.Customers');
			let clock = Date.UTC(2024, 9, 26, 23, 0);
			const written = new Map<number, string>();
			const seen = new Set<string>();
			let cursor = '';
			const stamp = () => `${localReadingOf(clock, oslo)}0000`;
			const run = async (batchSize: number, maxRows: number) => {
				source.serverUtcNow = `${new Date(clock).toISOString().slice(0, 23)}0000`;
				const items = await readChanges(source, spec(), cursor, { batchSize, maxRows });
				for (const item of items) {
					const id = `${String(item.CustomerNo)}@${String(item.ChangedAt)}`;
					if (seen.has(id)) return `read ${id} twice`;
					seen.add(id);
				}
				if (items.length > 0) cursor = sync(items[items.length - 1]).cursor;
				return undefined;
			};
			for (const event of events) {
				let failure: string | undefined;
				if (event.type === 'insert' && !written.has(event.key)) {
					table.insert({ CustomerNo: event.key, Name: 'n', ChangedAt: stamp() });
					written.set(event.key, stamp());
				} else if (event.type === 'update' && written.has(event.key)) {
					table.update({ CustomerNo: event.key }, { ChangedAt: stamp() });
					written.set(event.key, stamp());
				} else if (event.type === 'tick') {
					clock += event.minutes * 60_000;
				} else if (event.type === 'run') {
					failure = await run(event.batchSize, event.maxRows);
				}
				if (failure) return failure;
			}
			clock += 4 * 3600_000;
			for (let drain = 0; drain < 1000; drain++) {
				const before = seen.size;
				const failure = await run(50, 1000);
				if (failure) return failure;
				if (seen.size === before) break;
			}
			for (const [key, marker] of written) {
				if (!seen.has(`${key}@${marker}`)) return `never read row ${key} as changed at ${marker}`;
			}
			return undefined;
		};
		const failure = await forAll<Event>(
			propertyOptionsFromEnvironment(60),
			(random) =>
				Array.from({ length: 80 }, () =>
					random.weighted<Event>([
						[4, { type: 'insert', key: random.int(1, 30) }],
						[3, { type: 'update', key: random.int(1, 30) }],
						[3, { type: 'tick', minutes: random.int(0, 25) }],
						[2, { type: 'run', batchSize: random.int(1, 4), maxRows: random.int(1, 9) }],
					]),
				),
			check,
		);
		assert.equal(failure && describeFailure(failure), undefined);
	});
});
