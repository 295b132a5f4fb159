/**
 * A row Contracting deleted and then has again (the same order number re-used) is active again in CRM: the shipped
 * mapping sets IsActive and clears DeletedAt on every upsert. Found by the model-based test (syncModel.test.ts):
 * before, the order stayed marked deleted although Contracting had it.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import { restoreAllSeams } from '../../nodes/shared/seams';
import { SyncWorld, onDay } from '../support/syncWorld';
import { modelWorkflow } from '../support/syncModel';

describe('shipped sync workflow: a deleted row that comes back', () => {
	afterEach(restoreAllSeams);

	it('an order deleted in Contracting (Change Tracking) and created again with its number is active again in CRM', async () => {
		const world = new SyncWorld();
		const workflow = modelWorkflow(world.sync);
		world.addCustomer(1, onDay(1));
		world.addOrder(1000, 1, onDay(1, '09:00:00.000'));
		await world.runSync(workflow);
		world.contracting.table('dbo.Orders').remove({ OrderNo: 1000 });
		await world.runSync(workflow);
		assert.deepEqual(world.salesOrders().map((order) => [order.OrderNo, order.IsActive]), [[1000, false]]);
		world.addOrder(1000, 1, onDay(2, '09:00:00.000'), { Description: 'Ordre 1000 på nytt' });
		const run = await world.runSync(workflow);
		assert.equal(run.errorMessage, undefined);
		const [order] = world.salesOrders();
		assert.deepEqual([order.OrderNo, order.Description, order.IsActive, order.DeletedAt], [1000, 'Ordre 1000 på nytt', true, null]);
		assert.equal(world.salesOrders().length, 1);
	});

	it('a customer marked deleted in CRM by a retried key that had gone, then back in Contracting, is active again', async () => {
		const world = new SyncWorld();
		world.addCustomer(1, onDay(1));
		await world.runSync();
		world.changeCustomer(1, onDay(2), { Name: 'N'.repeat(101) });
		await world.runSync();
		world.contracting.table('dbo.Customers').remove({ CustomerNo: 1 });
		await world.runSync();
		assert.equal(world.companies()[0].IsActive, false);
		world.addCustomer(1, onDay(3), { Name: 'Kunde 1 igjen AS' });
		await world.runSync();
		const [company] = world.companies();
		assert.deepEqual([company.Name, company.IsActive, company.DeletedAt], ['Kunde 1 igjen AS', true, null]);
	});
});
