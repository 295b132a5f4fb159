import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { CONTRACTING_CREDENTIAL, connect } from '../../shared/transport/connect';
import { changeSourceSeam } from '../stores/changeSource';
import * as countChanges from './countChanges.operation';
import * as readChanges from './readChanges.operation';

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const operation = this.getNodeParameter('operation', 0) as string;
	const { transport } = await connect(this, CONTRACTING_CREDENTIAL);
	const source = changeSourceSeam.current(transport);
	switch (operation) {
		case 'readChanges':
			return [await readChanges.execute.call(this, source)];
		case 'countChanges':
			return [await countChanges.execute.call(this, source)];
		default:
			throw new NodeOperationError(this.getNode(), `The operation "${operation}" is not supported`);
	}
}
