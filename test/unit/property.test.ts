import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Random, forAll, shrink } from '../support/property';

describe('model-based testing kit', () => {
	it('gives the same sequence for the same seed', () => {
		const a = new Random(42);
		const b = new Random(42);
		const draws = (random: Random) => Array.from({ length: 20 }, () => random.int(0, 1000));
		assert.deepEqual(draws(a), draws(b));
		assert.notDeepEqual(draws(new Random(1)), draws(new Random(2)));
	});

	it('stays within bounds', () => {
		const random = new Random(7);
		for (let n = 0; n < 1000; n++) {
			const value = random.int(-3, 3);
			assert.ok(value >= -3 && value <= 3 && Number.isInteger(value));
		}
	});

	it('shrinks a failing sequence to the events that matter', async () => {
		// Fails when both a 'rewind' and a later 'crash' occur: the minimal case is exactly those two.
		const check = async (events: string[]) => {
			const rewind = events.indexOf('rewind');
			return rewind !== -1 && events.indexOf('crash', rewind) !== -1 ? 'crash after rewind' : undefined;
		};
		const events = ['insert', 'update', 'rewind', 'insert', 'update', 'update', 'crash', 'insert'];
		const result = await shrink(events, check);
		assert.deepEqual(result.events, ['rewind', 'crash']);
		assert.equal(result.message, 'crash after rewind');
	});

	it('finds, shrinks and reports the seed of a violation', async () => {
		const failure = await forAll(
			{ runs: 50 },
			(random) => Array.from({ length: random.int(1, 30) }, () => random.int(0, 9)),
			async (numbers) => (numbers.filter((n) => n === 9).length >= 2 ? 'two nines' : undefined),
		);
		assert.ok(failure, 'some sequence of 50 has two nines');
		assert.deepEqual(failure.shrunk, [9, 9]);
		const replay = await forAll({ runs: 1, seed: failure.seed }, (random) => Array.from({ length: random.int(1, 30) }, () => random.int(0, 9)), async () => undefined);
		assert.equal(replay, undefined);
	});
});
