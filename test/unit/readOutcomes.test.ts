/**
 * The Contracting read's outcome table (test/contract/readOutcomes.contract.ts) against the in-memory change source,
 * and the server facts the read window is fixed from.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { serverFactsRequest } from '../../nodes/shared/core/changeQuery';
import { resolveSourcePlan } from '../../nodes/shared/core/markers';
import { memoryReadOutcomeHarness, readOutcomeTables } from '../contract/readOutcomes.contract';
import { MemoryChangeSource, catalogColumnOf } from '../support/memory/memoryChangeSource';
import { sourceSpecFor } from '../support/sourceSpec';

readOutcomeTables('in memory', async () => memoryReadOutcomeHarness(new MemoryChangeSource()));

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
