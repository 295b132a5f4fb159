/**
 * The retry list in the shipped sync workflow, as a partner lives it: a row CRM refuses neither blocks the rows
 * behind it nor disappears; the next runs read it again first; after Max Attempts it is parked and the run fails
 * so the error workflow can alert; the editor shows the list and can put a parked row back.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import type { IDataObject, IWorkflowBase } from 'n8n-workflow';

import { replaceSeam, restoreAllSeams } from '../../nodes/shared/seams';
import { upsertTargetSeam } from '../../nodes/Crm/stores/upsertTarget';
import { faultError } from '../support/faults';
import { CREDENTIALS, SyncWorld, onDay } from '../support/syncWorld';
import { loneWatermarkWorkflow, runWorkflow } from '../support/workflowRunner';

const TOO_LONG = 'N'.repeat(101);

/** The run's stop message names the stream once: the node's message already does, the workflow must not add it again. */
function assertNamesStreamOnce(message: unknown, stream: string): void {
	assert.equal(String(message).split(`Stream "${stream}"`).length - 1, 1, `names "${stream}" exactly once: ${String(message)}`);
}

/** A one-node workflow as a partner builds it in the editor to look at or change the retry list. */
function editorWorkflow(parameters: IDataObject): IWorkflowBase {
	return loneWatermarkWorkflow('retry list', { resource: 'retryList', database: 'crm', stream: 'customers', ...parameters });
}

describe('shipped sync workflow: the retry list', () => {
	let world: SyncWorld;
	beforeEach(() => {
		world = new SyncWorld();
	});
	afterEach(restoreAllSeams);

	const editor = async (parameters: IDataObject) => {
		const run = await runWorkflow(editorWorkflow(parameters), { credentials: CREDENTIALS, startNodeName: 'Start' });
		assert.equal(run.errorMessage, undefined);
		return run.output('Watermark').map((item) => item.json);
	};

	it('a refused customer does not block the rows behind it; once corrected in Contracting it is sent and leaves the list', async () => {
		for (const no of [1, 2, 3]) world.addCustomer(no, onDay(no), no === 2 ? { Name: TOO_LONG } : {});
		const first = await world.runSync();
		assert.equal(first.errorMessage, undefined);
		assert.deepEqual(world.companies().map((row) => row.CustomerNo), [1, 3], 'customer 3 is not held up by customer 2');
		const customers = first.summary('customers');
		assert.deepEqual([customers?.rowsRead, customers?.inserted, customers?.failed, customers?.retried, customers?.parked], [3, 2, 1, 0, 0]);
		assert.match(String(customers?.message), /2 of 3 rows written; the 1 that failed are in the retry list/);
		const [listed] = await editor({ operation: 'retryList' });
		assert.deepEqual([listed.key, listed.attempts, listed.parked], [{ CustomerNo: 2 }, 1, false]);
		assert.match(String(listed.lastError), /Name/);

		world.changeCustomer(2, onDay(10), { Name: 'Kunde 2 Rettet AS' });
		const second = await world.runSync();
		assert.equal(second.errorMessage, undefined);
		assert.equal(world.companies().find((row) => row.CustomerNo === 2)?.Name, 'Kunde 2 Rettet AS');
		assert.equal(second.summary('customers')?.retried, 1, 'read again first, as the retry list asked');
		assert.deepEqual(await editor({ operation: 'retryList' }), []);
		assert.equal(new Set(world.companies().map((row) => row.CustomerNo)).size, world.companies().length, 'sent twice in one run (retried and changed), written once');
	});

	it('a read that fails changes nothing: the watermark, the retry list and its attempts stay, and the stream is free for the next run at once', async () => {
		for (const no of [1, 2, 3]) world.addCustomer(no, onDay(no), no === 2 ? { Name: TOO_LONG } : {});
		await world.runSync();
		const before = { state: await world.watermarks.read('customers'), list: await editor({ operation: 'retryList' }) };
		world.addCustomer(4, onDay(4));
		const workflow = structuredClone(world.sync);
		const read = workflow.nodes.find((node) => node.name === 'Read customers');
		if (!read) throw new Error('the shipped sync has a "Read customers" node');
		read.parameters = { ...read.parameters, table: { __rl: true, mode: 'name', value: 'dbo.NoSuchTable' } };
		const failed = await world.runSync(workflow);
		assert.match(String(failed.errorMessage), /NoSuchTable/);
		const after = await world.watermarks.read('customers');
		assert.deepEqual([after?.cursor, after?.generation], [before.state?.cursor, before.state?.generation], 'the watermark did not move');
		assert.deepEqual(await editor({ operation: 'retryList' }), before.list, 'no attempt counted, nothing dropped');
		const next = await world.runSync();
		assert.equal(next.summary('customers')?.outcome, 'advanced', 'no lease left behind: the next run works the stream');
		assert.deepEqual(world.companies().map((row) => row.CustomerNo), [1, 3, 4]);
	});

	it('a customer parked in every run never starves the orders: both streams run, and the run fails at the end naming the problem', async () => {
		const maxAttemptsOne = structuredClone(world.sync);
		const set = maxAttemptsOne.nodes.find((node) => node.name === 'Set watermark');
		if (!set) throw new Error('the shipped sync has a "Set watermark" node');
		set.parameters.setOptions = { ...(set.parameters.setOptions as IDataObject), maxAttempts: 1 };
		world.addCustomer(50, onDay(1));
		for (const run of [1, 2, 3]) {
			world.addCustomer(run, onDay(run), { Name: TOO_LONG });
			world.addOrder(100 + run, 50, onDay(run, '09:00:00.000'));
			const result = await world.runSync(maxAttemptsOne);
			assert.match(String(result.errorMessage), new RegExp(`^Stream "customers": .*parked in the retry list: \\{"CustomerNo":${run}\\}`));
			assertNamesStreamOnce(result.errorMessage, 'customers');
			assert.equal(result.summary('customers')?.outcome, 'failed');
			assert.equal(result.summary('orders')?.outcome, 'advanced', `run ${run}: ${String(result.summary('orders')?.message)}`);
			assert.ok(world.salesOrders().some((row) => row.OrderNo === 100 + run), `run ${run} sent its order`);
		}
		assert.deepEqual(world.salesOrders().map((row) => row.OrderNo), [101, 102, 103]);
	});

	it('a row refused five times is parked after the watermark is stored, the run fails for the error workflow, and the editor puts it back', async () => {
		world.addCustomer(1, onDay(1), { Name: TOO_LONG });
		world.addCustomer(2, onDay(2));
		const runs = [];
		for (let attempt = 1; attempt <= 5; attempt++) runs.push(await world.runSync());
		assert.deepEqual(runs.slice(0, 4).map((run) => run.errorMessage), [undefined, undefined, undefined, undefined]);
		assert.match(String(runs[4].errorMessage), /Stream "customers": 1 row\(s\) were refused by CRM 5 times and are parked in the retry list: \{"CustomerNo":1\}/);
		assert.equal(world.companies().length, 1, 'customer 2 was written in the first run');
		const [parked] = await editor({ operation: 'retryList' });
		assert.deepEqual([parked.attempts, parked.parked], [5, true]);
		assert.deepEqual(await editor({ operation: 'retryList', includeParked: false }), []);

		const quiet = await world.runSync();
		assert.equal(quiet.errorMessage, undefined, 'a parked row fails one run, not every run after it');
		assert.equal(quiet.summary('customers')?.retried, 0);
		assert.equal(quiet.summary('orders')?.failed, 0, 'the orders stream goes on');

		const misspelt = await runWorkflow(editorWorkflow({ operation: 'retryParkedAgain', change: "={{ 'Remove' }}" }), { credentials: CREDENTIALS, startNodeName: 'Start' });
		assert.match(String(misspelt.errorMessage), /'Change' cannot be "Remove" — It takes one of: "retryAgain" \(Retry Again\), "remove" \(Remove From the List\)/);
		assert.deepEqual((await editor({ operation: 'retryList' })).map((row) => row.parked), [true], 'a change that is none of the choices changes nothing');
		const oneRowMisspelt = await runWorkflow(editorWorkflow({ operation: 'retryParkedAgain', change: 'remove', rows: "={{ 'OneRow' }}", key: '{ "CustomerNo": 2 }' }), {
			credentials: CREDENTIALS,
			startNodeName: 'Start',
		});
		assert.match(String(oneRowMisspelt.errorMessage), /'Rows' cannot be "OneRow" — It takes one of: "allParked" \(Every Parked Row of the Stream\), "oneRow" \(One Row\)/);
		assert.deepEqual((await editor({ operation: 'retryList' })).map((row) => row.parked), [true], 'Rows that is none of the choices removes no row, let alone every one');

		const [again] = await editor({ operation: 'retryParkedAgain' });
		assert.deepEqual([again.changed, again.message], [1, 'Stream "customers": 1 row(s) will be tried again by the next run (every parked row).']);
		world.contracting.table('dbo.Customers').update({ CustomerNo: 1 }, { Name: 'Kunde 1 AS' });
		const retried = await world.runSync();
		assert.equal(retried.errorMessage, undefined);
		assert.equal(retried.summary('customers')?.retried, 1);
		assert.equal(world.companies().find((row) => row.CustomerNo === 1)?.Name, 'Kunde 1 AS', 'fixed in place without a new change date: the retry read found it');
		assert.deepEqual(await editor({ operation: 'retryList' }), []);
	});

	it('a retried key no longer in Contracting is read as a delete: CRM marks it deleted and the list drops it', async () => {
		world.addCustomer(1, onDay(1));
		await world.runSync();
		world.changeCustomer(1, onDay(2), { Name: TOO_LONG });
		await world.runSync();
		assert.equal((await editor({ operation: 'retryList' })).length, 1);
		world.contracting.table('dbo.Customers').remove({ CustomerNo: 1 });
		const run = await world.runSync();
		assert.equal(run.errorMessage, undefined);
		assert.deepEqual([run.summary('customers')?.retried, run.summary('customers')?.deleted], [1, 0], 'retried rows are counted apart from the batch');
		const [company] = world.companies();
		assert.equal(company.IsActive, false);
		assert.notEqual(company.DeletedAt, null);
		assert.deepEqual(await editor({ operation: 'retryList' }), []);
	});

	it('removes one row from the list on request, naming a key that is not there', async () => {
		world.addCustomer(1, onDay(1), { Name: TOO_LONG });
		await world.runSync();
		const [missing] = await editor({ operation: 'retryParkedAgain', rows: 'oneRow', key: '{ "CustomerNo": 9 }', change: 'remove' });
		assert.equal(missing.message, 'Stream "customers": the row {"CustomerNo":9} is not in the retry list; nothing changed.');
		const [removed] = await editor({ operation: 'retryParkedAgain', rows: 'oneRow', key: '{ "CustomerNo": 1 }', change: 'remove' });
		assert.equal(removed.changed, 1);
		assert.deepEqual(await editor({ operation: 'retryList' }), []);
	});

	it('a customer a CRM trigger refuses is parked with the trigger\'s words like any refused row; the others are written', async () => {
		for (const no of [1, 2, 3]) world.addCustomer(no, onDay(no), no === 2 ? { Name: 'BLOCKED Kunde 2' } : {});
		const run = await world.runSync();
		assert.equal(run.errorMessage, undefined);
		assert.deepEqual(world.companies().map((row) => row.CustomerNo), [1, 3]);
		const [listed] = await editor({ operation: 'retryList' });
		assert.deepEqual([listed.key, listed.attempts], [{ CustomerNo: 2 }, 1]);
		assert.match(String(listed.lastError), /Customer is blocked in CRM \(SQL Server error 50000\)/);
	});

	it('a CRM outage longer than Max Attempts parks nothing: each run fails naming the reason, the watermark stays, and CRM back gets every row', async () => {
		for (const no of [1, 2, 3]) world.addCustomer(no, onDay(no));
		let outage = true;
		const crm = world.crm;
		// CRM unreachable after the transport's retries, as every call of the CRM node sees it during the outage.
		const down = new Proxy(crm, {
			get: (target, property, receiver) => {
				const value = Reflect.get(target, property, receiver) as unknown;
				if (typeof value !== 'function') return value;
				return async (...args: unknown[]) => {
					if (outage) throw faultError('connection lost', 'crm');
					return await (value as (...parameters: unknown[]) => Promise<unknown>).apply(target, args);
				};
			},
		});
		replaceSeam(upsertTargetSeam, () => down);
		for (let run = 1; run <= 6; run++) {
			const failed = await world.runSync();
			assert.match(String(failed.errorMessage), /^Stream "customers": CRM did not take the rows from \{"CustomerNo":1\} on: .*connection/, `run ${run}`);
			assertNamesStreamOnce(failed.errorMessage, 'customers');
			assert.deepEqual(await editor({ operation: 'retryList' }), [], `run ${run}: nothing is parked or listed during an outage`);
			assert.equal((await world.watermarks.read('customers'))?.cursor ?? null, null, `run ${run}: the watermark stays where it was`);
		}
		outage = false;
		const back = await world.runSync();
		assert.equal(back.errorMessage, undefined);
		assert.deepEqual(world.companies().map((row) => row.CustomerNo), [1, 2, 3]);
		assert.deepEqual(await editor({ operation: 'retryList' }), []);
	});
});
