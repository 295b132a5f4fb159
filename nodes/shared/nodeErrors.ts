import type { IDataObject, IExecuteFunctions, INode, INodeExecutionData, IPairedItemData, JsonObject } from 'n8n-workflow';
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
		// "Cannot connect to SQL Server …" is the headline whatever the node was doing; what it was doing goes below.
		const connectionFails = error.connectionFailure !== undefined;
		return new NodeApiError(node, { message: error.message, number: error.number ?? null, code: error.code ?? null } as JsonObject, {
			message: connectionFails ? error.message : `${prefix}${error.message}`,
			description: connectionFails && place.doing ? `${error.advice} (This happened while ${place.doing}.)` : error.advice,
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

/** How a partner knows each credential type of this package: the short name, and the type to create. */
export const CREDENTIAL_IN_WORDS: Record<string, { name: string; typeName: string; database: string }> = {
	contractingSqlServerApi: { name: 'Visma Contracting', typeName: 'Visma Contracting SQL Server API', database: 'Contracting' },
	crmSqlServerApi: { name: 'Visma CRM', typeName: 'Visma CRM SQL Server API', database: 'Visma CRM' },
};

/**
 * n8n's own words when a node's credential reference leads nowhere: no credential picked, or one whose id does
 * not exist in this n8n (what an imported workflow brings). Other credential failures (decryption) pass on.
 */
export function isCredentialMissing(error: unknown): boolean {
	const message = error instanceof Error ? error.message : String(error);
	return /does not exist for type|does not have any credentials set|found credential with no id|credentials not found/i.test(message);
}

/**
 * The error for a node whose credential does not exist: which credential to create, and where to pick it. n8n
 * gives a credential to every node that refers to a missing one by the same name (when a workflow is opened,
 * saved or imported), and picking one in a node replaces the missing one in the whole workflow.
 */
export function credentialMissingError(node: INode, credentialType: string): NodeOperationError {
	const words = CREDENTIAL_IN_WORDS[credentialType] ?? { name: credentialType, typeName: credentialType, database: 'the database' };
	const referredName = node.credentials?.[credentialType]?.name;
	const nameIt = referredName ? `, named "${referredName}" so that every node referring to it takes it` : '';
	return new NodeOperationError(node, `Create the ${words.name} credential under Credentials, or pick one in "${node.name}"`, {
		description:
			`"${node.name}" refers to a ${words.name} credential this n8n does not have (an imported workflow brings only a reference). ` +
			`Create it once: Overview → Credentials → Create credential → "${words.typeName}"${nameIt}, with the server, database, user and password of ${words.database}; Save tests the connection. ` +
			'Then open the workflow and publish it again. Or pick an existing credential in this node: n8n puts it in every node of the workflow that referred to the missing one.',
	});
}

export type NodeError = NodeApiError | NodeOperationError;

/** What an error item shows: the message, and what to do about it. */
export function errorJson(error: { message: string; description?: string | null }): IDataObject {
	return { error: error.message, ...(error.description ? { errorDescription: error.description } : {}) };
}

/**
 * The item a failure becomes under "On Error: Continue". Under "Continue (using error output)" it carries the error
 * itself: n8n moves an item to the error output only then (or when its json holds nothing but "error").
 */
export function errorItem(
	context: IExecuteFunctions,
	error: NodeError,
	pairedItem: IPairedItemData | IPairedItemData[],
	json: IDataObject = errorJson(error),
): INodeExecutionData {
	const item: INodeExecutionData = { json, pairedItem };
	if (context.getNode().onError === 'continueErrorOutput') item.error = error;
	return item;
}

/**
 * A failure before any item was handled (the credential, the connection): it stops the node, or under "On Error:
 * Continue" fails every input item. Thrown on under Continue, n8n would pass the input items on as if nothing failed.
 */
export function failEveryItem(context: IExecuteFunctions, failure: unknown, doing: string): INodeExecutionData[] {
	const error = toNodeError(context.getNode(), failure, { doing });
	if (!context.continueOnFail()) throw error;
	return context.getInputData().map((_, item) => errorItem(context, error, { item }));
}
