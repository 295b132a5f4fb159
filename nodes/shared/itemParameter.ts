import type { IExecuteFunctions } from 'n8n-workflow';

import { fieldReferenceOf } from './core/fieldReference';

/**
 * A parameter's value for one item, as n8n resolves it, except that a value that is nothing but `{{ $json.field }}`
 * (how the shipped sync hands the stream, zone and lease owner from node to node) is read from the item itself, as
 * the CRM mapping does (fieldReference.ts): n8n would build a data proxy for it on every batch of a re-send and,
 * the first time in a process, compile it.
 */
export function itemParameter(context: IExecuteFunctions, name: string, itemIndex: number, fallback?: unknown): unknown {
	const field = fieldReferenceOf(context.getNodeParameter(name, itemIndex, fallback, { rawExpressions: true }));
	if (field === undefined) return context.getNodeParameter(name, itemIndex, fallback);
	const json = context.getInputData()[itemIndex]?.json ?? {};
	return Object.prototype.hasOwnProperty.call(json, field) ? json[field] : undefined;
}
