/**
 * Runs workflow JSON in-process with n8n-core's WorkflowExecute, loading this package from dist/ the way
 * n8n loads a community package, plus the n8n-nodes-base nodes the shipped workflows use.
 *
 * The seam: before a run, replace what the nodes talk to with `replaceSeam` (see nodes/shared/seams.ts):
 * `sqlTransportSeam` for the recording transport double, or a store seam for an in-memory store.
 */
import { LazyPackageDirectoryLoader, PackageDirectoryLoader, WorkflowExecute, ExecutionLifecycleHooks } from 'n8n-core';
import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IExecuteWorkflowInfo,
	INodeExecutionData,
	INodeType,
	INodeTypes,
	IRun,
	IRunExecutionData,
	IVersionedNodeType,
	IWorkflowBase,
	IWorkflowExecuteAdditionalData,
	ExecuteWorkflowOptions,
	WorkflowExecuteMode,
	ITaskData,
} from 'n8n-workflow';
import { ICredentialsHelper, NodeHelpers, NodeOperationError, Workflow, createRunExecutionData } from 'n8n-workflow';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const PACKAGE_ROOT = path.resolve(__dirname, '../../..');
export const PACKAGE_NAME = 'n8n-nodes-contracting-crm';

class TestNodeTypes implements INodeTypes {
	constructor(
		readonly ours: PackageDirectoryLoader,
		private readonly base: LazyPackageDirectoryLoader,
	) {}

	private loaderFor(type: string): { loader: PackageDirectoryLoader | LazyPackageDirectoryLoader; name: string } {
		const dot = type.lastIndexOf('.');
		const packageName = type.slice(0, dot);
		const name = type.slice(dot + 1);
		if (packageName === PACKAGE_NAME) return { loader: this.ours, name };
		if (packageName === 'n8n-nodes-base') return { loader: this.base, name };
		throw new Error(`Unknown node type ${type}: neither this package nor n8n-nodes-base`);
	}

	getByName(type: string): INodeType | IVersionedNodeType {
		const { loader, name } = this.loaderFor(type);
		return loader.getNode(name).type;
	}

	getByNameAndVersion(type: string, version?: number): INodeType {
		return NodeHelpers.getVersionedNodeType(this.getByName(type), version);
	}

	getKnownTypes() {
		return {};
	}
}

class TestCredentialsHelper extends ICredentialsHelper {
	constructor(private readonly credentials: Record<string, ICredentialDataDecryptedObject>) {
		super();
	}

	getParentTypes() {
		return [];
	}

	async authenticate(_c: ICredentialDataDecryptedObject, _t: string, request: never) {
		return request;
	}

	async preAuthentication() {
		return undefined;
	}

	async runPreAuthentication() {
		return undefined;
	}

	async getCredentials(): Promise<never> {
		throw new Error('The test runner hands out decrypted credentials only');
	}

	async getDecrypted(_additionalData: unknown, details: { id: string | null }, type: string) {
		const data = this.credentials[type];
		// As n8n's CredentialsHelper answers a reference to a credential this n8n does not have.
		if (!data) throw new Error(`Credential with ID "${details.id}" does not exist for type "${type}".`);
		return data;
	}

	async updateCredentials() {}

	async updateCredentialsOauthTokenData() {}

	getCredentialsProperties() {
		return [];
	}

	isCredentialUsableByNode() {
		return true;
	}
}

let loaded: Promise<TestNodeTypes> | undefined;

/** Loads this package's built nodes (eagerly, as n8n does for a community package) and n8n-nodes-base lazily, once. */
export async function loadNodeTypes(): Promise<TestNodeTypes> {
	loaded ??= (async () => {
		const ours = new PackageDirectoryLoader(PACKAGE_ROOT);
		await ours.loadAll();
		const base = new LazyPackageDirectoryLoader(path.dirname(require.resolve('n8n-nodes-base/package.json')));
		await base.loadAll();
		return new TestNodeTypes(ours, base);
	})();
	return await loaded;
}

export interface RunOptions {
	credentials?: Record<string, ICredentialDataDecryptedObject>;
	/** Items given to the start node (a trigger's output). */
	triggerItems?: INodeExecutionData[];
	mode?: WorkflowExecuteMode;
	/** Workflows that Execute Workflow nodes may call by id (a workflow may call itself). */
	workflowsById?: Record<string, IWorkflowBase>;
	/** Static data of the workflow, kept between runs by passing the same object. */
	staticData?: IDataObject;
	/** The node the run starts at; by default n8n's own choice of start node. */
	startNodeName?: string;
	/** Called with the lifecycle hooks of this run and of every sub-workflow run it starts (the benchmark times nodes with them). */
	onHooks?: (hooks: ExecutionLifecycleHooks) => void;
	/** The top-level execution's id, as another n8n instance (numbering its own executions) would give it. */
	executionId?: string;
}

export interface RunResult {
	run: IRun;
	/** Output items of a node's first output, all runs concatenated. */
	output(nodeName: string, outputIndex?: number): INodeExecutionData[];
	runsOf(nodeName: string): ITaskData[];
	/** The message of the error that stopped the execution, if any. */
	errorMessage?: string;
	executedNodes: string[];
}

let executionCounter = 0;

export function readWorkflow(file: string): IWorkflowBase {
	return JSON.parse(readFileSync(path.resolve(PACKAGE_ROOT, file), 'utf8')) as IWorkflowBase;
}

const SUB_WORKFLOW_TRIGGER = 'n8n-nodes-base.executeWorkflowTrigger';

function startNodeOf(workflow: Workflow, data: IWorkflowBase, startNodeName?: string) {
	const start = startNodeName ? workflow.getNode(startNodeName) : workflow.getStartNode();
	if (start) return start;
	throw new Error(`Workflow ${data.name} has no start node ${startNodeName ?? ''}`);
}

export async function runWorkflow(data: IWorkflowBase, options: RunOptions = {}): Promise<RunResult> {
	const nodeTypes = await loadNodeTypes();
	const workflowId = data.id ?? 'test-workflow';
	const workflow = new Workflow({
		id: workflowId,
		name: data.name,
		nodes: data.nodes,
		connections: data.connections,
		nodeTypes,
		settings: data.settings,
		staticData: options.staticData,
		active: false,
	});
	const executionId = options.executionId ?? String(++executionCounter);
	const hooks = new ExecutionLifecycleHooks(options.mode ?? 'manual', executionId, data as never);
	const executedNodes: string[] = [];
	hooks.addHandler('nodeExecuteAfter', (nodeName: string) => void executedNodes.push(nodeName));
	options.onHooks?.(hooks);

	const additionalData = buildAdditionalData(options, hooks, workflowId, executionId);
	const runExecutionData: IRunExecutionData = createRunExecutionData({
		executionData: {
			nodeExecutionStack: [
				{
					node: startNodeOf(workflow, data, options.startNodeName),
					data: { main: [options.triggerItems ?? [{ json: {} }]] },
					source: null,
				},
			],
		},
	});
	const execute = new WorkflowExecute(additionalData, options.mode ?? 'manual', runExecutionData);
	const run = await execute.processRunExecutionData(workflow);
	const runData = run.data.resultData.runData;
	const error = run.data.resultData.error;
	return {
		run,
		executedNodes,
		errorMessage: error ? [error.message, (error as { description?: string }).description].filter(Boolean).join(' — ') : undefined,
		runsOf: (nodeName) => runData[nodeName] ?? [],
		output: (nodeName, outputIndex = 0) =>
			(runData[nodeName] ?? []).flatMap((task) => task.data?.main?.[outputIndex] ?? []),
	};
}

/**
 * A sub-workflow's error as n8n hands it to the calling Execute Workflow node (objectToError in n8n's cli): a
 * NodeOperationError built from the error's fields, tied to the sub-workflow's node that failed, so an error
 * workflow sees which node it was (and n8n's own rewording of well-known messages applies, as in n8n).
 */
function errorAsN8nPassesItUp(error: Error & { node?: { name?: string } }, subWorkflow: IWorkflowBase): Error {
	const fields = { ...error, message: error.message, stack: error.stack } as unknown as IDataObject & { description?: string };
	const node = subWorkflow.nodes.find((candidate) => candidate.name === error.node?.name);
	if (!node) return Object.assign(new Error(error.message), { description: fields.description });
	return new NodeOperationError(node, fields as never, fields as never);
}

function buildAdditionalData(
	options: RunOptions,
	hooks: ExecutionLifecycleHooks,
	workflowId: string,
	executionId: string,
): IWorkflowExecuteAdditionalData {
	const additionalData = {
		credentialsHelper: new TestCredentialsHelper(options.credentials ?? {}),
		hooks,
		executionId,
		workflowId,
		currentNodeExecutionIndex: 0,
		restApiUrl: 'http://localhost:5678/rest',
		instanceBaseUrl: 'http://localhost:5678',
		formBaseUrl: 'http://localhost:5678/form',
		formWaitingBaseUrl: 'http://localhost:5678/form-waiting',
		formTestBaseUrl: 'http://localhost:5678/form-test',
		webhookBaseUrl: 'http://localhost:5678/webhook',
		webhookWaitingBaseUrl: 'http://localhost:5678/webhook-waiting',
		webhookTestBaseUrl: 'http://localhost:5678/webhook-test',
		mcpBaseUrl: 'http://localhost:5678/mcp',
		mcpTestBaseUrl: 'http://localhost:5678/mcp-test',
		variables: {},
		logAiEvent: () => undefined,
		getRunExecutionData: async () => undefined,
		getRuntimeCredential: async () => undefined,
		startRunnerTask: async () => {
			throw new Error('Code nodes need a task runner, which the in-process runner does not have');
		},
		executeWorkflow: async (info: IExecuteWorkflowInfo, _parent: unknown, callOptions: ExecuteWorkflowOptions) => {
			const target = info.code ?? (info.id !== undefined ? options.workflowsById?.[info.id] : undefined);
			if (!target) throw new Error(`Sub-workflow ${info.id ?? '(inline)'} is not known to the test runner`);
			const subTrigger = target.nodes.find((node) => node.type === SUB_WORKFLOW_TRIGGER);
			const sub = await runWorkflow(
				{ ...target, id: info.id ?? target.id },
				{
					...options,
					executionId: undefined,
					triggerItems: callOptions.inputData ?? [{ json: {} }],
					mode: 'integrated',
					startNodeName: subTrigger?.name,
				},
			);
			const subError = sub.run.data.resultData.error;
			if (subError) throw errorAsN8nPassesItUp(subError, target);
			const last = sub.run.data.resultData.lastNodeExecuted;
			const lastTask = last ? sub.runsOf(last).at(-1) : undefined;
			return { executionId: `sub-${executionId}`, data: lastTask?.data?.main ?? [null] };
		},
	};
	return additionalData as unknown as IWorkflowExecuteAdditionalData;
}

/** The one-node workflow a partner builds in the editor to use the Sync Watermark node alone: Start → Watermark. */
export function loneWatermarkWorkflow(
	name: string,
	parameters: IDataObject,
	credentials: IDataObject = { crmSqlServerApi: { id: 'VismaCrmSqlSrv01', name: 'Visma CRM' } },
): IWorkflowBase {
	return {
		id: name.replace(/\W+/g, '-'),
		name,
		active: false,
		nodes: [
			{ id: '1', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
			{ id: '2', name: 'Watermark', type: `${PACKAGE_NAME}.watermark`, typeVersion: 1, position: [200, 0], parameters, credentials },
		],
		connections: { Start: { main: [[{ node: 'Watermark', type: 'main', index: 0 }]] } },
	} as unknown as IWorkflowBase;
}
