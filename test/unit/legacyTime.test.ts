/**
 * The legacy integer times (hhmmss, hhmm): one list of digit groups decides, for the read's T-SQL and for the
 * in-memory twin alike, what a time of day is.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { decodeLegacyTime, legacyTimeIsTimeOfDay, legacyTimeIsTimeOfDaySql } from '../../nodes/shared/core/legacyTime';

describe('legacy integer times', () => {
	it('hhmmss: exactly 00:00:00 to 23:59:59 with minutes and seconds below 60 are times of day', () => {
		let times = 0;
		for (let value = -1; value <= 240_100; value++) {
			const [hours, minutes, seconds] = [Math.floor(value / 10000), Math.floor(value / 100) % 100, value % 100];
			const expected = value >= 0 && hours < 24 && minutes < 60 && seconds < 60;
			assert.equal(legacyTimeIsTimeOfDay('hhmmss', value), expected, String(value));
			if (expected) {
				times++;
				assert.deepEqual(decodeLegacyTime('hhmmss', value), [hours, minutes, seconds]);
			}
		}
		assert.equal(times, 24 * 60 * 60);
		assert.equal(legacyTimeIsTimeOfDay('hhmmss', 1345.5), false, 'not a whole number');
	});

	it('hhmm: exactly 00:00 to 23:59 are times of day', () => {
		let times = 0;
		for (let value = -1; value <= 2_500; value++) {
			const expected = value >= 0 && Math.floor(value / 100) < 24 && value % 100 < 60;
			assert.equal(legacyTimeIsTimeOfDay('hhmm', value), expected, String(value));
			if (expected) times++;
		}
		assert.equal(times, 24 * 60);
	});

	it('renders the same rule as T-SQL integer arithmetic, group by group', () => {
		assert.equal(legacyTimeIsTimeOfDaySql('hhmmss', 't'), 't >= 0 AND t / 10000 < 24 AND t / 100 % 100 < 60 AND t % 100 < 60');
		assert.equal(legacyTimeIsTimeOfDaySql('hhmm', 't'), 't >= 0 AND t / 100 < 24 AND t % 100 < 60');
	});
});
