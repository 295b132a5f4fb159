/**
 * A manual mapping whose every value only names a field of the item (`{{ $json.Name }}`, what the editor's drag
 * and drop writes) can be read from the item directly. n8n's expression engine gives exactly the item's value for
 * such an expression, at a cost of tens of microseconds per value (it builds a fresh data proxy and clock per
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

/** Column -> item field for a mapping in which every value is a plain field reference; undefined otherwise. */
export function plainFieldReferences(rawMapping: Record<string, unknown>): Record<string, string> | undefined {
	const references: Record<string, string> = {};
	for (const [column, value] of Object.entries(rawMapping)) {
		const field = fieldReferenceOf(value);
		if (field === undefined) return undefined;
		references[column] = field;
	}
	return references;
}

/** The mapped values of an item under plain field references: what n8n would resolve, read directly. */
export function valuesByReference(references: Record<string, string>, item: Record<string, unknown>): Record<string, unknown> {
	const values: Record<string, unknown> = {};
	for (const [column, field] of Object.entries(references)) values[column] = Object.prototype.hasOwnProperty.call(item, field) ? item[field] : undefined;
	return values;
}
