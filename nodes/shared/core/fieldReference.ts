/**
 * A manual mapping value that only names a field of the item (`{{ $json.Name }}`, what the editor's drag and drop
 * writes) can be read from the item directly. n8n's expression engine gives exactly the item's value for such an
 * expression (and a literal such as `{{ null }}` for its value), at a cost of tens of microseconds per value (it
 * builds a fresh data proxy and clock per evaluation), which for a million rows and nine columns is minutes of CPU.
 * Any other expression goes through n8n, column by column: one computed column does not slow down the others.
 * The nodes read their own parameters the same way where a value only names a field (nodes/shared/itemParameter.ts).
 */
import { fieldForColumn } from './mapping';

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

const NODE_FIELD_REFERENCE = /^=\{\{\s*\$\(\s*(?:'([^'\\]*)'|"([^"\\]*)")\s*\)\.(first\(\)|item)\.json\.([A-Za-z_$][\w$]*)\s*\}\}$/;

/** Another node's item that a parameter names: `{{ $('Node').first().json.field }}` or `{{ $('Node').item.json.field }}`. */
export interface NodeFieldReference {
	node: string;
	/** first(): the node's first item; item: the one this item is paired with. */
	item: 'first' | 'paired';
	field: string;
}

/** The other node's field a parameter value names, when the value is nothing but such a reference. */
export function nodeFieldReferenceOf(value: unknown): NodeFieldReference | undefined {
	if (typeof value !== 'string') return undefined;
	const match = NODE_FIELD_REFERENCE.exec(value);
	if (!match) return undefined;
	return { node: match[1] ?? match[2], item: match[3] === 'item' ? 'paired' : 'first', field: match[4] };
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

/**
 * Where a column's value comes from: a field of the item or a literal, read without n8n, or (anything that
 * computes) n8n's expression engine, asked for that column alone. A value that is no expression at all (text
 * without the leading "=", a number, a boolean) is what n8n gives back unchanged.
 */
export type MappingSource = { field: string } | { constant: Constant } | { computed: true };

export interface MappedColumn {
	column: string;
	source: MappingSource;
}

function sourceOf(value: unknown): MappingSource {
	const field = fieldReferenceOf(value);
	if (field !== undefined) return { field };
	const literal = literalOf(value);
	if (literal !== undefined) return literal;
	const isExpression = typeof value === 'string' && value.startsWith('=');
	if (!isExpression && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null)) return { constant: value };
	return { computed: true };
}

/** Each column of the raw mapping (as saved, expressions unresolved) with where its value comes from. */
export function mappingSources(rawMapping: Record<string, unknown>): MappedColumn[] {
	return Object.entries(rawMapping).map(([column, value]) => ({ column, source: sourceOf(value) }));
}

/** One mapping entry's value for an item: the item's own field (what `$json.field` gives), the constant, or n8n's. */
function mappedValueOf({ column, source }: MappedColumn, item: Record<string, unknown>, computed: (column: string) => unknown): unknown {
	if ('field' in source) return Object.prototype.hasOwnProperty.call(item, source.field) ? item[source.field] : undefined;
	if ('constant' in source) return source.constant;
	return computed(column);
}

/**
 * The mapped values of an item: what n8n would resolve for the whole mapping, plain references and literals read
 * directly, and only the computed columns handed to `computed`.
 */
export function mappedValuesOf(mapping: MappedColumn[], item: Record<string, unknown>, computed: (column: string) => unknown): Record<string, unknown> {
	const values: Record<string, unknown> = {};
	for (const entry of mapping) values[entry.column] = mappedValueOf(entry, item, computed);
	return values;
}

/**
 * The mapping entry each column takes its value from: the one the column finds among the mapped values by name
 * (exactly, else ignoring case, as fieldForColumn finds it), or undefined for a column the mapping does not name.
 * The mapped values have the mapping's names for every item, so this is decided once per plan, not per row.
 */
export function mappingEntriesFor(mapping: MappedColumn[], columnNames: string[]): Array<MappedColumn | undefined> {
	// Keyed like the mapped values, assigned in the same order, so fieldForColumn finds what it finds there.
	const positions: Record<string, number> = {};
	for (let position = 0; position < mapping.length; position++) positions[mapping[position].column] = position;
	return columnNames.map((name) => {
		const position = fieldForColumn(positions, name) as number | undefined;
		return position === undefined ? undefined : mapping[position];
	});
}

/**
 * An item's values for the columns whose entries mappingEntriesFor resolved, in their order: what fieldForColumn
 * would find in the item's mapped values, without building them (an object keyed per column, per row). A computed
 * entry is asked of n8n by the mapping's name for it.
 */
export function columnValuesOf(entries: Array<MappedColumn | undefined>, item: Record<string, unknown>, computed: (column: string) => unknown): unknown[] {
	const values = new Array<unknown>(entries.length);
	for (let index = 0; index < entries.length; index++) {
		const entry = entries[index];
		values[index] = entry === undefined ? undefined : mappedValueOf(entry, item, computed);
	}
	return values;
}
