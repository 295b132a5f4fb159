import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { serializeCursor } from '../../nodes/shared/core/cursor';
import type { HistoryEntryLike } from '../../nodes/shared/core/rewind';
import {
	NotBehindError,
	RewindInputError,
	cursorTargetTime,
	isCursorAfter,
	markerMovedBack,
	planRewind,
	rewindFromHistory,
	rewindToUndo,
	wallTimeOfInput,
} from '../../nodes/shared/core/rewind';
import { TimeZoneError, zoneNamed } from '../../nodes/shared/core/timeZone';

const OSLO = zoneNamed('Europe/Oslo');
const NOW = new Date('2025-11-15T12:00:00Z');
const datetime = (marker: string | null, key: string[] | null = null) => serializeCursor({ kind: 'datetime', marker, key });
const rowversion = (marker: string) => serializeCursor({ kind: 'rowversion', marker, key: ['1'] });
const twoDays = { by: 'duration' as const, days: 2, hours: 0 };

describe('rewind by days: the same wall-clock time, calendar days earlier (Europe/Oslo)', () => {
	const cases: Array<[string, string, string]> = [
		['across the last Sunday of March (clocks forward)', '2025-03-31T10:00:00.1234567', '2025-03-29T10:00:00.1234567'],
		['across the last Sunday of October (clocks back)', '2025-10-27T10:00:00', '2025-10-25T10:00:00'],
		['onto the hour that never happened in March: kept as written', '2025-04-01T02:30:00', '2025-03-30T02:30:00'],
		['onto the hour that happened twice in October: kept as written', '2025-10-28T02:30:00.5', '2025-10-26T02:30:00.5'],
		['from inside the October overlap', '2025-10-26T02:15:00', '2025-10-24T02:15:00'],
		['across a month and year end', '2025-01-01T00:00:00', '2024-12-30T00:00:00'],
		['over 29 February', '2024-03-01T23:59:59.9999999', '2024-02-28T23:59:59.9999999'],
	];
	for (const [name, from, to] of cases) {
		it(name, () => assert.equal(markerMovedBack(from, 2, 0, OSLO), to));
	}

	it('as a whole plan: the new cursor has the new marker and no key', () => {
		const planned = planRewind(datetime('2025-03-31T10:00:00', ['17']), twoDays, 'Europe/Oslo', '2025-03-31T08:00:00.000Z', NOW);
		assert.ok('plan' in planned);
		assert.equal(planned.plan.cursor, datetime('2025-03-29T10:00:00'));
		assert.match(planned.plan.how, /2 days back from 2025-03-31T10:00:00 \(Europe\/Oslo\)/);
	});
});

describe('rewind by hours: elapsed hours', () => {
	it('counts the hour the clocks skipped in March', () => {
		// 04:30 CEST is 02:30 UTC; three hours earlier is 23:30 UTC, 00:30 CET.
		assert.equal(markerMovedBack('2025-03-30T04:30:00', 0, 3, OSLO), '2025-03-30T00:30:00');
	});

	it('counts the hour that happens twice in October; landing in its first pass, goes to its start, since the second pass reads 02:00 again', () => {
		// 03:30 CET is 02:30 UTC; two hours earlier is 00:30 UTC, 02:30 CEST; rows of 01:00-01:29 UTC read 02:00-02:29.
		assert.equal(markerMovedBack('2025-10-26T03:30:00', 0, 2, OSLO), '2025-10-26T02:00:00');
		assert.equal(markerMovedBack('2025-10-26T03:30:00.5', 0, 2, OSLO), '2025-10-26T02:00:00');
		// Landing in the second pass (01:30 UTC, 02:30 CET), nothing later reads lower.
		assert.equal(markerMovedBack('2025-10-26T03:30:00', 0, 1, OSLO), '2025-10-26T02:30:00');
	});

	it('just after the spring change, lands on the reading of a clock not yet moved forward', () => {
		// 02:45 in the gap is 01:45 UTC; half an hour earlier is 01:15 UTC: 03:15 CEST, but 02:15 on a clock not yet moved.
		assert.equal(markerMovedBack('2025-03-30T02:45:00', 0, 0.5, OSLO), '2025-03-30T02:15:00');
	});

	it('reads an ambiguous marker as its first (earlier) occurrence, so it never lands later than asked', () => {
		assert.equal(markerMovedBack('2025-10-26T02:30:00', 0, 1, OSLO), '2025-10-26T01:30:00');
	});

	it('reads a marker in the March gap with the offset from before the gap', () => {
		// 02:30 at +01:00 is 01:30 UTC; one hour earlier is 00:30 UTC, 01:30 CET.
		assert.equal(markerMovedBack('2025-03-30T02:30:00', 0, 1, OSLO), '2025-03-30T01:30:00');
	});

	it('applies days first, then hours', () => {
		assert.equal(markerMovedBack('2025-03-31T01:00:00', 1, 1, OSLO), '2025-03-30T00:00:00');
	});
});

describe('rewind to a date and time', () => {
	it('reads what people type, and what the date picker gives, as wall-clock time in the zone', () => {
		assert.equal(wallTimeOfInput('2025-03-31 08:00', OSLO), '2025-03-31T08:00:00');
		assert.equal(wallTimeOfInput('2025-03-31T08:00:00', OSLO), '2025-03-31T08:00:00');
		assert.equal(wallTimeOfInput('2025-03-31', OSLO), '2025-03-31T00:00:00');
		assert.equal(wallTimeOfInput('2025-03-31T06:00:00.000+00:00', OSLO), '2025-03-31T08:00:00');
		assert.equal(wallTimeOfInput('2025-03-29T06:00:00Z', OSLO), '2025-03-29T07:00:00');
	});

	for (const bad of ['', 'yesterday', '2025-02-30', '31.03.2025', '2025-03-31T25:00']) {
		it(`refuses "${bad}" with a clear error`, () => {
			assert.throws(() => wallTimeOfInput(bad, OSLO), RewindInputError);
		});
	}

	it('sets the marker to that time with no key', () => {
		const planned = planRewind(datetime('2025-06-01T00:00:00', ['9']), { by: 'dateTime', dateTime: '2025-03-30 02:30' }, 'Europe/Oslo', NOW.toISOString(), NOW);
		assert.ok('plan' in planned);
		assert.equal(planned.plan.cursor, datetime('2025-03-30T02:30:00'));
	});

	it('refuses a time in the future', () => {
		assert.throws(
			() => planRewind(datetime('2025-06-01T00:00:00'), { by: 'dateTime', dateTime: '2025-11-15 14:00' }, 'Europe/Oslo', NOW.toISOString(), NOW),
			/in the future/,
		);
	});

	it('refuses a time after where the stream is now (that would skip rows)', () => {
		assert.throws(
			() => planRewind(datetime('2025-06-01T00:00:00'), { by: 'dateTime', dateTime: '2025-07-01' }, 'Europe/Oslo', NOW.toISOString(), NOW),
			NotBehindError,
		);
		assert.throws(() => planRewind(null, { by: 'dateTime', dateTime: '2025-07-01' }, 'Europe/Oslo', NOW.toISOString(), NOW), NotBehindError);
	});

	it('refuses an unknown time zone and a duration of nothing', () => {
		assert.throws(() => planRewind(datetime('2025-06-01T00:00:00'), twoDays, 'Europe/Olso', NOW.toISOString(), NOW), TimeZoneError);
		assert.throws(() => planRewind(datetime('2025-06-01T00:00:00'), { by: 'duration', days: 0, hours: 0 }, 'Europe/Oslo', NOW.toISOString(), NOW), RewindInputError);
		assert.throws(() => planRewind(datetime('2025-06-01T00:00:00'), { by: 'duration', days: 1.5, hours: 0 }, 'Europe/Oslo', NOW.toISOString(), NOW), RewindInputError);
		assert.throws(() => planRewind(datetime('2025-06-01T00:00:00'), { by: 'duration', days: -2, hours: 0 }, 'Europe/Oslo', NOW.toISOString(), NOW), RewindInputError);
	});

	it('leaves a stream at the beginning where it is, and takes one reading rows without a marker back to the beginning', () => {
		const atBeginning = planRewind(null, twoDays, 'Europe/Oslo', NOW.toISOString(), NOW);
		assert.ok('plan' in atBeginning);
		assert.equal(atBeginning.plan.cursor, null);
		const inNullRegion = planRewind(datetime(null, ['5']), twoDays, 'Europe/Oslo', NOW.toISOString(), NOW);
		assert.ok('plan' in inNullRegion);
		assert.equal(inNullRegion.plan.cursor, null);
	});
});

describe('rewind to the beginning, and repairing a watermark that cannot be read', () => {
	it('goes to the beginning from any cursor, even one that cannot be read', () => {
		for (const current of [rowversion('0x00000000000007D1'), datetime('2025-03-31T10:00:00'), 'edited by hand']) {
			assert.deepEqual(planRewind(current, { by: 'beginning' }, 'Europe/Oslo', NOW.toISOString(), NOW), {
				plan: { cursor: null, how: 'To the beginning: everything is sent again' },
			});
		}
		assert.deepEqual(planRewind(null, { by: 'beginning' }, 'Europe/Oslo', NOW.toISOString(), NOW), {
			plan: { cursor: null, how: 'The stream is at the beginning already; nothing to rewind' },
		});
	});

	it('replaces an unreadable watermark with a date, but cannot count a duration back from it', () => {
		const planned = planRewind('edited by hand', { by: 'dateTime', dateTime: '2025-03-01 06:00' }, 'Europe/Oslo', NOW.toISOString(), NOW);
		assert.ok('plan' in planned);
		assert.equal(planned.plan.cursor, datetime('2025-03-01T06:00:00'));
		assert.match(planned.plan.how, /replacing a stored watermark that could not be read/);
		assert.throws(() => planRewind('edited by hand', twoDays, 'Europe/Oslo', NOW.toISOString(), NOW), /cannot be read/);
		assert.throws(() => planRewind('edited by hand', { by: 'dateTime', dateTime: '2999-01-01' }, 'Europe/Oslo', NOW.toISOString(), NOW), /in the future/);
	});
});

describe('rewind of rowversion and Change Tracking cursors: from the history', () => {
	it('asks the history for the cursor in effect two calendar days before the current one was stored', () => {
		const planned = planRewind(rowversion('0x00000000000007D1'), twoDays, 'Europe/Oslo', '2025-03-31T08:00:00.000Z', NOW);
		// Stored at 10:00 CEST on 31 March; two days back is 10:00 CET on 29 March, 09:00 UTC.
		assert.deepEqual(planned, { historyAt: '2025-03-29T09:00:00.000Z' });
	});

	it('to a date and time asks for that instant', () => {
		assert.equal(cursorTargetTime({ by: 'dateTime', dateTime: '2025-10-26 02:30' }, NOW.toISOString(), 'Europe/Oslo', NOW), '2025-10-26T00:30:00.000Z');
	});

	it('takes the entry in effect, or the beginning when the history does not reach back', () => {
		const entry: HistoryEntryLike = { id: 4, action: 'set', oldCursor: null, newCursor: rowversion('0x00000000000003E8'), changedAt: '2025-03-29T08:00:00.000Z' };
		assert.equal(rewindFromHistory(rowversion('0x00000000000007D1'), entry, '2025-03-29T09:00:00.000Z').cursor, entry.newCursor);
		const none = rewindFromHistory(rowversion('0x00000000000007D1'), undefined, '2025-03-29T09:00:00.000Z');
		assert.equal(none.cursor, null);
		assert.match(none.how, /does not reach back/);
	});

	it('never moves forward from the history (after a rewind, the entry in effect may be ahead)', () => {
		const ahead: HistoryEntryLike = { id: 4, action: 'set', oldCursor: null, newCursor: rowversion('0x0000000000000FA0'), changedAt: '2025-03-29T08:00:00.000Z' };
		const plan = rewindFromHistory(rowversion('0x00000000000007D1'), ahead, '2025-03-29T09:00:00.000Z');
		assert.equal(plan.cursor, rowversion('0x00000000000007D1'));
	});
});

describe('cursor order for the rewind checks', () => {
	it('orders date-time markers with any number of fraction digits, and binary markers as numbers', () => {
		const at = (marker: string | null, key: string[] | null = null) => ({ kind: 'datetime' as const, marker, key });
		assert.equal(isCursorAfter(at('2025-01-01T00:00:00.5'), at('2025-01-01T00:00:00.4999999')), true);
		assert.equal(isCursorAfter(at('2025-01-01T00:00:00'), at('2025-01-01T00:00:00.0000001')), false);
		assert.equal(isCursorAfter(at('2025-01-01T00:00:00', ['1']), at('2025-01-01T00:00:00')), true);
		assert.equal(isCursorAfter(at(null, ['1']), at(null)), true, 'rows without a marker come after the beginning');
		assert.equal(isCursorAfter(at(null), at('2000-01-01T00:00:00')), false);
		const rv = (marker: string) => ({ kind: 'rowversion' as const, marker, key: null });
		assert.equal(isCursorAfter(rv('0x0000000000000100'), rv('0x00000000000000FF')), true);
	});
});

describe('undo: which rewind it reverses', () => {
	const entry = (id: number, action: HistoryEntryLike['action']): HistoryEntryLike => ({ id, action, oldCursor: `old${id}`, newCursor: `new${id}`, changedAt: '' });

	it('the latest rewind not undone yet; undoing twice reverses the two latest', () => {
		assert.equal(rewindToUndo([entry(3, 'rewind'), entry(1, 'rewind')])?.id, 3);
		assert.equal(rewindToUndo([entry(4, 'undo'), entry(3, 'rewind'), entry(1, 'rewind')])?.id, 1);
		assert.equal(rewindToUndo([entry(5, 'undo'), entry(4, 'undo'), entry(3, 'rewind'), entry(1, 'rewind')]), undefined);
		assert.equal(rewindToUndo([]), undefined);
	});
});
