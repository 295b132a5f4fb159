import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { StreamFacts } from '../../nodes/shared/core/syncStatus';
import { runStateOf, streamHealth } from '../../nodes/shared/core/syncStatus';

const NOW = '2025-03-30T12:00:00.000Z';
const minutesAgo = (minutes: number) => new Date(Date.parse(NOW) - minutes * 60_000).toISOString();
const minutesAhead = (minutes: number) => new Date(Date.parse(NOW) + minutes * 60_000).toISOString();

function facts(overrides: Partial<StreamFacts> = {}): StreamFacts {
	return {
		now: NOW,
		exists: true,
		lease: { owner: null, expiresAt: null },
		retry: { waiting: 0, parked: 0 },
		lastStarted: { at: minutesAgo(5), executionId: '41' },
		lastFinished: { at: minutesAgo(4), executionId: '41' },
		cursorChangedAt: minutesAgo(60),
		...overrides,
	};
}

describe('stream health (syncStatus.ts)', () => {
	it('a stream whose last run finished recently, with nothing parked, is healthy and idle', () => {
		assert.deepEqual(streamHealth('customers', facts(), 30), { healthy: true, runState: 'idle', minutesSinceLastFinishedRun: 4, problems: [] });
	});

	it('a stream that never ran is not healthy, and says to publish the sync', () => {
		const health = streamHealth('customers', facts({ exists: false, lastStarted: undefined, lastFinished: undefined }), 30);
		assert.equal(health.healthy, false);
		assert.equal(health.runState, 'never ran');
		assert.match(health.problems[0], /Stream "customers" has never run: publish the sync workflow/);
	});

	it('a live lease is "running" and healthy even long after the last finish; its expiry makes it a problem', () => {
		const held = facts({ lease: { owner: '977', expiresAt: minutesAhead(1) }, lastStarted: { at: minutesAgo(50), executionId: '977' }, lastFinished: { at: minutesAgo(55), executionId: '970' } });
		assert.deepEqual([runStateOf(held), streamHealth('orders', held, 30).healthy], ['running', true]);
		const expired = { ...held, lease: { owner: '977', expiresAt: minutesAgo(1) } };
		const health = streamHealth('orders', expired, 30);
		assert.equal(health.runState, 'did not finish');
		assert.deepEqual(
			health.problems.map((problem) => problem.slice(0, 34)),
			[
				'The last run of "orders" (executio',
				'The run "977" held "orders" until ',
				'No run of "orders" has finished fo',
			],
		);
	});

	it('a start newer than the last finish is "did not finish" only after two minutes without a lease (a run may still be starting)', () => {
		const started = (minutes: number) => facts({ lastStarted: { at: minutesAgo(minutes), executionId: '42' }, lastFinished: { at: minutesAgo(10), executionId: '41' } });
		assert.equal(runStateOf(started(2)), 'idle');
		assert.equal(runStateOf(started(2.01)), 'did not finish');
		assert.equal(runStateOf(facts({ lastFinished: undefined, lastStarted: { at: minutesAgo(3), executionId: '1' } })), 'did not finish');
	});

	it('a run that finished with its stream failed (the sync goes on with the other streams) is "failed" and not healthy, with its reason, until a later run finishes well', () => {
		const failedRun = facts({ lastFinished: { at: minutesAgo(4), executionId: '41', summary: { outcome: 'failed', message: 'Table dbo.Customers does not exist' } } });
		const health = streamHealth('customers', failedRun, 30);
		assert.equal(health.runState, 'failed');
		assert.equal(health.healthy, false);
		assert.match(health.problems[0], /^The last run of "customers" \(execution 41\) failed at .*: Table dbo\.Customers does not exist\. Open it in n8n's Executions list/);
		const stillHeld = { ...failedRun, lease: { owner: '41', expiresAt: minutesAhead(5) } };
		assert.deepEqual([runStateOf(stillHeld), streamHealth('customers', stillHeld, 30).healthy], ['running', false], 'its lease still holds the stream, and the failure shows at once');
		const retrying = facts({ lastStarted: { at: minutesAgo(1), executionId: '42' }, lastFinished: failedRun.lastFinished });
		assert.deepEqual(streamHealth('customers', retrying, 30).problems, [], 'a new run is under way');
		const wellAgain = facts({ lastFinished: { at: minutesAgo(4), executionId: '41', summary: { outcome: 'advanced', message: 'Sent 3 rows' } } });
		assert.equal(streamHealth('customers', wellAgain, 30).runState, 'idle');
	});

	it('behind: more than N whole minutes since the last finished run; exactly N is not', () => {
		assert.equal(streamHealth('customers', facts({ lastFinished: { at: minutesAgo(30), executionId: '1' }, lastStarted: { at: minutesAgo(31), executionId: '1' } }), 30).healthy, true);
		const behind = streamHealth('customers', facts({ lastFinished: { at: minutesAgo(31), executionId: '1' }, lastStarted: { at: minutesAgo(32), executionId: '1' } }), 30);
		assert.equal(behind.healthy, false);
		assert.match(behind.problems[0], /No run of "customers" has finished for 31 minutes \(more than 30\)/);
	});

	it('with no run recorded, behind counts from the watermark\'s creation', () => {
		const never = facts({ lastStarted: undefined, lastFinished: undefined, cursorChangedAt: minutesAgo(45) });
		assert.match(streamHealth('customers', never, 30).problems[0], /No run of "customers" has finished yet, 45 minutes after it was set up/);
		assert.equal(streamHealth('customers', { ...never, cursorChangedAt: minutesAgo(5) }, 30).healthy, true);
	});

	it('parked rows make a stream unhealthy, counted in words; waiting rows do not', () => {
		assert.equal(streamHealth('customers', facts({ retry: { waiting: 7, parked: 0 } }), 30).healthy, true);
		assert.match(streamHealth('customers', facts({ retry: { waiting: 0, parked: 1 } }), 30).problems[0], /^1 row is parked in the retry list of "customers" after too many attempts: correct it/);
		assert.match(streamHealth('customers', facts({ retry: { waiting: 0, parked: 3 } }), 30).problems[0], /^3 rows are parked .* correct them/);
	});
});
