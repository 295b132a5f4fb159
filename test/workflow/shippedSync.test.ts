/**
 * The shipped workflows, run as shipped (workflows/*.json), in-process, over the in-memory stores: the
 * scenarios a partner lives through.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { restoreAllSeams } from '../../nodes/shared/seams';
import { SYSTEM_CODES_PAIR, getParametersKeepingCursorIn } from '../support/cursorLocations';
import { SyncWorld, onDay, withSettings } from '../support/syncWorld';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

describe('shipped sync workflow', () => {
	let world: SyncWorld;
	beforeEach(() => {
		world = new SyncWorld();
	});
	afterEach(restoreAllSeams);

	it('first sync sends every customer and order, customers before orders', async () => {
		for (const day of range(1, 5)) world.addCustomer(day, onDay(day));
		world.addOrder(100, 3, onDay(4, '09:00:00.000'));
		const run = await world.runSync();
		assert.equal(run.errorMessage, undefined);
		assert.deepEqual(
			world.companies().map((row) => [row.CustomerNo, row.Name]),
			range(1, 5).map((no) => [no, `Kunde ${no} AS`]),
		);
		const [order] = world.salesOrders();
		assert.equal(order.OrderNo, 100);
		assert.equal(order.CompanyId, world.companies().find((row) => row.CustomerNo === 3)?.CompanyId);
		const customers = run.summary('customers');
		assert.deepEqual(
			[customers?.rowsRead, customers?.inserted, customers?.updated, customers?.unchanged, customers?.failed],
			[5, 5, 0, 0, 0],
		);
		assert.equal(run.summary('orders')?.inserted, 1);
		assert.ok(run.run.executedNodes.indexOf('Customers summary') < run.run.executedNodes.indexOf('Orders summary'));
	});

	it('a watermark edited by hand that is still readable (spaces after the colons) is stored again in its own form, and the stream moves on', async () => {
		for (const day of range(1, 3)) world.addCustomer(day, onDay(day));
		await world.runSync();
		const stored = (await world.watermarks.read('customers'))?.cursor as string;
		world.watermarks.editByHand('customers', stored.replace(/":/g, '": '));
		world.addCustomer(4, onDay(4));
		const run = await world.runSync();
		assert.equal(run.errorMessage, undefined);
		assert.equal(run.summary('customers')?.outcome, 'advanced', String(run.summary('customers')?.message));
		assert.equal(world.companies().length, 4);
		assert.equal((await world.watermarks.read('customers'))?.cursor, JSON.stringify({ kind: 'datetime', marker: onDay(4), key: ['4'] }));
		assert.equal((await world.watermarks.history('customers', 3))[1].action, 'repair');
	});

	for (const typeVersion of [1, 1.1]) {
		it(`with the position in an existing date + time pair (Get version ${typeVersion}), more rows in one second than a batch holds all reach CRM`, async () => {
			world.watermarks.seedExistingRow(SYSTEM_CODES_PAIR, null);
			const workflow = withSettings(world.sync, { batchSize: 4, maxBatchesPerRun: 6, transferOrders: false });
			const get = workflow.nodes.find((node) => node.name === 'Get watermark');
			if (!get) throw new Error('the shipped sync has a "Get watermark" node');
			get.typeVersion = typeVersion;
			get.parameters = { ...get.parameters, ...getParametersKeepingCursorIn(SYSTEM_CODES_PAIR, typeVersion) } as typeof get.parameters;
			// One bulk UPDATE ... SET ChangedAt = GETDATE(): ten rows, one instant.
			for (const no of range(1, 10)) world.addCustomer(no, onDay(3, '08:00:00.1230000'));
			const run = await world.runSync(workflow);
			assert.equal(run.errorMessage, undefined);
			assert.deepEqual(world.companies().map((row) => row.CustomerNo).sort((a, b) => Number(a) - Number(b)), range(1, 10));
			assert.equal(world.watermarks.existingRowValue(SYSTEM_CODES_PAIR), '2024-11-03T08:00:00', 'the pair holds whole seconds');
			const quiet = await world.runSync(workflow);
			assert.equal(quiet.summary('customers')?.rowsRead, 0, 'and the stream is caught up: nothing is read again');
		});
	}

	it('loops batch by batch within one run until caught up', async () => {
		for (const day of range(1, 25)) world.addCustomer(day, onDay(day));
		const run = await world.runSync(withSettings(world.sync, { batchSize: 10 }));
		assert.equal(run.errorMessage, undefined);
		assert.equal(run.batches('customers'), 3);
		assert.equal(run.summary('customers')?.rowsRead, 25);
		assert.equal(run.summary('customers')?.moreWaiting, false);
		assert.equal(world.companies().length, 25);
	});

	for (const maxBatchesPerRun of [1, 2, 3]) {
		it(`a run that stops at Max Batches per Run (${maxBatchesPerRun}) with more waiting gives the lease up, and the next run goes on from there`, async () => {
			for (const day of range(1, 9)) world.addCustomer(day, onDay(day));
			const workflow = withSettings(world.sync, { batchSize: 2, maxBatchesPerRun, transferOrders: false });
			const run = await world.runSync(workflow);
			assert.equal(run.errorMessage, undefined);
			assert.equal(run.batches('customers'), maxBatchesPerRun);
			assert.equal(run.summary('customers')?.moreWaiting, true);
			assert.equal((await world.watermarks.read('customers'))?.leaseOwner, null, 'the last batch of the run gave the lease up');
			assert.equal(world.companies().length, 2 * maxBatchesPerRun);
			const next = await world.runSync(workflow);
			assert.equal(next.summary('customers')?.rowsRead, Math.min(9 - 2 * maxBatchesPerRun, 2 * maxBatchesPerRun));
		});
	}

	it('incremental sync sends only what changed since the last run', async () => {
		for (const day of range(1, 5)) world.addCustomer(day, onDay(day));
		await world.runSync();
		world.changeCustomer(2, onDay(20), { Name: 'Kunde 2 Nytt Navn AS' });
		world.addCustomer(6, onDay(21));
		const run = await world.runSync();
		const customers = run.summary('customers');
		assert.deepEqual([customers?.rowsRead, customers?.inserted, customers?.updated], [2, 1, 1]);
		assert.equal(world.companies().find((row) => row.CustomerNo === 2)?.Name, 'Kunde 2 Nytt Navn AS');
		assert.equal(world.companies().length, 6);
		const quiet = await world.runSync();
		assert.equal(quiet.summary('customers')?.rowsRead, 0);
		assert.equal(quiet.summary('customers')?.outcome, 'nothing to store');
	});

	it('after the shipped rewind of two days, the next run sends those days again and doubles nothing', async () => {
		for (const day of range(1, 20)) world.addCustomer(day, onDay(day));
		await world.runSync();
		const rewind = await world.runRewind({ streams: 'customers' });
		assert.equal(rewind.errorMessage, undefined);
		const [summary] = rewind.output('Summary');
		assert.equal(summary.json.rewound, true);
		const run = await world.runSync();
		const customers = run.summary('customers');
		assert.deepEqual(
			[customers?.rowsRead, customers?.unchanged, customers?.inserted],
			[3, 3, 0],
			'days 18, 19 and 20 are sent again (two days back from day 20 at 08:00 is day 18 at 08:00)',
		);
		assert.equal(world.companies().length, 20);
		assert.equal(new Set(world.companies().map((row) => row.CustomerNo)).size, 20);
	});

	it('with customers off and orders on, only orders are sent', async () => {
		world.addCustomer(1, onDay(1));
		world.addOrder(100, 1, onDay(2, '09:00:00.000'));
		await world.runSync(withSettings(world.sync, { transferOrders: false }));
		assert.equal(world.companies().length, 1);
		assert.equal(world.salesOrders().length, 0);
		world.changeCustomer(1, onDay(3), { Name: 'Endret AS' });
		const run = await world.runSync(withSettings(world.sync, { transferCustomers: false, transferOrders: true }));
		assert.equal(run.errorMessage, undefined);
		assert.equal(run.summary('customers'), undefined);
		assert.equal(run.summary('orders')?.inserted, 1);
		assert.equal(world.companies()[0].Name, 'Kunde 1 AS', 'customers were not sent');
		assert.equal(world.salesOrders().length, 1);
	});

	it("a stream that stops names its node and that node's advice in the run's error, and the other stream still runs", async () => {
		world.addCustomer(1, onDay(1));
		world.addOrder(100, 1, onDay(1, '09:00:00.000'));
		await world.runSync();
		world.addOrder(101, 1, onDay(2, '09:00:00.000'));
		const workflow = structuredClone(world.sync);
		const read = workflow.nodes.find((node) => node.name === 'Read customers');
		if (!read) throw new Error('the shipped sync has a "Read customers" node');
		read.parameters = { ...read.parameters, markerColumn: { __rl: true, mode: 'name', value: 'Name' } };
		const run = await world.runSync(workflow);
		const error = run.run.run.data.resultData.error as { message: string; description?: string } | undefined;
		assert.match(String(error?.message), /^Stream "customers": .*"Name" of dbo\.Customers is nvarchar/);
		assert.match(String(error?.description), /^In "Read customers" \(stream "customers"\): The change marker must be datetime, datetime2 or smalldatetime/);
		assert.deepEqual([run.summary('customers')?.outcome, run.summary('customers')?.failedNode], ['failed', 'Read customers']);
		assert.equal(run.summary('orders')?.outcome, 'advanced', 'the orders stream went on');
		assert.deepEqual(world.salesOrders().map((row) => row.OrderNo).sort(), [100, 101]);
	});

	it('a run while another holds the lease ends quietly, reads nothing, and says who holds it', async () => {
		for (const day of range(1, 3)) world.addCustomer(day, onDay(day));
		await world.runSync();
		await world.watermarks.acquire({
			stream: 'customers',
			owner: 'execution 4711',
			leaseSeconds: 600,
			startingCursor: null,
			startingReason: 'test',
			timeZone: 'Europe/Oslo',
			location: { kind: 'packageTable' },
			audit: { workflowId: 'other', executionId: '4711' },
		});
		world.addCustomer(4, onDay(10));
		const run = await world.runSync();
		assert.equal(run.errorMessage, undefined);
		const customers = run.summary('customers');
		assert.equal(customers?.outcome, 'held by another run');
		assert.match(String(customers?.message), /4711/);
		assert.equal(customers?.rowsRead, 0);
		assert.equal(world.companies().length, 3, 'customer 4 waits for the next run');
		assert.equal(run.summary('orders')?.failed, 0, 'the orders stream went on');
	});
});
