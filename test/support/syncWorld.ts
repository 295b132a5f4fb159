/**
 * The shipped workflows as a partner runs them, in-process, against in-memory stores plugged in through their
 * seams: Contracting (dbo.Customers, dbo.Orders as in the representative schema), CRM (dbo.Company,
 * dbo.SalesOrder) and the watermark tables. Each store passes the same contract suite as its SQL Server twin.
 */
import type { IDataObject, INodeExecutionData, IWorkflowBase } from 'n8n-workflow';
import { addFormResponseDataToReturnItem } from 'n8n-nodes-base/dist/nodes/Form/utils/utils';

import { changeSourceSeam } from '../../nodes/Contracting/stores/changeSource';
import { upsertTargetSeam } from '../../nodes/Crm/stores/upsertTarget';
import { watermarkStoreSeam } from '../../nodes/Watermark/stores/watermarkStore';
import { replaceSeam } from '../../nodes/shared/seams';
import { COMPANY, CRM_MEMORY_TABLES, SALES_ORDER } from '../contract/upsertTarget.contract';
import { MemoryChangeSource } from './memory/memoryChangeSource';
import { MemoryUpsertTarget } from './memory/memoryUpsertTarget';
import { MemoryWatermarkStore } from './memory/memoryWatermarkStore';
import type { RunResult } from './workflowRunner';
import { readWorkflow, runWorkflow } from './workflowRunner';

export const SYNC_WORKFLOW_FILE = 'workflows/contracting-crm-sync.json';
export const REWIND_WORKFLOW_FILE = 'workflows/contracting-crm-rewind.json';
/** The rewind workflow's two ways in: support's form, and a manual run with the values typed into Settings. */
export const REWIND_FORM = 'Rewind form';
export const REWIND_MANUAL_TRIGGER = 'Run with the values below';

export const CREDENTIALS = {
	contractingSqlServerApi: { server: 'contracting.invalid', database: 'Contracting', user: 'sync', password: 'not-used' },
	crmSqlServerApi: { server: 'crm.invalid', database: 'CRM', user: 'sync', password: 'not-used' },
};

/** The Settings node's values, changed the way a partner changes them in the editor. */
export function withSettings(workflow: IWorkflowBase, values: IDataObject): IWorkflowBase {
	const copy = structuredClone(workflow);
	const settings = copy.nodes.find((node) => node.name === 'Settings');
	if (!settings) throw new Error(`${copy.name} has no Settings node`);
	const assignments = (settings.parameters.assignments as { assignments: Array<{ name: string; value: unknown }> }).assignments;
	for (const [name, value] of Object.entries(values)) {
		const assignment = assignments.find((candidate) => candidate.name === name);
		if (!assignment) throw new Error(`Settings has no field ${name}`);
		assignment.value = value as never;
	}
	return copy;
}

/**
 * The item the rewind workflow's Form Trigger hands on when support submits `answers` (by field name, as the
 * browser sends them: text). n8n's own form code turns the submission into the item, from the shipped form's fields.
 */
export function formSubmission(workflow: IWorkflowBase, answers: Record<string, string>): INodeExecutionData {
	const form = workflow.nodes.find((node) => node.name === REWIND_FORM);
	if (!form) throw new Error(`${workflow.name} has no node "${REWIND_FORM}"`);
	const fields = (form.parameters.formFields as { values: Array<{ fieldName?: string; fieldLabel: string }> }).values;
	const body: IDataObject = {};
	for (const [name, answer] of Object.entries(answers)) {
		const index = fields.findIndex((field) => field.fieldName === name);
		if (index < 0) throw new Error(`The form "${REWIND_FORM}" has no field named ${name}`);
		body[`field-${index}`] = answer;
	}
	const item: INodeExecutionData = { json: {} };
	addFormResponseDataToReturnItem(item, fields as never, body, form.typeVersion);
	item.json.submittedAt = '2024-12-01T13:00:00.000+01:00';
	item.json.formMode = 'test';
	return item;
}

/** Local wall-clock time in the stream's zone, as the Contracting columns hold it. */
export const onDay = (day: number, time = '08:00:00.1234567') => `2024-11-${String(day).padStart(2, '0')}T${time}`;

export class SyncWorld {
	readonly contracting = new MemoryChangeSource();
	readonly crm = new MemoryUpsertTarget(CRM_MEMORY_TABLES());
	readonly watermarks = new MemoryWatermarkStore(() => new Date(this.nowUtc));
	/** The database server's clock (UTC), for the safety lag and the leases. */
	nowUtc = '2024-12-01T12:00:00.000Z';
	sync: IWorkflowBase = readWorkflow(SYNC_WORKFLOW_FILE);
	rewind: IWorkflowBase = readWorkflow(REWIND_WORKFLOW_FILE);

	constructor() {
		this.contracting.define({
			name: 'dbo.Customers',
			columns: [
				{ name: 'CustomerNo', type: 'int', nullable: false },
				{ name: 'Name', type: 'nvarchar(100)', nullable: false },
				{ name: 'OrgNo', type: 'varchar(20)' },
				{ name: 'Address', type: 'nvarchar(200)' },
				{ name: 'PostCode', type: 'varchar(10)' },
				{ name: 'City', type: 'nvarchar(100)' },
				{ name: 'Email', type: 'nvarchar(200)' },
				{ name: 'Phone', type: 'varchar(30)' },
				{ name: 'Active', type: 'bit', nullable: false },
				{ name: 'ChangedAt', type: 'datetime2(7)' },
				{ name: 'LastChangeDate', type: 'int' },
				{ name: 'LastChangeTime', type: 'int' },
				{ name: 'RowVer', type: 'rowversion' },
			],
			primaryKey: ['CustomerNo'],
		});
		this.contracting.define({
			name: 'dbo.Orders',
			columns: [
				{ name: 'OrderNo', type: 'int', nullable: false },
				{ name: 'CustomerNo', type: 'int', nullable: false },
				{ name: 'Description', type: 'nvarchar(200)' },
				{ name: 'OrderDate', type: 'date' },
				{ name: 'Status', type: 'varchar(20)' },
				{ name: 'Amount', type: 'decimal(18,2)' },
				{ name: 'ChangedAt', type: 'datetime' },
				{ name: 'RowVer', type: 'rowversion' },
			],
			primaryKey: ['OrderNo'],
			changeTracking: true,
		});
		// The watermark tables live in the CRM database, as shipped: a CRM write checks the lease there.
		this.crm.leaseIsLive = (guard) => this.watermarks.holdsLiveLease(guard.stream, guard.owner);
		this.plugIn();
	}

	/** Points the nodes' store seams at this world's stores. */
	plugIn(): void {
		replaceSeam(changeSourceSeam, () => this.contracting);
		replaceSeam(upsertTargetSeam, () => this.crm);
		replaceSeam(watermarkStoreSeam, () => this.watermarks);
	}

	addCustomer(no: number, changedAt: string, fields: IDataObject = {}): void {
		this.contracting.table('dbo.Customers').insert({ CustomerNo: no, Name: `Kunde ${no} AS`, City: 'Oslo', Active: true, ChangedAt: changedAt, ...fields });
	}

	changeCustomer(no: number, changedAt: string, fields: IDataObject): void {
		this.contracting.table('dbo.Customers').update({ CustomerNo: no }, { ...fields, ChangedAt: changedAt });
	}

	addOrder(no: number, customerNo: number, changedAt: string, fields: IDataObject = {}): void {
		this.contracting.table('dbo.Orders').insert({ OrderNo: no, CustomerNo: customerNo, Description: `Ordre ${no}`, Status: 'open', Amount: '100.00', ChangedAt: changedAt, ...fields });
	}

	companies(): IDataObject[] {
		return this.crm.rows(COMPANY) as IDataObject[];
	}

	salesOrders(): IDataObject[] {
		return this.crm.rows(SALES_ORDER) as IDataObject[];
	}

	/** One scheduled run of the shipped sync workflow (it calls itself for each batch). */
	async runSync(workflow: IWorkflowBase = this.sync, executionId?: string): Promise<SyncRun> {
		this.contracting.serverUtcNow = this.nowUtc.replace('Z', '').padEnd(27, '0');
		const data = { ...workflow, id: 'shipped-sync' };
		const run = await runWorkflow(data, {
			credentials: CREDENTIALS,
			startNodeName: 'Every 5 minutes',
			workflowsById: { 'shipped-sync': data },
			mode: 'trigger',
			executionId,
		});
		return new SyncRun(run);
	}

	/** The rewind run by hand, with `settings` typed into its Settings node. */
	async runRewind(settings: IDataObject = {}): Promise<RunResult> {
		return await runWorkflow(withSettings(this.rewind, settings), { credentials: CREDENTIALS, startNodeName: REWIND_MANUAL_TRIGGER });
	}

	/** The rewind started by support submitting its form with `answers`. */
	async runRewindFromForm(answers: Record<string, string>): Promise<RunResult> {
		return await runWorkflow(this.rewind, {
			credentials: CREDENTIALS,
			startNodeName: REWIND_FORM,
			triggerItems: [formSubmission(this.rewind, answers)],
		});
	}
}

export class SyncRun {
	constructor(readonly run: RunResult) {}

	get errorMessage(): string | undefined {
		return this.run.errorMessage;
	}

	/** The one-item summary of a stream, or undefined when the stream was switched off. */
	summary(stream: 'customers' | 'orders'): IDataObject | undefined {
		const items: INodeExecutionData[] = this.run.output(stream === 'customers' ? 'Customers summary' : 'Orders summary');
		if (items.length > 1) throw new Error(`${stream} has ${items.length} summary items`);
		return items[0]?.json;
	}

	/** How many batch executions a stream took. */
	batches(stream: 'customers' | 'orders'): number {
		return this.run.runsOf(`Sync a batch of ${stream}`).length;
	}
}
