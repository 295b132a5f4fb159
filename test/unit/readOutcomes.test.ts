/**
 * The Contracting read's outcome table (test/contract/readOutcomes.contract.ts) against the in-memory change source,
 * the legacy time definitions both sides use, and the server facts the read window is fixed from.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { serverFactsRequest } from '../../nodes/shared/core/changeQuery';
import type { LegacyTimeEncoding } from '../../nodes/shared/core/legacyTime';
import { legacyTimeFromLocalSql, legacyTimeOf, partsOfLegacyTime, timeFromLegacySql } from '../../nodes/shared/core/legacyTime';
import { resolveSourcePlan } from '../../nodes/shared/core/markers';
import { memoryReadOutcomeHarness, readOutcomeTables } from '../contract/readOutcomes.contract';
import { MemoryChangeSource, catalogColumnOf } from '../support/memory/memoryChangeSource';
import { sourceSpecFor } from '../support/sourceSpec';

readOutcomeTables('in memory', async () => memoryReadOutcomeHarness(new MemoryChangeSource()));

describe('legacy integer times: one definition for the T-SQL and the in-memory source', () => {
	const cases: Array<[LegacyTimeEncoding, { hour: number; minute: number; second: number }, number]> = [
		['hhmmss', { hour: 9, minute: 30, second: 15 }, 93015],
		['hhmmss', { hour: 23, minute: 59, second: 59 }, 235959],
		['hhmmss', { hour: 0, minute: 0, second: 7 }, 7],
		['hhmm', { hour: 9, minute: 31, second: 0 }, 931],
		['hhmm', { hour: 0, minute: 5, second: 0 }, 5],
	];
	for (const [encoding, time, value] of cases) {
		it(`${encoding}: ${value} is ${time.hour}:${time.minute}:${time.second}, both ways`, () => {
			assert.equal(legacyTimeOf(time, encoding), value);
			assert.deepEqual(partsOfLegacyTime(value, encoding), time);
		});
	}

	it('renders the same groups as T-SQL integer arithmetic', () => {
		assert.equal(legacyTimeFromLocalSql('@t', 'hhmmss'), '(DATEPART(hour, @t) * 10000 + DATEPART(minute, @t) * 100 + DATEPART(second, @t))');
		assert.equal(legacyTimeFromLocalSql('@t', 'hhmm'), '(DATEPART(hour, @t) * 100 + DATEPART(minute, @t))');
		assert.equal(timeFromLegacySql('v', 'hhmmss'), 'TIMEFROMPARTS(v / 10000, v / 100 % 100, v % 100, 0, 0)');
		assert.equal(timeFromLegacySql('v', 'hhmm'), 'TIMEFROMPARTS(v / 100, v % 100, 0, 0, 0)');
	});
});

describe('the read window: the server facts it is fixed from', () => {
	const plan = (marker: Parameters<typeof sourceSpecFor>[1]) =>
		resolveSourcePlan(
			{
				name: { schema: 'dbo', name: 'Customers' },
				kind: 'table',
				columns: [catalogColumnOf({ name: 'CustomerNo', type: 'int', nullable: false }, ['CustomerNo']), catalogColumnOf({ name: 'RowVer', type: 'rowversion' }, ['CustomerNo'])],
				primaryKey: ['CustomerNo'],
				uniqueKeys: [['CustomerNo']],
				changeTracking: true,
			},
			sourceSpecFor('dbo.Customers', marker),
		);

	it('a rowversion read ends below the oldest open transaction: MIN_ACTIVE_ROWVERSION(), not @@DBTS (the last one used, open or not)', () => {
		const request = serverFactsRequest(plan({ kind: 'rowversion', column: 'RowVer' }));
		assert.match(request.text, /\bMIN_ACTIVE_ROWVERSION\(\)/);
		assert.doesNotMatch(request.text, /@@DBTS/);
	});

	it('a Change Tracking read asks for the current version and the minimum valid version of its own table', () => {
		const request = serverFactsRequest(plan({ kind: 'changeTracking' }));
		assert.match(request.text, /CHANGE_TRACKING_CURRENT_VERSION\(\)/);
		assert.match(request.text, /CHANGE_TRACKING_MIN_VALID_VERSION\(OBJECT_ID\(@table\)\)/);
		assert.deepEqual(request.parameters.map((parameter) => parameter.value), ['[dbo].[Customers]']);
	});
});
