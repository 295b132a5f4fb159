/**
 * What a batch of the shipped sync costs in round trips to SQL Server, through the real SQL Server adapters and the
 * recording transport over the benchmark's fake server: after the first batch of a run, three (the read, the MERGE
 * and Set), because the schema answers are kept per pool, the lease and the read window ride from Set to the next
 * batch, and Set needs no read before its commit.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import { restoreAllSeams } from '../../nodes/shared/seams';
import { FakeSqlServer } from '../bench/fakeSqlServer';
import { rewindToBeginning, runSync } from '../bench/scenario';
import { RecordingSqlTransport, useRecordingTransport } from '../support/recordingTransport';
import { CREDENTIALS, SYNC_WORKFLOW_FILE, withSettings } from '../support/syncWorld';
import { readWorkflow } from '../support/workflowRunner';

describe('round trips of the shipped sync', () => {
	afterEach(restoreAllSeams);

	it('cold, then warm: ten customers in four batches of three cost 3 round trips a batch after the first, and no catalogue once warm', async () => {
		const server = new FakeSqlServer({ customers: 10, crmHoldsAll: false });
		server.seedStream('customers', null);
		server.seedStream('orders', null);
		const double = new RecordingSqlTransport((request) => server.respond(request));
		useRecordingTransport(double);
		const workflow = { ...withSettings(readWorkflow(SYNC_WORKFLOW_FILE), { batchSize: 3, transferOrders: false }), id: 'sync' };
		const measured = async () => {
			const before = { statements: { ...server.statements }, roundTrips: double.roundTrips };
			const run = await runSync(workflow, { credentials: CREDENTIALS });
			assert.equal(run.errorMessage, undefined);
			assert.deepEqual([run.summary('customers')?.batches, run.summary('customers')?.rowsRead], [4, 10]);
			const statements = Object.fromEntries(Object.entries(server.statements).map(([kind, count]) => [kind, count - (before.statements[kind as keyof typeof server.statements] ?? 0)]));
			return { statements, roundTrips: double.roundTrips - before.roundTrips };
		};

		const cold = await measured();
		// Once per pool: both catalogues, the compatibility level, the watermark tables' check. Once per run: the read
		// window, Get, and Record Run at the start and the end. Per batch: the read, the MERGE, Set.
		assert.deepEqual(cold.statements, { catalogue: 2, serverFacts: 1, batchRead: 4, changeCount: 0, merge: 4, watermark: 6, compatibility: 1 });
		assert.equal(cold.roundTrips, 20);

		await rewindToBeginning(CREDENTIALS);
		const warm = await measured();
		assert.deepEqual(warm.statements, { catalogue: 0, serverFacts: 1, batchRead: 4, changeCount: 0, merge: 4, watermark: 5, compatibility: 0 });
		assert.equal(warm.roundTrips, 16, '1 window + 1 Get + 2 Record Run + 4 × (read, MERGE, Set)');
	});
});
