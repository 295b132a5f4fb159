/**
 * The one definition of the order a change read walks rows in, and of "strictly after a row" under it. A read's
 * order is a list of ordering terms; from that list come the batch statement's ORDER BY, its keyset predicate
 * (rendered as T-SQL), and the in-memory twin's sort and filter (the same predicate, evaluated the way SQL Server
 * evaluates it: NULL sorts first, a comparison with NULL is unknown, text compares under its collation). So the
 * twin cannot be kinder than SQL Server, and a property test can check the predicate against the order.
 * No I/O here.
 */

/**
 * How SQL Server compares a term's values. `caseInsensitiveText`: the case-insensitive, accent-sensitive
 * collations Contracting and CRM databases use (Danish_Norwegian_CI_AS, Latin1_General_CI_AS,
 * SQL_Latin1_General_CP1_CI_AS): 'abc' = 'ABC', and 'abc' = 'abc  ' (trailing spaces are ignored by = and <).
 */
export type CollationRule = 'exact' | 'caseInsensitiveText';

/** A term's value as the twin computes it: numbers, or text that orders as SQL Server orders the term. */
export type TermValue = string | number | bigint;

export type RowValues = Record<string, unknown>;

export interface OrderingTerm {
	/** The row's value, as T-SQL. */
	sql: string;
	/** The value a cursor's text stands for, as T-SQL reading it from a varchar/nvarchar parameter. */
	fromText(parameter: string): string;
	/** Whether the term can be NULL; NULL sorts first, as SQL Server's ORDER BY puts it. */
	nullable: boolean;
	collation: CollationRule;
	/** A plain column equal to the term wherever the term is not NULL: `seek >= value` lets SQL Server seek an index. */
	seek?: string;
	/** The twin: the row's value of the term as SQL Server computes it, from a row held as SQL Server outputs it. */
	valueOf(row: RowValues): TermValue | null;
	/** The twin: the value a cursor's text stands for. */
	valueOfText(text: string): TermValue;
}

/** Where a read is: per term, the cursor's text for it (null: the term is NULL there) and the parameter carrying it. */
export interface Position {
	texts: Array<string | null>;
	parameters: string[];
}

export type Condition =
	| { kind: 'and' | 'or'; of: Condition[] }
	| { kind: 'isNull' | 'isNotNull'; term: OrderingTerm }
	| { kind: 'compare'; operator: '>' | '<' | '='; term: OrderingTerm; text: string; parameter: string };

const or = (of: Condition[]): Condition => (of.length === 1 ? of[0] : { kind: 'or', of });
const and = (of: Condition[]): Condition => (of.length === 1 ? of[0] : { kind: 'and', of });

/** The term equal to the position's value there: `IS NULL` for a NULL position, `=` otherwise. */
function equalAt(term: OrderingTerm, position: Position, index: number): Condition {
	const text = position.texts[index];
	return text === null ? { kind: 'isNull', term } : { kind: 'compare', operator: '=', term, text, parameter: position.parameters[index] };
}

/** The term beyond the position's value in `direction`: after NULL is every non-NULL value, before NULL nothing. */
function beyondAt(term: OrderingTerm, position: Position, index: number, direction: '>' | '<'): Condition | undefined {
	const text = position.texts[index];
	if (text === null) return direction === '>' ? { kind: 'isNotNull', term } : undefined;
	return { kind: 'compare', operator: direction, term, text, parameter: position.parameters[index] };
}

/**
 * Rows whose terms come strictly after (`>`) or before (`<`) the position in the order, with `orEqual` also the
 * rows equal to it on every term. T-SQL has no row-value comparison, so it is expanded position by position.
 */
export function beyond(terms: OrderingTerm[], position: Position, direction: '>' | '<', orEqual = false): Condition {
	const branches: Condition[] = [];
	terms.forEach((term, index) => {
		const step = beyondAt(term, position, index, direction);
		if (step) branches.push(and([...terms.slice(0, index).map((before, at) => equalAt(before, position, at)), step]));
	});
	if (orEqual) branches.push(and(terms.map((term, index) => equalAt(term, position, index))));
	return branches.length === 0 ? { kind: 'or', of: [] } : or(branches);
}

/** The condition as T-SQL. An empty OR (nothing can follow) is `1 = 0`. */
export function conditionSql(condition: Condition): string {
	switch (condition.kind) {
		case 'isNull':
			return `${condition.term.sql} IS NULL`;
		case 'isNotNull':
			return `${condition.term.sql} IS NOT NULL`;
		case 'compare':
			return `${condition.term.sql} ${condition.operator} ${condition.term.fromText(condition.parameter)}`;
		case 'and':
		case 'or':
			if (condition.of.length === 0) return condition.kind === 'or' ? '1 = 0' : '1 = 1';
			if (condition.kind === 'and') return condition.of.map(conditionSql).join(' AND ');
			// Each branch of an OR in brackets, the whole OR too, so it reads the same inside any AND.
			return `(${condition.of.map((part) => (part.kind === 'or' ? conditionSql(part) : `(${conditionSql(part)})`)).join(' OR ')})`;
	}
}

/** The ORDER BY list of the terms. */
export const orderBySql = (terms: OrderingTerm[]): string => terms.map((term) => term.sql).join(', ');

const caseInsensitive = new Intl.Collator('en', { sensitivity: 'accent' });
const withoutTrailingSpaces = (text: string) => text.replace(/ +$/, '');

/** Two non-NULL values of one term, as SQL Server compares them under the term's collation. */
export function compareTermValues(a: TermValue, b: TermValue, collation: CollationRule): number {
	if (typeof a === 'string' && typeof b === 'string') {
		if (collation === 'caseInsensitiveText') return caseInsensitive.compare(withoutTrailingSpaces(a), withoutTrailingSpaces(b));
		return a < b ? -1 : a > b ? 1 : 0;
	}
	if (typeof a === 'string' || typeof b === 'string') throw new Error(`The twin cannot compare ${typeof a} with ${typeof b}`);
	return a < b ? -1 : a > b ? 1 : 0;
}

/** Two values of one term in ORDER BY order: NULL first. */
function compareNullable(a: TermValue | null, b: TermValue | null, term: OrderingTerm): number {
	if (a === null) return b === null ? 0 : -1;
	if (b === null) return 1;
	return compareTermValues(a, b, term.collation);
}

/** The twin's sort: two rows in the order of the terms. */
export function compareRows(terms: OrderingTerm[], a: RowValues, b: RowValues): number {
	for (const term of terms) {
		const order = compareNullable(term.valueOf(a), term.valueOf(b), term);
		if (order !== 0) return order;
	}
	return 0;
}

/** The condition evaluated for a row as SQL Server does: true, false, or unknown (null) when it meets a NULL. */
export function evaluate(condition: Condition, row: RowValues): boolean | null {
	switch (condition.kind) {
		case 'isNull':
			return condition.term.valueOf(row) === null;
		case 'isNotNull':
			return condition.term.valueOf(row) !== null;
		case 'compare': {
			const value = condition.term.valueOf(row);
			if (value === null) return null;
			const order = compareTermValues(value, condition.term.valueOfText(condition.text), condition.term.collation);
			return condition.operator === '>' ? order > 0 : condition.operator === '<' ? order < 0 : order === 0;
		}
		case 'and': {
			const results = condition.of.map((part) => evaluate(part, row));
			return results.includes(false) ? false : results.includes(null) ? null : true;
		}
		case 'or': {
			const results = condition.of.map((part) => evaluate(part, row));
			return results.includes(true) ? true : results.includes(null) ? null : false;
		}
	}
}
