/**
 * The decision tables stated once (nodes/shared/core/decisionTable.ts): what a condition means here, the T-SQL it
 * becomes, and that the predicate of one outcome holds exactly when the table decides that outcome.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Condition, DecisionTable, Fact } from '../../nodes/shared/core/decisionTable';
import { all, any, atLeast, conditionSql, decide, decidesCondition, decidesSql, decisionSql, greater, holds, isNull, isTrue, not, outcomesOf, sameText } from '../../nodes/shared/core/decisionTable';

type F = 'a' | 'b';
const operands = { a: '@a', b: '@b' };

describe('decision tables: what a condition means, NULLs included', () => {
	const cases: Array<[string, Condition<F>, Record<F, Fact>, boolean]> = [
		['NULL is null', isNull('a'), { a: null, b: 1 }, true],
		['0 is not null', isNull('a'), { a: 0, b: 1 }, false],
		['a bit 1 is true', isTrue('a'), { a: 1, b: null }, true],
		['true is true', isTrue('a'), { a: true, b: null }, true],
		['a bit 0 is not true', isTrue('a'), { a: 0, b: null }, false],
		['NULL is not true', isTrue('a'), { a: null, b: null }, false],
		['3 > 2', greater('a', 'b'), { a: 3, b: 2 }, true],
		['2 is not > 2', greater('a', 'b'), { a: 2, b: 2 }, false],
		['NULL is never greater', greater('a', 'b'), { a: null, b: 2 }, false],
		['nothing is greater than NULL', greater('a', 'b'), { a: 2, b: null }, false],
		['2 >= 2', atLeast('a', 'b'), { a: 2, b: 2 }, true],
		['1 is not >= 2', atLeast('a', 'b'), { a: 1, b: 2 }, false],
		['NULL is never at least', atLeast('a', 'b'), { a: null, b: 0 }, false],
		['equal text', sameText('a', 'b'), { a: 'run-1', b: 'run-1' }, true],
		['case counts', sameText('a', 'b'), { a: 'Run-1', b: 'run-1' }, false],
		['a trailing space counts', sameText('a', 'b'), { a: 'run-1 ', b: 'run-1' }, false],
		['NULL and NULL are the same', sameText('a', 'b'), { a: null, b: null }, true],
		['NULL and text differ', sameText('a', 'b'), { a: null, b: 'x' }, false],
		['NOT of a comparison with NULL is true (never UNKNOWN)', not(sameText('a', 'b')), { a: null, b: 'x' }, true],
		['any', any(isNull('a'), isTrue('b')), { a: 1, b: 1 }, true],
		['all', all(isNull('a'), isTrue('b')), { a: 1, b: 1 }, false],
	];
	for (const [name, condition, facts, expected] of cases) {
		it(name, () => assert.equal(holds(condition, facts), expected));
	}
});

describe('decision tables: the T-SQL of each condition is never UNKNOWN', () => {
	it('renders each kind with NULL handled explicitly', () => {
		assert.equal(conditionSql(isNull('a'), operands), '(@a IS NULL)');
		assert.equal(conditionSql(isTrue('a'), operands), '(@a IS NOT NULL AND @a = 1)');
		assert.equal(conditionSql(greater('a', 'b'), operands), '(@a IS NOT NULL AND @b IS NOT NULL AND @a > @b)');
		assert.equal(conditionSql(atLeast('a', 'b'), operands), '(@a IS NOT NULL AND @b IS NOT NULL AND @a >= @b)');
		assert.equal(
			conditionSql(sameText('a', 'b'), operands),
			'((@a IS NULL AND @b IS NULL) OR (@a IS NOT NULL AND @b IS NOT NULL AND DATALENGTH(@a) = DATALENGTH(@b) AND @a COLLATE Latin1_General_BIN2 = @b))',
		);
		assert.equal(conditionSql(not(any(isNull('a'), all(isTrue('a'), isTrue('b')))), operands), '(NOT ((@a IS NULL) OR ((@a IS NOT NULL AND @a = 1) AND (@b IS NOT NULL AND @b = 1))))');
	});

	it('renders a table as a CASE in rule order, otherwise last', () => {
		const table: DecisionTable<F, 'x' | 'y' | "it's"> = { rules: [{ outcome: 'x', when: isNull('a') }, { outcome: "it's", when: isTrue('b') }], otherwise: 'y' };
		assert.equal(decisionSql(table, operands), "CASE\n\tWHEN (@a IS NULL) THEN 'x'\n\tWHEN (@b IS NOT NULL AND @b = 1) THEN 'it''s'\n\tELSE 'y' END");
		assert.deepEqual(outcomesOf(table), ['x', "it's", 'y']);
	});
});

describe('decision tables: one outcome as a predicate', () => {
	const table: DecisionTable<F, 'first' | 'second' | 'neither'> = {
		rules: [
			{ outcome: 'first', when: isTrue('a') },
			{ outcome: 'second', when: isTrue('b') },
		],
		otherwise: 'neither',
	};
	const values: Fact[] = [null, 0, 1];
	it('holds exactly when the table decides that outcome, for every combination of facts', () => {
		for (const a of values) {
			for (const b of values) {
				for (const outcome of outcomesOf(table)) {
					assert.equal(holds(decidesCondition(table, outcome), { a, b }), decide(table, { a, b }) === outcome, `${outcome} at a=${a}, b=${b}`);
				}
			}
		}
	});

	it('is that condition in T-SQL', () => {
		for (const outcome of outcomesOf(table)) assert.equal(decidesSql(table, outcome, operands), conditionSql(decidesCondition(table, outcome), operands));
	});
});
