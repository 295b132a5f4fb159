import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import { readChanges } from '../../nodes/Contracting/helpers/readChanges';
import { SqlServerChangeSource } from '../../nodes/Contracting/stores/sqlServerChangeSource';
import { DESCRIBE_TABLE_QUERY, UnknownTableError } from '../../nodes/shared/catalog';
import { ChangeSourceError } from '../../nodes/shared/core/markers';
import type { MarkerSpec, SourceSpec } from '../../nodes/shared/core/markers';
import { restoreAllSeams } from '../../nodes/shared/seams';
import { connectionSettingsFromCredentials } from '../../nodes/shared/transport/connectionSettings';
import type { SqlRequest, SqlResult, SqlRow } from '../../nodes/shared/transport/types';
import type { TableDefinition } from '../support/memory/memoryChangeSource';
import { catalogueResult } from '../support/catalogueAnswer';
import { RecordingSqlTransport, asProductionTransport, resultOf } from '../support/recordingTransport';
import { sourceSpecFor } from '../support/sourceSpec';

const customers: TableDefinition = {
	name: 'dbo.Customers',
	columns: [
		{ name: 'CustomerNo', type: 'int', nullable: false },
		{ name: 'Name', type: 'nvarchar(100)', nullable: false },
		{ name: 'ChangedAt', type: 'datetime2(7)' },
		{ name: 'LegacyChangedAt', type: 'datetime' },
	],
	primaryKey: ['CustomerNo'],
	changeTracking: true,
};


const MARKER = '2024-03-31T01:59:59.1234567';

/**
 * Answers like SQL Server for one scenario: rows 1..7, all at one marker value. A batch request is answered
 * from its own @take and @k0, so a wrong cursor parameter would show up as a wrong row.
 */
function sameMarkerServer(rowCount: number, facts: SqlRow = { serverUtcNow: '2024-06-01T12:00:00.0000000' }) {
	return (request: SqlRequest): SqlResult => {
		if (request.text === DESCRIBE_TABLE_QUERY) return catalogueResult(customers);
		if (request.text.includes('SYSUTCDATETIME()') || request.text.includes('CHANGE_TRACKING_CURRENT_VERSION()')) return resultOf([facts]);
		const take = Number(request.parameters.find((parameter) => parameter.name === 'take')?.value);
		const after = Number(request.parameters.find((parameter) => parameter.name === 'k0')?.value ?? 0);
		const rows = Array.from({ length: rowCount }, (_, index) => index + 1)
			.filter((key) => key > after)
			.slice(0, take)
			.map((key) => ({ CustomerNo: key, Name: `C${key}`, ChangedAt: MARKER, __sync_marker: MARKER, __sync_key_0: String(key) }));
		return resultOf(rows);
	};
}

function sourceOver(double: RecordingSqlTransport) {
	return new SqlServerChangeSource(asProductionTransport(double, connectionSettingsFromCredentials({ server: 'contracting.local', database: 'Contracting' })));
}

const spec = (marker: MarkerSpec = { kind: 'datetime', column: 'ChangedAt' }): SourceSpec => sourceSpecFor('dbo.Customers', marker, { outputColumns: ['Name', 'ChangedAt'] });

const batchRequests = (double: RecordingSqlTransport) => double.requests.filter((request) => request.text.includes('__sync_marker'));
const parameterValue = (request: SqlRequest, name: string) => request.parameters.find((parameter) => parameter.name === name)?.value;

describe('SQL Server change source against the transport double', () => {
	afterEach(restoreAllSeams);

	it('reads rows sharing one marker in batches: one round trip each, each asking after the exact last row of the one before', async () => {
		const double = new RecordingSqlTransport(sameMarkerServer(7));
		const items = await readChanges(sourceOver(double), spec(), '', { batchSize: 3, maxRows: 100 });

		assert.equal(double.roundTrips, 1 + 1 + 3, 'catalogue, window, then one per batch');
		const batches = batchRequests(double);
		assert.deepEqual(batches.map((request) => [parameterValue(request, 'm'), parameterValue(request, 'k0'), parameterValue(request, 'take')]), [
			[undefined, undefined, 4],
			[MARKER, '3', 4],
			[MARKER, '6', 4],
		]);
		assert.deepEqual(items.map((item) => item.CustomerNo), [1, 2, 3, 4, 5, 6, 7]);
		const syncs = items.map((item) => item._sync as Record<string, unknown>);
		assert.deepEqual(syncs.map((sync) => sync.position), [0, 1, 2, 0, 1, 2, 0]);
		assert.deepEqual(syncs.map((sync) => sync.batchRows), [3, 3, 3, 3, 3, 3, 1]);
		assert.deepEqual(syncs.map((sync) => sync.hasMore), [true, true, true, true, true, true, false]);
		assert.equal(syncs[6].cursor, JSON.stringify({ kind: 'datetime', marker: MARKER, key: ['7'] }), 'the marker text exactly as SQL Server gave it');
		assert.equal(syncs[3].batchStartCursor, JSON.stringify({ kind: 'datetime', marker: MARKER, key: ['3'] }));
		assert.equal(syncs[0].changedAt, '2024-03-31T01:59:59.1234567+01:00');
		assert.deepEqual(syncs[0].key, { CustomerNo: 1 });
	});

	it('stops at the cap and says more follow', async () => {
		const double = new RecordingSqlTransport(sameMarkerServer(7));
		const items = await readChanges(sourceOver(double), spec(), '', { batchSize: 3, maxRows: 5 });
		assert.deepEqual(items.map((item) => item.CustomerNo), [1, 2, 3, 4, 5]);
		assert.deepEqual(batchRequests(double).map((request) => parameterValue(request, 'take')), [4, 3], 'the last batch asks for what the cap leaves, plus one');
		assert.equal((items[4]._sync as { hasMore: boolean }).hasMore, true);
	});

	it('passes a watermark\'s text to SQL Server unchanged and converts it to a legacy datetime column\'s own type there', async () => {
		const double = new RecordingSqlTransport(sameMarkerServer(0));
		const since = JSON.stringify({ kind: 'datetime', marker: '2024-01-01T00:00:00.1234567', key: null });
		const items = await readChanges(sourceOver(double), spec({ kind: 'datetime', column: 'LegacyChangedAt' }), since, { batchSize: 10, maxRows: 10 });
		assert.deepEqual(items, [], 'zero rows: zero items');
		const [batch] = batchRequests(double);
		assert.equal(parameterValue(batch, 'm'), '2024-01-01T00:00:00.1234567');
		assert.ok(batch.text.includes('src.[LegacyChangedAt] > CONVERT(datetime, CONVERT(datetime2(7), @m, 126))'));
		assert.equal(parameterValue(batch, 'upperBound'), '2024-06-01T13:59:00.000', 'server UTC 12:00 minus 60 s, in Oslo summer time');
	});

	it('retries a deadlocked batch with the same cursor, so no row is read twice or lost', async () => {
		const double = new RecordingSqlTransport(sameMarkerServer(7)).failOn(4, { number: 1205 });
		const items = await readChanges(sourceOver(double), spec(), '', { batchSize: 3, maxRows: 100 });
		assert.deepEqual(items.map((item) => item.CustomerNo), [1, 2, 3, 4, 5, 6, 7]);
		const batches = batchRequests(double);
		assert.equal(batches.length, 4);
		assert.deepEqual(batches[1], batches[2], 'the retry repeats the same statement and parameters');
	});

	it('stops on an expired Change Tracking version after the window query, before reading any batch', async () => {
		const double = new RecordingSqlTransport(sameMarkerServer(7, { currentVersion: '500', minValidVersion: '300' }));
		const since = JSON.stringify({ kind: 'changeTracking', marker: '120', key: null });
		await assert.rejects(readChanges(sourceOver(double), spec({ kind: 'changeTracking' }), since, { batchSize: 3, maxRows: 10 }), (error: unknown) => error instanceof ChangeSourceError && /full re-send/.test(error.advice));
		assert.equal(double.roundTrips, 2);
		assert.deepEqual(double.requests[1].parameters, [{ name: 'table', type: { name: 'nvarchar', length: 520 }, value: '[dbo].[Customers]' }]);
	});

	it('stops on an unknown table after the one catalogue query', async () => {
		const double = new RecordingSqlTransport(() => resultOf([], [], []));
		await assert.rejects(readChanges(sourceOver(double), spec(), '', { batchSize: 3, maxRows: 10 }), UnknownTableError);
		assert.equal(double.roundTrips, 1);
	});
});
