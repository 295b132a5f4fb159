import type { INode, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { SqlServerRequestError } from './transport/sqlServerError';

export interface ErrorPlace {
	itemIndex?: number;
	/** What the node was doing, e.g. "reading changes from dbo.Customers"; starts the message. */
	doing?: string;
}

/**
 * Turns what the stores and the transport throw into the n8n error a partner sees: the message says what
 * failed, the description what to check. SQL Server errors keep their error number.
 */
export function toNodeError(node: INode, error: unknown, place: ErrorPlace = {}): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	const prefix = place.doing ? `Failed while ${place.doing}: ` : '';
	if (error instanceof SqlServerRequestError) {
		return new NodeApiError(node, { message: error.message, number: error.number ?? null, code: error.code ?? null } as JsonObject, {
			message: `${prefix}${error.message}`,
			description: error.advice,
			itemIndex: place.itemIndex,
		});
	}
	const message = error instanceof Error ? error.message : String(error);
	// Errors of the catalogue and the core that know what the partner should do carry it as `advice`.
	const advice = (error as { advice?: unknown } | null)?.advice;
	return new NodeOperationError(node, `${prefix}${message}`, {
		description: typeof advice === 'string' ? advice : undefined,
		itemIndex: place.itemIndex,
	});
}
