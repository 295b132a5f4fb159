/**
 * Identifiers that come from the editor (tables, columns) are only ever spliced into T-SQL bracket-quoted,
 * and only after the catalogue has confirmed that they exist. Values never are: they travel as parameters.
 */

/** `[name]`, with `]` doubled as T-SQL requires, so no name can end the quoting early. */
export function quoteIdentifier(name: string): string {
	if (name.length === 0 || name.length > 128) {
		throw new Error(`"${name}" is not a valid SQL Server name (1 to 128 characters)`);
	}
	return `[${name.replace(/]/g, ']]')}]`;
}

export interface QualifiedName {
	schema: string;
	name: string;
}

/** Reads `dbo.Customers`, `[dbo].[Customers]` or `Customers` (schema dbo) as the editor may give them. */
export function parseQualifiedName(text: string, defaultSchema = 'dbo'): QualifiedName {
	const parts: string[] = [];
	let rest = text.trim();
	while (rest.length > 0) {
		if (rest.startsWith('[')) {
			let end = 1;
			let part = '';
			for (; end < rest.length; end++) {
				if (rest[end] === ']') {
					if (rest[end + 1] === ']') {
						part += ']';
						end++;
						continue;
					}
					break;
				}
				part += rest[end];
			}
			if (end >= rest.length) throw new Error(`"${text}" has an unclosed [ in its name`);
			parts.push(part);
			rest = rest.slice(end + 1);
		} else {
			const dot = rest.indexOf('.');
			parts.push(dot === -1 ? rest : rest.slice(0, dot));
			rest = dot === -1 ? '' : rest.slice(dot);
		}
		if (rest.startsWith('.')) rest = rest.slice(1);
		else if (rest.length > 0) throw new Error(`"${text}" is not a table name of the form schema.table`);
	}
	if (parts.length === 1) return { schema: defaultSchema, name: parts[0] };
	if (parts.length === 2) return { schema: parts[0], name: parts[1] };
	throw new Error(`"${text}" is not a table name of the form schema.table`);
}

export function quoteQualifiedName(name: QualifiedName): string {
	return `${quoteIdentifier(name.schema)}.${quoteIdentifier(name.name)}`;
}

export function displayQualifiedName(name: QualifiedName): string {
	return `${name.schema}.${name.name}`;
}
