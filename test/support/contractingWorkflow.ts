import type { INodeParameters, IWorkflowBase } from 'n8n-workflow';

/** Test credentials for the Contracting database: never connected to, the change source or transport is swapped in. */
export const CONTRACTING_TEST_CREDENTIALS = {
	contractingSqlServerApi: { server: 'contracting.invalid', database: 'Contracting', user: 'sync', password: 'secret' },
};

/**
 * Start (passes the trigger items on, like the Watermark node's Get before it) → one Contracting node named
 * `nodeName`; parameters as the editor stores them, `settings` (e.g. onError) on the Contracting node.
 */
export function contractingWorkflow(name: string, nodeName: string, parameters: INodeParameters, settings: Record<string, unknown> = {}): IWorkflowBase {
	return {
		name,
		active: false,
		// The test rows' wall-clock times are Oslo time, the zone the node defaults to through the workflow.
		settings: { timezone: 'Europe/Oslo' },
		connections: { Start: { main: [[{ node: nodeName, type: 'main', index: 0 }]] } },
		nodes: [
			{ id: '1', name: 'Start', type: 'n8n-nodes-base.noOp', typeVersion: 1, position: [0, 0], parameters: {} },
			{
				id: '2',
				name: nodeName,
				type: 'n8n-nodes-contracting-crm.contracting',
				typeVersion: 1,
				position: [200, 0],
				credentials: { contractingSqlServerApi: { id: '1', name: 'Contracting' } },
				parameters,
				...settings,
			},
		],
	} as unknown as IWorkflowBase;
}
