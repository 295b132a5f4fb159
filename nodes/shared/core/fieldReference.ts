/**
 * A manual mapping whose every value only names a field of the item (`{{ $json.Name }}`, what the editor's drag
 * and drop writes) can be read from the item directly. n8n's expression engine gives exactly the item's value for
 * such an expression (and a literal such as `{{ null }}` for its value), at a cost of tens of microseconds per value (it builds a fresh data proxy and clock per
 * evaluation), which for a million rows and nine columns is minutes of CPU. Any other expression goes through n8n.
 */

const DOT_REFERENCE = /^=\{\{\s*\$json\.([A-Za-z_$][\w$]*)\s*\}\}$/;
const BRACKET_REFERENCE = /^=\{\{\s*\$json\[\s*(?:'([^'\\]*)'|"([^"\\]*)")\s*\]\s*\}\}$/;

/** The item field a mapping value names, when the value is nothing but `{{ $json.field }}` or `{{ $json["field"] }}`. */
export function fieldReferenceOf(value: unknown): string | undefined {
	if (typeof value !== 'string') return undefined;
	const dot = DOT_REFERENCE.exec(value);
	if (dot) return dot[1];
	const bracket = BRACKET_REFERENCE.exec(value);
	return bracket ? (bracket[1] ?? bracket[2]) : undefined;
}

const LITERAL = /^=\{\{\s*(null|true|false|-?\d+(?:\.\d+)?|'([^'\\]*)'|"([^"\\]*)")\s*\}\}$/;

export type Constant = null | boolean | number | string;

/** The value of an expression that is nothing but a literal (`{{ null }}`, `{{ true }}`, `{{ 0 }}`, `{{ 'x' }}`), as n8n gives it. */
export function literalOf(value: unknown): { constant: Constant } | undefined {
	if (typeof value !== 'string') return undefined;
	const match = LITERAL.exec(value);
	if (!match) return undefined;
	const [, literal, singleQuoted, doubleQuoted] = match;
	if (singleQuoted !== undefined || doubleQuoted !== undefined) return { constant: singleQuoted ?? doubleQuoted };
	if (literal === 'null') return { constant: null };
	if (literal === 'true' || literal === 'false') return { constant: literal === 'true' };
	return { constant: Number(literal) };
}

/** Where a column's value comes from when n8n need not evaluate it: a field of the item, or a literal. */
export type DirectSource = { field: string } | { constant: Constant };

/** Column -> source for a mapping in which every value is a plain field reference or a literal; undefined otherwise. */
export function directMapping(rawMapping: Record<string, unknown>): Record<string, DirectSource> | undefined {
	const sources: Record<string, DirectSource> = {};
	for (const [column, value] of Object.entries(rawMapping)) {
		const field = fieldReferenceOf(value);
		const source = field !== undefined ? { field } : literalOf(value);
		if (source === undefined) return undefined;
		sources[column] = source;
	}
	return sources;
}

/** The mapped values of an item under a direct mapping: what n8n would resolve, read directly. */
export function valuesDirectly(mapping: Record<string, DirectSource>, item: Record<string, unknown>): Record<string, unknown> {
	const values: Record<string, unknown> = {};
	for (const [column, source] of Object.entries(mapping)) {
		if ('constant' in source) values[column] = source.constant;
		else values[column] = Object.prototype.hasOwnProperty.call(item, source.field) ? item[source.field] : undefined;
	}
	return values;
}
