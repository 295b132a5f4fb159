/**
 * Items as the Contracting node hands them to the CRM node (columns plus `_sync`), and the CRM test workflow with
 * the CRM node's parameters set: shared by the workflow tests (in-memory CRM) and the integration tests (SQL Server).
 */
import assert from 'node:assert/strict';
import type { IDataObject, INodeParameters, IWorkflowBase } from 'n8n-workflow';

import type { SyncInfo } from '../../nodes/shared/core/syncItem';
import { readWorkflow } from './workflowRunner';

export type OnError = 'continueRegularOutput' | 'continueErrorOutput';

/** test/workflow/crmUpsert.workflow.json ("Changed rows" -> "CRM") with these CRM parameters and On Error setting. */
export function crmWorkflow(parameters: IDataObject, onError?: OnError): IWorkflowBase {
	const data = readWorkflow('test/workflow/crmUpsert.workflow.json');
	const crm = data.nodes.find((node) => node.name === 'CRM');
	assert.ok(crm, 'the test workflow has a CRM node');
	crm.parameters = { ...crm.parameters, ...(parameters as INodeParameters) };
	if (onError) crm.onError = onError;
	return data;
}

/** The `_sync` of the row at `position` of one batch read since the beginning. */
export function syncInfo(stream: string, position: number, key: Record<string, unknown>, operation: SyncInfo['operation'] = 'upsert'): IDataObject {
	const info: SyncInfo = {
		stream,
		operation,
		key,
		cursor: JSON.stringify({ kind: 'datetime', marker: `2024-05-01T10:00:00.${String(position).padStart(7, '0')}`, key: [String(position)] }),
		batchStartCursor: '{"kind":"datetime","marker":null,"key":null}',
		position,
		batchRows: 0,
		hasMore: false,
	};
	return info as unknown as IDataObject;
}

export const customerItem = (no: number, position: number, fields: IDataObject = {}): IDataObject => ({
	CustomerNo: no,
	Name: `Customer ${no}`,
	City: 'Oslo',
	Email: `post@${no}.example`,
	_sync: syncInfo('customers', position, { CustomerNo: no }),
	...fields,
});

export const deletedCustomerItem = (no: number, position: number): IDataObject => ({
	CustomerNo: no,
	_sync: syncInfo('customers', position, { CustomerNo: no }, 'delete'),
});

export const orderItem = (no: number, customerNo: number, position: number): IDataObject => ({
	OrderNo: no,
	CustomerNo: customerNo,
	Description: `Order ${no}`,
	OrderDate: '2024-04-30T00:00:00.000Z',
	Amount: 1250.5,
	_sync: syncInfo('orders', position, { OrderNo: no }),
});

export const range = (count: number, from = 1) => Array.from({ length: count }, (_, index) => from + index);
export const statusesOf = (items: Array<{ json: IDataObject }>) => items.map((item) => item.json.status);
