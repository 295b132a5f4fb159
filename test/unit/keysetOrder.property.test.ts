/**
 * The keyset predicate means exactly "strictly after the last row" under the read's order: for random rows with
 * NULL markers, ties, zero and impossible legacy dates, and keys that differ only by case or trailing spaces,
 * the predicate built for the cursor after each row is true for exactly the rows the order puts after it. The
 * predicate is evaluated with SQL Server's rules (ordering.ts: NULL unknown, text under a case-insensitive
 * collation), and a read in batches of one through the in-memory twin returns every row once, in that order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { ReadWindow } from '../../nodes/shared/core/changeQuery';
import { cursorAfterRow, keysetConditions, keysetOrder } from '../../nodes/shared/core/changeQuery';
import { beginningCursor } from '../../nodes/shared/core/cursor';
import type { MarkerSpec } from '../../nodes/shared/core/markers';
import { resolveSourcePlan } from '../../nodes/shared/core/markers';
import { compareRows, compareTermValues, evaluate } from '../../nodes/shared/core/ordering';
import { twinMarkerText } from '../../nodes/shared/core/sourceOrder';
import type { Row, TableDefinition } from '../support/memory/memoryChangeSource';
import { MemoryChangeSource } from '../support/memory/memoryChangeSource';
import type { Random } from '../support/property';
import { describeFailure, forAll, propertyOptionsFromEnvironment } from '../support/property';
import { sourceSpecFor } from '../support/sourceSpec';

const table: TableDefinition = {
	name: 'dbo.Lines',
	columns: [
		{ name: 'Code', type: 'nvarchar(10)', nullable: false },
		{ name: 'LineNo', type: 'int', nullable: false },
		{ name: 'ChangedAt', type: 'datetime2(7)' },
		{ name: 'LastChangeDate', type: 'int' },
		{ name: 'LastChangeTime', type: 'int' },
		{ name: 'ChangeDay', type: 'date' },
		{ name: 'ChangeClock', type: 'time(0)' },
	],
	primaryKey: ['Code', 'LineNo'],
};

const MARKERS: Array<[string, MarkerSpec]> = [
	['date-time', { kind: 'datetime', column: 'ChangedAt' }],
	['yyyymmdd + hhmmss integers', { kind: 'dateAndTime', dateColumn: 'LastChangeDate', timeColumn: 'LastChangeTime', timeEncoding: 'hhmmss' }],
	['yyyymmdd + hhmm integers', { kind: 'dateAndTime', dateColumn: 'LastChangeDate', timeColumn: 'LastChangeTime', timeEncoding: 'hhmm' }],
	['date + time columns', { kind: 'dateAndTime', dateColumn: 'ChangeDay', timeColumn: 'ChangeClock', timeEncoding: 'hhmmss' }],
];

/** Codes equal under a case-insensitive collation with trailing spaces ignored: a, A, 'a ' are one key value. */
const CODES = ['a', 'A', 'a ', 'b', 'B ', 'ab', 'Ab', 'b  '];
const sameCode = (a: string, b: string) => compareTermValues(a, b, 'caseInsensitiveText') === 0;

function randomRows(random: Random): Row[] {
	const rows: Row[] = [];
	const count = random.int(1, 14);
	for (let attempt = 0; attempt < count * 3 && rows.length < count; attempt++) {
		const row: Row = {
			Code: random.pick(CODES),
			LineNo: random.int(1, 3),
			ChangedAt: random.pick([null, '2020-01-01T00:00:00', '2020-01-01T00:00:00.5', '2020-01-02T08:00:00.1234567']),
			LastChangeDate: random.pick([null, 0, 20100604, 20100605, 20100230, 20101301, 99999999, -1]),
			LastChangeTime: random.pick([null, 0, 93000, 120000, 1230, 246000, 99, 2360]),
			ChangeDay: random.pick([null, '2010-06-04', '2010-06-05']),
			ChangeClock: random.pick([null, '09:30:00', '23:59:59']),
		};
		// SQL Server's primary key refuses a second row whose key is equal under the collation.
		if (!rows.some((other) => sameCode(String(other.Code), String(row.Code)) && other.LineNo === row.LineNo)) rows.push(row);
	}
	return rows;
}

const window: ReadWindow = { upperBound: '2099-01-01T00:00:00' };

describe('the keyset predicate is "strictly after the last row" under the read\'s order', () => {
	for (const [name, marker] of MARKERS) {
		it(`${name}: for every row as the cursor, exactly the rows ordered after it`, async () => {
			const source = new MemoryChangeSource();
			const plan = resolveSourcePlan(source.define(table).catalog, sourceSpecFor(table.name, marker));
			const order = keysetOrder(plan).all;
			const failure = await forAll(propertyOptionsFromEnvironment(200), randomRows, async (rows) => {
				const sorted = [...rows].sort((a, b) => compareRows(order, a, b));
				for (let index = 1; index < sorted.length; index++) {
					if (compareRows(order, sorted[index - 1], sorted[index]) === 0) return `two rows tie on every ordering term: ${JSON.stringify(sorted.slice(index - 1, index + 1))}`;
				}
				for (const [position, last] of sorted.entries()) {
					const cursor = cursorAfterRow(plan, twinMarkerText(plan.marker, last), [String(last.Code), String(last.LineNo)], undefined);
					const after = keysetConditions(plan, window, cursor, []).after;
					if (!after) return 'a cursor after a row has no keyset condition';
					for (const [other, row] of sorted.entries()) {
						const expected = other > position;
						if ((evaluate(after, row) === true) !== expected) {
							return `after ${JSON.stringify(last)} (cursor ${JSON.stringify(cursor)}), row ${JSON.stringify(row)} is ${expected ? 'after it but not selected' : 'not after it but selected'}`;
						}
					}
				}
				return undefined;
			});
			assert.equal(failure, undefined, failure && describeFailure(failure));
		});
	}

	it('the in-memory twin reads every row once, in that order, one row per batch', async () => {
		for (const [, marker] of MARKERS) {
			const failure = await forAll(propertyOptionsFromEnvironment(100), randomRows, async (rows) => {
				const source = new MemoryChangeSource();
				source.define(table).insert(...rows);
				const plan = await source.describe(sourceSpecFor(table.name, marker));
				const expected = [...rows].sort((a, b) => compareRows(keysetOrder(plan).all, a, b)).map((row) => `${String(row.Code)}|${String(row.LineNo)}`);
				const read: string[] = [];
				let after = beginningCursor(plan.marker.kind);
				for (let batch = 0; batch <= rows.length; batch++) {
					const result = await source.readBatch(plan, window, after, 1);
					read.push(...result.rows.map((row) => `${String(row.values.Code)}|${String(row.values.LineNo)}`));
					if (!result.hasMore) break;
					after = result.rows[0].cursor;
				}
				return JSON.stringify(read) === JSON.stringify(expected) ? undefined : `read ${JSON.stringify(read)}, expected ${JSON.stringify(expected)}`;
			});
			assert.equal(failure, undefined, failure && describeFailure(failure));
		}
	});
});
