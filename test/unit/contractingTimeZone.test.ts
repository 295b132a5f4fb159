import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
	TimeZoneError,
	changedAtInZone,
	localReadingOf,
	localUpperBound,
	offsetOfLocalTime,
	zoneNamed,
} from '../../nodes/shared/core/timeZone';

const oslo = zoneNamed('Europe/Oslo');
const utcText = (ms: number) => `${new Date(ms).toISOString().slice(0, 23)}0000`;
const MINUTE = 60_000;

describe('naive local date-times in a time zone', () => {
	it('gives the one real offset outside the changes', () => {
		assert.deepEqual(offsetOfLocalTime('2024-07-01T12:00:00', oslo), { situation: 'normal', offsetMinutes: 120 });
		assert.deepEqual(offsetOfLocalTime('2024-01-15T12:00:00.1234567', oslo), { situation: 'normal', offsetMinutes: 60 });
		assert.equal(changedAtInZone('2024-07-01T12:00:00.1234567', oslo), '2024-07-01T12:00:00.1234567+02:00', 'every digit kept');
	});

	it('reads the autumn overlap hour as its first (summer-time) instant', () => {
		assert.deepEqual(offsetOfLocalTime('2024-10-27T02:30:00.1234567', oslo), { situation: 'overlap', offsetMinutes: 120 });
		assert.equal(offsetOfLocalTime('2024-10-27T02:00:00', oslo).situation, 'overlap');
		assert.deepEqual(offsetOfLocalTime('2024-10-27T01:59:59.9999999', oslo), { situation: 'normal', offsetMinutes: 120 });
		assert.deepEqual(offsetOfLocalTime('2024-10-27T03:00:00', oslo), { situation: 'normal', offsetMinutes: 60 });
		assert.equal(changedAtInZone('2024-10-27T02:30:00', oslo), '2024-10-27T02:30:00+02:00');
	});

	it('reads a spring-gap time with the offset from before the change, keeping the digits', () => {
		assert.deepEqual(offsetOfLocalTime('2024-03-31T02:30:00', oslo), { situation: 'gap', offsetMinutes: 60 });
		assert.equal(changedAtInZone('2024-03-31T02:30:00', oslo), '2024-03-31T02:30:00+01:00');
		assert.equal(changedAtInZone('2024-03-31T03:00:00', oslo), '2024-03-31T03:00:00+02:00');
		assert.equal(changedAtInZone('2024-03-31T01:59:59', oslo), '2024-03-31T01:59:59+01:00');
	});

	it('works for zones west of UTC and for UTC', () => {
		const newYork = zoneNamed('America/New_York');
		assert.equal(changedAtInZone('2024-11-03T01:30:00', newYork), '2024-11-03T01:30:00-04:00');
		assert.equal(changedAtInZone('2024-03-10T02:30:00', newYork), '2024-03-10T02:30:00-05:00');
		assert.equal(changedAtInZone('2024-03-10T02:30:00', zoneNamed('UTC')), '2024-03-10T02:30:00+00:00');
	});

	it('refuses a zone it does not know, saying what to enter', () => {
		assert.throws(() => zoneNamed('Oslo'), (error: unknown) => error instanceof TimeZoneError && /"Oslo"/.test(error.message) && /Europe\/Oslo/.test(error.advice));
	});
});

describe('the upper bound for local-time markers', () => {
	it('is the server clock minus the lag, read in the zone', () => {
		assert.equal(localUpperBound('2024-06-01T12:00:00.1234567', 60, oslo), '2024-06-01T13:59:00.123');
		assert.equal(localUpperBound('2024-06-01T12:00:00.1234567', 0, oslo), '2024-06-01T14:00:00.123');
		assert.equal(localUpperBound('2024-01-01T00:00:30', 60, zoneNamed('UTC')), '2023-12-31T23:59:30.000');
	});

	it('holds at the start of the autumn overlap until both passes of the hour are over', () => {
		assert.equal(localUpperBound('2024-10-26T23:59:59.999', 0, oslo), '2024-10-27T01:59:59.999', 'just before: the clock');
		assert.equal(localUpperBound('2024-10-27T00:30:00', 0, oslo), '2024-10-27T02:00:00.000', 'first pass');
		assert.equal(localUpperBound('2024-10-27T01:30:00', 0, oslo), '2024-10-27T02:00:00.000', 'second pass');
		assert.equal(localUpperBound('2024-10-27T02:00:30', 60, oslo), '2024-10-27T02:00:00.000', 'the lag reaches back into the overlap');
		assert.equal(localUpperBound('2024-10-27T02:00:00', 0, oslo), '2024-10-27T03:00:00.000', 'after: the clock again');
	});

	it('jumps over the spring gap with the clock', () => {
		assert.equal(localUpperBound('2024-03-31T00:59:00', 0, oslo), '2024-03-31T01:59:00.000');
		assert.equal(localUpperBound('2024-03-31T01:00:00', 0, oslo), '2024-03-31T03:00:00.000');
	});

	it('never lets a row written later carry a marker below a bound already used (autumn and spring nights, every 5 minutes)', () => {
		for (const night of [Date.UTC(2024, 9, 26, 20), Date.UTC(2024, 2, 30, 20)]) {
			let previousBound = '';
			for (let now = night; now <= night + 10 * 60 * MINUTE; now += 5 * MINUTE) {
				for (const lagSeconds of [0, 60, 900]) {
					const bound = localUpperBound(utcText(now), lagSeconds, oslo);
					for (let written = now - lagSeconds * 1000; written <= now + 4 * 60 * MINUTE; written += 5 * MINUTE) {
						const marker = localReadingOf(written, oslo);
						assert.ok(marker >= bound, `a row written at ${new Date(written).toISOString()} (marker ${marker}) is below the bound ${bound} used at ${new Date(now).toISOString()}`);
					}
				}
				const bound = localUpperBound(utcText(now), 60, oslo);
				assert.ok(bound >= previousBound, `the bound went back from ${previousBound} to ${bound}`);
				previousBound = bound;
			}
		}
	});
});
