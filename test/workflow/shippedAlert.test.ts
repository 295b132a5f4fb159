/**
 * The shipped alert workflow (workflows/contracting-crm-alert.json): the sync names it as its error workflow, and a
 * failed or parked sync run becomes one e-mail saying stream, node, reason and what to do. The sync is run in-process
 * over the in-memory stores until it fails; the alert workflow then gets what n8n's Error Trigger gets for that run
 * (n8n's executeErrorWorkflow: execution id, url, error, last node executed, mode; workflow id and name) and sends
 * its e-mail to a local SMTP sink.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';

import type { IDataObject, IWorkflowBase, WorkflowExecuteMode } from 'n8n-workflow';

import { watermarkStoreSeam } from '../../nodes/Watermark/stores/watermarkStore';
import { replaceSeam, restoreAllSeams } from '../../nodes/shared/seams';
import { FaultInjector } from '../support/faults';
import { SmtpSink, readMail } from '../support/smtpSink';
import type { SyncRun } from '../support/syncWorld';
import { SYNC_WORKFLOW_FILE, SyncWorld, onDay } from '../support/syncWorld';
import { readWorkflow, runWorkflow } from '../support/workflowRunner';

const ALERT_WORKFLOW_FILE = 'workflows/contracting-crm-alert.json';
const BASE_URL = 'http://localhost:5678';

/** What n8n gives the Error Trigger for a failed execution of `workflow` (execute-error-workflow.ts in n8n's cli). */
function errorTriggerItem(run: SyncRun, workflow: IWorkflowBase, mode: WorkflowExecuteMode, executionId = '4711'): IDataObject {
	const { error, lastNodeExecuted } = run.run.run.data.resultData;
	assert.ok(error, 'the sync run failed');
	return {
		execution: { id: executionId, url: `${BASE_URL}/workflow/${workflow.id}/executions/${executionId}`, error, lastNodeExecuted, mode },
		workflow: { id: workflow.id, name: workflow.name },
	};
}

describe('shipped alert workflow', () => {
	const alert = readWorkflow(ALERT_WORKFLOW_FILE);
	const sync = readWorkflow(SYNC_WORKFLOW_FILE);
	const smtp = new SmtpSink();
	let smtpPort = 0;
	let world: SyncWorld;

	before(async () => {
		smtpPort = await smtp.start();
	});
	after(async () => await smtp.stop());
	beforeEach(() => {
		world = new SyncWorld();
		smtp.received.length = 0;
	});
	afterEach(restoreAllSeams);

	/** The alert workflow once the partner has picked an SMTP credential on Send alert. */
	const withSmtpPicked: IWorkflowBase = {
		...alert,
		nodes: alert.nodes.map((node) => (node.name === 'Send alert' ? { ...node, credentials: { smtp: { id: 'partnerSmtp01', name: 'Partner SMTP' } } } : node)),
	};
	const sendAlert = async (item: IDataObject) =>
		await runWorkflow(withSmtpPicked, {
			mode: 'error',
			startNodeName: 'When the sync fails',
			triggerItems: [{ json: item }],
			credentials: { smtp: { host: '127.0.0.1', port: smtpPort, secure: false, disableStartTls: true, user: '', password: '' } },
		});

	it('is the sync workflow\'s error workflow and starts from n8n\'s Error Trigger', () => {
		assert.equal(sync.settings?.errorWorkflow, alert.id);
		assert.equal(alert.nodes.filter((node) => node.type === 'n8n-nodes-base.errorTrigger').length, 1);
		const send = alert.nodes.find((node) => node.name === 'Send alert');
		assert.equal(send?.type, 'n8n-nodes-base.emailSend', 'e-mail by default');
		assert.equal(send?.credentials, undefined, 'the partner picks the SMTP credential');
	});

	/** A sync run whose first watermark request fails as the transport reports a `kind` of fault after its retries. */
	async function failingRun(kind: 'timeout' | 'connection lost'): Promise<SyncRun> {
		world.addCustomer(1, onDay(1));
		const faults = new FaultInjector();
		faults.arm([{ store: 'watermark', call: 1, kind, when: 'before' }]);
		replaceSeam(watermarkStoreSeam, () => faults.wrap(world.watermarks, 'watermark', ['acquire']));
		const failed = await world.runSync();
		assert.ok(failed.errorMessage, 'the run failed');
		return failed;
	}

	it('a run whose watermark request timed out: one e-mail naming the stream, the node, the reason and what to do', async () => {
		const failed = await failingRun('timeout');
		const sent = await sendAlert(errorTriggerItem(failed, sync, 'trigger'));
		assert.equal(sent.errorMessage, undefined);
		assert.equal(smtp.received.length, 1, 'one e-mail');
		const [message] = sent.output('Alert message').map((item) => item.json);
		const { error } = failed.run.run.data.resultData;
		assert.deepEqual([message.stream, message.node, message.parked], ['customers', 'Get watermark', false], 'the node of the batch that stopped, not the one that failed the run');
		assert.match(String(message.reason), /Failed while getting the watermark of stream "customers": Timeout/);
		assert.equal(message.whatToDo, error?.description, "what to do is the run's own advice");
		assert.match(String(message.whatToDo), /^In "Get watermark" \(stream "customers"\): The statement ran longer than the Request Timeout of the credential/);
		const mail = readMail(smtp.received[0]);
		assert.equal(mail.subject, 'Contracting → CRM sync failed: stream customers');
		assert.equal(mail.text, message.text);
		assert.deepEqual(
			mail.text.split('\n').map((line) => line.split(':')[0]),
			['A run of the sync stopped.', '', 'Stream', 'Node', 'Reason', 'What to do', '', 'Execution'],
		);
		assert.match(mail.text, new RegExp(`^Execution: ${BASE_URL}/workflow/${sync.id}/executions/4711$`, 'm'));
		assert.deepEqual(smtp.received[0].to, ['<it-support@example.com>']);
	});

	it('a message n8n rewords (a connection reset) still names the stream, by the node that ran it', async () => {
		const failed = await failingRun('connection lost');
		const sent = await sendAlert(errorTriggerItem(failed, sync, 'trigger'));
		assert.equal(sent.errorMessage, undefined);
		const [message] = sent.output('Alert message').map((item) => item.json);
		assert.equal(message.stream, 'customers');
		assert.equal(message.reason, failed.run.run.data.resultData.error?.message, 'the reason is what the execution shows');
	});

	it('a parked run: the e-mail names the parked row and how to send it again', async () => {
		world.addCustomer(1, onDay(1), { Name: 'N'.repeat(101) });
		let parked: SyncRun | undefined;
		for (let attempt = 1; attempt <= 5; attempt++) parked = await world.runSync();
		assert.ok(parked?.errorMessage, 'the fifth refusal parks the row and fails the run');

		const sent = await sendAlert(errorTriggerItem(parked, sync, 'trigger'));
		assert.equal(sent.errorMessage, undefined);
		const mail = readMail(smtp.received[0]);
		assert.equal(mail.subject, 'Contracting → CRM sync: rows parked in stream customers');
		assert.match(mail.text, /^CRM refused rows on every attempt; they are parked in the retry list\.$/m);
		assert.match(mail.text, /^Reason: .*\{"CustomerNo":1\}/m);
		assert.match(mail.text, /^What to do: Correct the rows named above in Contracting.*Retry Parked Rows Again/m);
	});

	it('a failing batch sends nothing itself: its run fails too and alerts once', async () => {
		const failed = await failingRun('timeout');
		const batch = await sendAlert(errorTriggerItem(failed, sync, 'integrated', '4712'));
		assert.equal(batch.errorMessage, undefined);
		assert.deepEqual(batch.runsOf('What failed'), []);
		assert.equal(smtp.received.length, 0);
	});
});
