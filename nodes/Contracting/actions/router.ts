import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { failEveryItem } from '../../shared/nodeErrors';
import { CONTRACTING_CREDENTIAL, connect } from '../../shared/transport/connect';
import { changeSourceSeam } from '../stores/changeSource';
import * as countChanges from './countChanges.operation';
import * as readChanges from './readChanges.operation';

export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const operation = this.getNodeParameter('operation', 0) as string;
	let source;
	try {
		const { transport, schema } = await connect(this, CONTRACTING_CREDENTIAL);
		source = changeSourceSeam.current(transport, schema);
	} catch (error) {
		return [failEveryItem(this, error, 'connecting to the Contracting database')];
	}
	switch (operation) {
		case 'readChanges':
			return [await readChanges.execute.call(this, source)];
		case 'countChanges':
			return [await countChanges.execute.call(this, source)];
		default:
			throw new NodeOperationError(this.getNode(), `The operation "${operation}" is not supported`);
	}
}
