import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import type { QualifiedName } from '../../shared/core/identifiers';
import { parseQualifiedName } from '../../shared/core/identifiers';
import { itemParameter } from '../../shared/itemParameter';
import { errorItem, toNodeError } from '../../shared/nodeErrors';
import { connect } from '../../shared/transport/connect';
import type { AuditInfo, WatermarkStore, WatermarkTables } from '../stores/watermarkStore';
import { DEFAULT_WATERMARK_TABLES, watermarkStoreSeam } from '../stores/watermarkStore';
import { watermarkCredentialOf } from './database';

/** What every operation works with: the store and who is making the change. */
export interface WatermarkContext {
	store: WatermarkStore;
	audit: AuditInfo;
	tables: WatermarkTables;
}

/**
 * The tables named under "Watermark Tables". The history table defaults to the watermark table's name with
 * "History" appended, in the same schema, so renaming one renames both.
 */
function tablesOf(options: { watermarkTable?: string; historyTable?: string; retryTable?: string }): WatermarkTables {
	const state: QualifiedName = options.watermarkTable?.trim() ? parseQualifiedName(options.watermarkTable) : DEFAULT_WATERMARK_TABLES.state;
	const history: QualifiedName = options.historyTable?.trim()
		? parseQualifiedName(options.historyTable)
		: { schema: state.schema, name: `${state.name}History` };
	return options.retryTable?.trim() ? { state, history, retry: parseQualifiedName(options.retryTable) } : { state, history };
}

export async function openWatermarkContext(context: IExecuteFunctions): Promise<WatermarkContext> {
	const tables = tablesOf(context.getNodeParameter('tables', 0, {}) as { watermarkTable?: string; historyTable?: string; retryTable?: string });
	const { transport, schema } = await connect(context, watermarkCredentialOf(context));
	return {
		store: watermarkStoreSeam.current(transport, tables, schema),
		audit: { workflowId: context.getWorkflow().id ?? null, executionId: context.getExecutionId() ?? null },
		tables,
	};
}

/**
 * Runs `work` for each input item. A failure stops the node with a clear error, or, with "Continue On Fail",
 * becomes an item carrying the error (n8n routes it to the error output when that is switched on).
 */
export async function forEachItem(
	context: IExecuteFunctions,
	doing: (itemIndex: number) => string,
	work: (itemIndex: number) => Promise<void>,
	onFailure: (item: INodeExecutionData) => void,
): Promise<void> {
	const items = context.getInputData();
	for (let itemIndex = 0; itemIndex < items.length; itemIndex++) {
		let failure: unknown;
		try {
			await work(itemIndex);
			continue;
		} catch (error) {
			failure = error;
		}
		const nodeError = toNodeError(context.getNode(), failure, { itemIndex, doing: doing(itemIndex) });
		if (!context.continueOnFail()) throw nodeError;
		onFailure(errorItem(context, nodeError, { item: itemIndex }));
	}
}

/** Stream names are kept in nvarchar(200) columns. */
const MAX_STREAM_NAME_LENGTH = 200;

export function streamParameter(context: IExecuteFunctions, itemIndex: number): string {
	const stream = String(itemParameter(context, 'stream', itemIndex) ?? '').trim();
	if (stream === '') throw new UnknownStreamError('', []);
	if (stream.length > MAX_STREAM_NAME_LENGTH) {
		throw new NodeOperationError(context.getNode(), `The stream name is ${stream.length} characters long; at most ${MAX_STREAM_NAME_LENGTH} fit`, {
			itemIndex,
			description: 'Use the stream name the Contracting node uses, e.g. customers or orders.',
		});
	}
	return stream;
}

export class UnknownStreamError extends Error {
	readonly advice: string;

	constructor(stream: string, known: string[]) {
		super(stream === '' ? 'No stream name was given' : `Stream "${stream}" has no watermark`);
		this.name = 'UnknownStreamError';
		const where = 'Check that "Database" and "Watermark Tables" are set as on the Get node.';
		this.advice =
			known.length > 0
				? `The streams with a watermark here are: ${known.join(', ')}. Check the spelling. ${where} Nothing was changed.`
				: `No stream has a watermark in these tables yet; the Get operation creates it on the first run. ${where} Nothing was changed.`;
	}
}

/** The stream's state, or a clear error naming the streams there are. */
export async function existingStream(store: WatermarkStore, stream: string) {
	const state = await store.read(stream);
	if (!state) throw new UnknownStreamError(stream, await store.streamNames());
	return state;
}

export function isLeaseLive(state: { leaseOwner: string | null; leaseExpiresAt: string | null }, now: Date): boolean {
	return state.leaseOwner !== null && state.leaseExpiresAt !== null && Date.parse(state.leaseExpiresAt) > now.getTime();
}
