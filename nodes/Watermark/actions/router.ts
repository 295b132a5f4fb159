import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { failEveryItem } from '../../shared/nodeErrors';
import type { WatermarkContext } from '../helpers/context';
import { openWatermarkContext } from '../helpers/context';
import type { WatermarkOperation } from './common.descriptions';
import * as get from './get.operation';
import * as history from './history.operation';
import * as recordRun from './recordRun.operation';
import * as retryList from './retryList.operation';
import * as retryParkedAgain from './retryParkedAgain.operation';
import * as rewind from './rewind.operation';
import * as set from './set.operation';
import * as status from './status.operation';
import * as undoLastRewind from './undoLastRewind.operation';

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const operation = this.getNodeParameter('operation', 0) as WatermarkOperation;
	let context: WatermarkContext | undefined;
	let failure: unknown;
	try {
		context = await openWatermarkContext(this);
	} catch (error) {
		failure = error;
	}
	if (!context) {
		const failed = failEveryItem(this, failure, 'connecting to the watermark database');
		// Get's "Acquired" output only ever carries a lease.
		return operation === 'get' ? [[], failed] : [failed];
	}
	switch (operation) {
		case 'get':
			return await get.execute.call(this, context);
		case 'set':
			return [await set.execute.call(this, context)];
		case 'rewind':
			return [await rewind.execute.call(this, context)];
		case 'history':
			return [await history.execute.call(this, context)];
		case 'undoLastRewind':
			return [await undoLastRewind.execute.call(this, context)];
		case 'retryList':
			return [await retryList.execute.call(this, context)];
		case 'retryParkedAgain':
			return [await retryParkedAgain.execute.call(this, context)];
		case 'status':
			return [await status.execute.call(this, context)];
		case 'recordRun':
			return [await recordRun.execute.call(this, context)];
		default:
			throw new NodeOperationError(this.getNode(), `The operation "${String(operation)}" is not supported`);
	}
}
