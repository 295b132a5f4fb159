import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { failEveryItem } from '../../shared/nodeErrors';
import { openTarget } from '../helpers/openTarget';
import * as upsert from './upsert.operation';

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const operation = this.getNodeParameter('operation', 0) as string;
	let target;
	try {
		target = await openTarget(this, true);
	} catch (error) {
		return [failEveryItem(this, error, 'connecting to the CRM database')];
	}
	switch (operation) {
		case 'upsert':
			return await upsert.execute.call(this, target);
		default:
			throw new NodeOperationError(this.getNode(), `The operation "${operation}" is not supported`);
	}
}
