/**
 * The benchmark's attribution of garbage-collector pauses to our node runs: only the part of a pause inside a run counts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Interval } from '../bench/intervals';
import { overlapMillis } from '../bench/intervals';

describe('benchmark: pauses inside windows', () => {
	const windows: Interval[] = [
		[10, 20],
		[30, 40],
		[50, 60],
	];

	it('counts a pause inside a window whole, one outside not at all', () => {
		assert.equal(overlapMillis([[12, 15]], windows), 3);
		assert.equal(overlapMillis([[21, 29]], windows), 0);
		assert.equal(overlapMillis([[60, 70]], windows), 0);
	});

	it('counts only the part of a pause that overlaps, also across two windows', () => {
		assert.equal(overlapMillis([[5, 12]], windows), 2);
		assert.equal(overlapMillis([[18, 33]], windows), 5);
		assert.equal(overlapMillis([[0, 100]], windows), 30);
	});

	it('adds up many pauses in time order', () => {
		assert.equal(
			overlapMillis(
				[
					[11, 12],
					[19, 31],
					[39, 41],
					[55, 56],
				],
				windows,
			),
			1 + 1 + 1 + 1 + 1,
		);
	});

	it('is nothing without windows or without pauses', () => {
		assert.equal(overlapMillis([[1, 2]], []), 0);
		assert.equal(overlapMillis([], windows), 0);
	});
});
