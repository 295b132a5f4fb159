import type { IDisplayOptions, INodeListSearchResult, INodeProperties, INodePropertyOptions } from 'n8n-workflow';

/**
 * Version 1 of the nodes loaded these choices as plain lists, which show only "Error fetching options" when the
 * database cannot be reached; from 1.1 they are resource locators, whose saved value always shows. A workflow keeps
 * the version it was saved with, and with it the parameters it was saved under (n8n's way of changing a
 * parameter's type: the editor never reads an old value under a new type).
 */
export const PICKER_VERSION = 1.1;
export const ONLY_VERSION_1 = { '@version': [1] };
export const FROM_PICKER_VERSION = { '@version': [{ _cnd: { gte: PICKER_VERSION } }] };

/** The same parameter in both versions: the plain list for version 1, the picker from 1.1. */
export function byVersion(version1: INodeProperties, picker: INodeProperties): INodeProperties[] {
	const restricted = (property: INodeProperties, version: IDisplayOptions['show']): INodeProperties => ({
		...property,
		displayOptions: { ...property.displayOptions, show: { ...property.displayOptions?.show, ...version } },
	});
	return [restricted(version1, ONLY_VERSION_1), restricted(picker, FROM_PICKER_VERSION)];
}

export interface PickerSpec {
	name: string;
	displayName: string;
	searchListMethod: string;
	description: string;
	placeholder: string;
	/** Preset by name, so a new node shows a sensible choice without asking the database; otherwise picked from the list. */
	defaultName?: string;
	/** The parameters whose change makes the list load again, e.g. the table's. */
	dependsOn?: string[];
}

/** A table or column picked from the database's list, or typed by name when the list cannot load. */
export function namePicker({ name, displayName, searchListMethod, description, placeholder, defaultName, dependsOn }: PickerSpec): INodeProperties {
	return {
		displayName,
		name,
		type: 'resourceLocator',
		default: { mode: defaultName === undefined ? 'list' : 'name', value: defaultName ?? '' },
		description,
		modes: [
			{ displayName: 'From List', name: 'list', type: 'list', typeOptions: { searchListMethod, searchable: true } },
			{ displayName: 'By Name', name: 'name', type: 'string', placeholder },
		],
		...(dependsOn && { typeOptions: { loadOptionsDependsOn: dependsOn } }),
	};
}

/** Several columns, one picker per row: a list of choices that still shows its saved names offline. */
export function columnRows(name: string, displayName: string, description: string, column: PickerSpec): INodeProperties {
	return {
		displayName,
		name,
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		placeholder: `Add ${column.displayName.toLowerCase()}`,
		default: {},
		description,
		options: [{ displayName: column.displayName, name: 'column', values: [namePicker({ ...column, name: 'column' })] }],
	};
}

/** The name a picker holds: a plain name (saved by version 1, or an expression's result), or a resource locator's value. */
export function pickedName(value: unknown): string {
	const name = typeof value === 'object' && value !== null && 'value' in value ? (value as { value: unknown }).value : value;
	return String(name ?? '');
}

/** The names in column rows (from 1.1) or in version 1's list of names. */
export function pickedNames(value: unknown): string[] {
	const names = Array.isArray(value) ? value : (((value as { column?: Array<{ column?: unknown }> } | null)?.column ?? []).map((row) => row.column));
	return names.map(pickedName);
}

/** A list search over choices loaded in full, filtered by the text typed in the list. */
export function searchedChoices(choices: INodePropertyOptions[], filter?: string): INodeListSearchResult {
	const wanted = filter?.trim().toLowerCase() ?? '';
	return {
		results: choices
			.filter((choice) => choice.name.toLowerCase().includes(wanted))
			.map(({ name, value, description }) => ({ name, value: String(value), description })),
	};
}
