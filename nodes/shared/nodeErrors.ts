import type { INode, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { UnknownColumnError, UnknownTableError } from './catalog';
import { CursorFormatError } from './core/cursor';
import { UnwritableColumnError } from './core/mapping';
import { UpsertConfigurationError } from './core/upsertPlan';
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
	if (error instanceof UnknownTableError) {
		return new NodeOperationError(node, `${prefix}${error.message}`, {
			description: 'Pick the table again from the list, or check that the credential points at the right database.',
			itemIndex: place.itemIndex,
		});
	}
	if (error instanceof UnknownColumnError) {
		return new NodeOperationError(node, `${prefix}${error.message}`, {
			description: 'The table has changed since the node was set up: refresh the column list in the node and map or pick the column again.',
			itemIndex: place.itemIndex,
		});
	}
	if (error instanceof UpsertConfigurationError || error instanceof UnwritableColumnError) {
		return new NodeOperationError(node, `${prefix}${error.message}`, {
			description: 'Nothing was written. Change the node\'s settings (columns to match on, mapping, lookups, columns to set on deleted rows) and run again.',
			itemIndex: place.itemIndex,
		});
	}
	if (error instanceof CursorFormatError) {
		return new NodeOperationError(node, `${prefix}${error.message}`, {
			description: 'The stored watermark was not written by this package or was edited by hand. Use the Watermark node\'s Rewind (to a date) to set a valid one.',
			itemIndex: place.itemIndex,
		});
	}
	const message = error instanceof Error ? error.message : String(error);
	// Errors of the core that know what the partner should do carry it as `advice`.
	const advice = (error as { advice?: unknown } | null)?.advice;
	return new NodeOperationError(node, `${prefix}${message}`, {
		description: typeof advice === 'string' ? advice : undefined,
		itemIndex: place.itemIndex,
	});
}
