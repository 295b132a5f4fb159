/**
 * Decisions stated once and used twice: evaluated here in JavaScript (by the pure core, and so by the in-memory
 * stores) and rendered as T-SQL for the SQL Server adapters. A change to a rule is a change to both, so a test of
 * an in-memory store's outcomes is a test of the T-SQL's decision as well. No T-SQL is ever read back or evaluated.
 *
 * Every condition renders to T-SQL that is TRUE or FALSE, never UNKNOWN, so NOT, AND and OR mean in T-SQL exactly
 * what they mean here when a value is NULL (`NOT (@a = @b)` is UNKNOWN, not TRUE, when @a is NULL).
 */

/** A value a decision looks at: a JavaScript value here, a T-SQL expression of the same value in the statement. */
export type Fact = string | number | boolean | null;

export type Condition<F extends string> =
	| { is: 'null'; fact: F }
	| { is: 'true'; fact: F }
	| { is: 'greater' | 'atLeast'; fact: F; than: F }
	| { is: 'sameText'; fact: F; as: F }
	| { is: 'not'; condition: Condition<F> }
	| { is: 'any' | 'all'; conditions: Array<Condition<F>> };

export const isNull = <F extends string>(fact: F): Condition<F> => ({ is: 'null', fact });
/** A bit that is 1 (NULL is not true). */
export const isTrue = <F extends string>(fact: F): Condition<F> => ({ is: 'true', fact });
/** Both known and the first the greater (NULL is never greater). */
export const greater = <F extends string>(fact: F, than: F): Condition<F> => ({ is: 'greater', fact, than });
export const atLeast = <F extends string>(fact: F, than: F): Condition<F> => ({ is: 'atLeast', fact, than });
/** Equal text, character for character (case, accents and trailing spaces count), or both NULL. */
export const sameText = <F extends string>(fact: F, as: F): Condition<F> => ({ is: 'sameText', fact, as });
export const not = <F extends string>(condition: Condition<F>): Condition<F> => ({ is: 'not', condition });
export const any = <F extends string>(...conditions: Array<Condition<F>>): Condition<F> => ({ is: 'any', conditions });
export const all = <F extends string>(...conditions: Array<Condition<F>>): Condition<F> => ({ is: 'all', conditions });

/** Rules tried in order: the first whose condition holds gives the outcome; `otherwise` when none does. */
export interface DecisionTable<F extends string, O extends string> {
	rules: Array<{ outcome: O; when: Condition<F> }>;
	otherwise: O;
}

const known = (value: Fact): value is string | number | boolean => value !== null && value !== undefined;

export function holds<F extends string>(condition: Condition<F>, facts: Record<F, Fact>): boolean {
	switch (condition.is) {
		case 'null':
			return !known(facts[condition.fact]);
		case 'true':
			return facts[condition.fact] === true || facts[condition.fact] === 1;
		case 'greater':
		case 'atLeast': {
			const [left, right] = [facts[condition.fact], facts[condition.than]];
			if (!known(left) || !known(right)) return false;
			return condition.is === 'greater' ? Number(left) > Number(right) : Number(left) >= Number(right);
		}
		case 'sameText': {
			const [left, right] = [facts[condition.fact], facts[condition.as]];
			return !known(left) || !known(right) ? !known(left) && !known(right) : String(left) === String(right);
		}
		case 'not':
			return !holds(condition.condition, facts);
		case 'any':
			return condition.conditions.some((part) => holds(part, facts));
		case 'all':
			return condition.conditions.every((part) => holds(part, facts));
	}
}

export function decide<F extends string, O extends string>(table: DecisionTable<F, O>, facts: Record<F, Fact>): O {
	return table.rules.find((rule) => holds(rule.when, facts))?.outcome ?? table.otherwise;
}

/** Every outcome the table can give, in rule order, `otherwise` last: the branches a test table must each reach. */
export function outcomesOf<F extends string, O extends string>(table: DecisionTable<F, O>): O[] {
	return [...new Set([...table.rules.map((rule) => rule.outcome), table.otherwise])];
}

/** The condition as a T-SQL predicate that is never UNKNOWN; `operands` gives each fact's T-SQL expression. */
export function conditionSql<F extends string>(condition: Condition<F>, operands: Record<F, string>): string {
	const bothKnown = (left: string, right: string) => `${left} IS NOT NULL AND ${right} IS NOT NULL`;
	switch (condition.is) {
		case 'null':
			return `(${operands[condition.fact]} IS NULL)`;
		case 'true':
			return `(${operands[condition.fact]} IS NOT NULL AND ${operands[condition.fact]} = 1)`;
		case 'greater':
		case 'atLeast': {
			const [left, right] = [operands[condition.fact], operands[condition.than]];
			return `(${bothKnown(left, right)} AND ${left} ${condition.is === 'greater' ? '>' : '>='} ${right})`;
		}
		case 'sameText': {
			// `=` ignores trailing spaces even in a binary collation; equal byte lengths make it exact.
			const [left, right] = [operands[condition.fact], operands[condition.as]];
			return `((${left} IS NULL AND ${right} IS NULL) OR (${bothKnown(left, right)} AND DATALENGTH(${left}) = DATALENGTH(${right}) AND ${left} COLLATE Latin1_General_BIN2 = ${right}))`;
		}
		case 'not':
			return `(NOT ${conditionSql(condition.condition, operands)})`;
		case 'any':
		case 'all':
			if (condition.conditions.length === 0) return condition.is === 'all' ? '(1 = 1)' : '(1 = 0)';
			return `(${condition.conditions.map((part) => conditionSql(part, operands)).join(condition.is === 'any' ? ' OR ' : ' AND ')})`;
	}
}

const outcomeLiteral = (outcome: string) => `'${outcome.replace(/'/g, "''")}'`;

/** The table as a T-SQL CASE whose value is the outcome's text. */
export function decisionSql<F extends string, O extends string>(table: DecisionTable<F, O>, operands: Record<F, string>): string {
	const branches = table.rules.map((rule) => `\tWHEN ${conditionSql(rule.when, operands)} THEN ${outcomeLiteral(rule.outcome)}`);
	return `CASE\n${branches.join('\n')}\n\tELSE ${outcomeLiteral(table.otherwise)} END`;
}

/** The condition that holds exactly when the table decides `outcome`: its rule holds and no earlier one does. */
export function decidesCondition<F extends string, O extends string>(table: DecisionTable<F, O>, outcome: O): Condition<F> {
	const index = table.rules.findIndex((rule) => rule.outcome === outcome);
	const earlier = index === -1 ? table.rules : table.rules.slice(0, index);
	return all(...earlier.map((rule) => not(rule.when)), ...(index === -1 ? [] : [table.rules[index].when]));
}

/** decidesCondition in T-SQL, for a statement that acts on the rows one outcome applies to. */
export function decidesSql<F extends string, O extends string>(table: DecisionTable<F, O>, outcome: O, operands: Record<F, string>): string {
	return conditionSql(decidesCondition(table, outcome), operands);
}
