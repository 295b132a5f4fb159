import type { IExecuteFunctions } from 'n8n-workflow';

import type { LeaseGuard } from './core/leaseGuard';
import { decodeToken } from './core/watermark';
import { referencedField, soleItemOf } from './itemParameter';

const isToken = (value: unknown): value is string => typeof value === 'string' && value !== '';

/**
 * The token of the Watermark Get this node follows: read from that Get's output (the item this item is paired
 * with, else its first item), the nearest Get upstream first. Set takes it when "Token From Get" is left empty,
 * and the CRM node takes it for the lease guard of its writes, so neither needs the Get node's name.
 * Undefined when no Watermark Get runs before this node.
 */
export function tokenOfUpstreamGet(context: IExecuteFunctions, itemIndex = 0): string | undefined {
	const gets = context
		.getParentNodes(context.getNode().name, { includeNodeParameters: true })
		.filter((node) => node.type.endsWith('.watermark') && node.disabled !== true && (node.parameters?.operation ?? 'get') === 'get');
	for (const get of gets) {
		// A Get that ran once with one item (the shipped sync's, on every batch) is where both ways below lead: taken as it
		// is, without n8n's search back through every node between for the paired item, twice a batch (CRM write and Set).
		const sole = soleItemOf(context, get.name, itemIndex);
		if (sole) {
			if (isToken(sole.json?.token)) return sole.json.token;
			continue;
		}
		for (const item of ['paired', 'first'] as const) {
			// Not paired, or the Get did not run in this execution: no item, so the next way is tried.
			const token = referencedField(context, { node: get.name, item, field: 'token' }, itemIndex);
			if (isToken(token)) return token;
		}
	}
	return undefined;
}

/**
 * The lease guard for a write through `credentialType`: the lease of the Watermark Get this node follows, when that
 * Get keeps the watermark through the same credential (so the write's transaction can check it). Undefined
 * otherwise: no Get upstream, or the watermark in another database (see the README on what then holds).
 */
export function leaseGuardOfUpstreamGet(context: IExecuteFunctions, credentialType: string): LeaseGuard | undefined {
	const text = tokenOfUpstreamGet(context);
	if (text === undefined) return undefined;
	let token;
	try {
		token = decodeToken(text);
	} catch {
		return undefined;
	}
	const place = token.leasePlace;
	const ownCredential = context.getNode().credentials?.[credentialType]?.id;
	if (!place || place.credentialType !== credentialType || !ownCredential || place.credentialId !== ownCredential) return undefined;
	return { table: place.table, stream: token.stream, owner: token.owner };
}
