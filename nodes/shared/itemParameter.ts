import type { IDataObject, IExecuteFunctions, INodeProperties, INodePropertyOptions, IWorkflowDataProxyData } from 'n8n-workflow';
import { NodeOperationError, validateFieldType } from 'n8n-workflow';

import type { NodeFieldReference } from './core/fieldReference';
import { fieldReferenceOf, nodeFieldReferenceOf } from './core/fieldReference';

/** One data proxy per execution of a node and item: n8n builds a fresh one for every expression it resolves. */
const proxies = new WeakMap<IExecuteFunctions, Map<number, IWorkflowDataProxyData>>();

function proxyOf(context: IExecuteFunctions, itemIndex: number): IWorkflowDataProxyData {
	let byItem = proxies.get(context);
	if (!byItem) {
		byItem = new Map();
		proxies.set(context, byItem);
	}
	let proxy = byItem.get(itemIndex);
	if (!proxy) {
		proxy = context.getWorkflowDataProxy(itemIndex);
		byItem.set(itemIndex, proxy);
	}
	return proxy;
}

/** The referenced node's item as n8n's `$()` gives it; undefined when it has none (n8n then says why). */
function referencedItem(context: IExecuteFunctions, itemIndex: number, reference: NodeFieldReference): { json?: IDataObject } | undefined {
	try {
		const node = proxyOf(context, itemIndex).$(reference.node) as { item: unknown; first: () => unknown };
		return (reference.item === 'paired' ? node.item : node.first()) as { json?: IDataObject } | undefined;
	} catch {
		return undefined;
	}
}

/**
 * The item of a node that ran once in this execution and output one item, found without n8n's search for the paired
 * item; undefined otherwise. It is the only item `$('Node').item` can lead to, and the one `.first()` gives.
 */
export function soleItemOf(context: IExecuteFunctions, nodeName: string, itemIndex: number): { json?: IDataObject } | undefined {
	try {
		const proxy = proxyOf(context, itemIndex);
		if ((proxy.$node as Record<string, { runIndex?: number } | undefined>)[nodeName]?.runIndex !== 0) return undefined;
		const items = (proxy.$(nodeName) as { all: () => unknown[] }).all();
		return items.length === 1 ? (items[0] as { json?: IDataObject }) : undefined;
	} catch {
		return undefined;
	}
}

/**
 * A parameter's value for one item, as n8n resolves it, except that a value that is nothing but a field reference is
 * read without n8n's expression engine, which would compile it (the first time in a process) and build a data proxy
 * for it on every batch of a re-send: `{{ $json.field }}` (how the shipped sync hands the stream, zone and lease owner
 * from node to node) from the item itself, as the CRM mapping does (fieldReference.ts), and `{{ $('Node').first()
 * .json.field }}` or `.item` (how it hands the Settings to each batch) through n8n's own `$()`, one proxy per item.
 * Anything else, and a reference that does not resolve, is n8n's to resolve (and to explain).
 */
export function itemParameter(context: IExecuteFunctions, name: string, itemIndex: number, fallback?: unknown): unknown {
	return resolvedParameter(context, name, itemIndex, context.getNodeParameter(name, itemIndex, fallback, { rawExpressions: true }), fallback);
}

/** itemParameter for a parameter whose value as saved (`raw`) is already read. */
function resolvedParameter(context: IExecuteFunctions, name: string, itemIndex: number, raw: unknown, fallback?: unknown): unknown {
	const field = fieldReferenceOf(raw);
	if (field !== undefined) {
		const json = context.getInputData()[itemIndex]?.json ?? {};
		return Object.prototype.hasOwnProperty.call(json, field) ? json[field] : undefined;
	}
	const reference = nodeFieldReferenceOf(raw);
	const json = reference && referencedItem(context, itemIndex, reference)?.json;
	return reference && json ? json[reference.field] : context.getNodeParameter(name, itemIndex, fallback);
}

/** A field of another node's item (see NodeFieldReference), as n8n's `$()` gives it; undefined when that node has no such item. */
export function referencedField(context: IExecuteFunctions, reference: NodeFieldReference, itemIndex: number): unknown {
	return referencedItem(context, itemIndex, reference)?.json?.[reference.field];
}

/** Option types the editor saves as such, and an expression can give as text ("false", "500"). */
const CONVERTED_OPTION_TYPES = new Set(['boolean', 'number']);

/** Stops the node for a field's value it cannot take, naming the field (`label`) and saying what it takes. */
function refuseValue(context: IExecuteFunctions, label: string, value: unknown, takes: string, itemIndex: number): never {
	throw new NodeOperationError(context.getNode(), `${label} cannot be ${JSON.stringify(value)}`, {
		itemIndex,
		description: `It takes ${takes}. Change the value, or the expression that gives it.`,
	});
}

/** Stops the node, listing an options field's choices, unless `value` is one of them. */
function checkChoice(context: IExecuteFunctions, label: string, property: INodeProperties, value: unknown, itemIndex: number): void {
	const choices = (property.options ?? []) as INodePropertyOptions[];
	if (choices.some((choice) => choice.value === value)) return;
	refuseValue(context, label, value, `one of: ${choices.map((choice) => `"${String(choice.value)}" (${choice.name})`).join(', ')}`, itemIndex);
}

/**
 * An option's value in its declared type, converted as n8n converts a field it validates (validateFieldType): the text
 * "false" is false, "500" is 500; an option that declares `validateType: 'options'` must be one of its choices.
 * n8n converts a collection's options only where they declare validateType, and never for one read by name
 * (`options.dryRun`), so without this an expression giving "false" would switch an option on.
 */
function typedOption(context: IExecuteFunctions, collection: INodeProperties, option: INodeProperties | undefined, value: unknown, itemIndex: number): unknown {
	if (!option || value === undefined || value === null) return value;
	const label = `'${option.displayName}' in ${collection.displayName}`;
	if (option.validateType === 'options') {
		checkChoice(context, label, option, value, itemIndex);
		return value;
	}
	if (!CONVERTED_OPTION_TYPES.has(option.type)) return value;
	const type = option.type as 'boolean' | 'number';
	if (typeof value === type) return value;
	const result = validateFieldType(option.displayName, value, type);
	return result.valid ? result.newValue : refuseValue(context, label, value, type === 'boolean' ? 'true or false' : 'a number', itemIndex);
}

/** A collection's entries for one item, each as itemParameter reads it and in its option's type (see typedOption). */
export function itemCollection(context: IExecuteFunctions, collection: INodeProperties, itemIndex: number): IDataObject {
	const raw = (context.getNodeParameter(collection.name, itemIndex, {}, { rawExpressions: true }) ?? {}) as IDataObject;
	const options = (collection.options ?? []) as INodeProperties[];
	const entries: IDataObject = {};
	for (const [key, value] of Object.entries(raw)) {
		const resolved = resolvedParameter(context, `${collection.name}.${key}`, itemIndex, value);
		entries[key] = typedOption(context, collection, options.find((option) => option.name === key), resolved, itemIndex) as IDataObject[string];
	}
	return entries;
}

/**
 * An options field's value, which must be one of its choices: n8n checks none when a node runs, and an expression can
 * give any text ("All", "Beginning"). Anything else stops the node with the field named and its choices listed.
 */
export function chosenOption<T extends string>(context: IExecuteFunctions, property: INodeProperties, itemIndex: number, fallback?: T): T {
	return checkedChoice<T>(context, `'${property.displayName}'`, property, context.getNodeParameter(property.name, itemIndex, fallback), itemIndex);
}

/** The same for a value read within a fixed collection's entry, `label` naming where it is. */
export function checkedChoice<T extends string>(context: IExecuteFunctions, label: string, property: INodeProperties, value: unknown, itemIndex: number): T {
	checkChoice(context, label, property, value, itemIndex);
	return value as T;
}
