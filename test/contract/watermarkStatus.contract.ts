/**
 * What every WatermarkStore must do for Status and Record Run. Runs against the in-memory store in `npm test`
 * (test/unit/watermarkStore.memory.test.ts) and against SQL Server when MSSQL_URL is set (test/integration/contracts.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { serializeCursor } from '../../nodes/shared/core/cursor';
import { PACKAGE_TABLE } from '../../nodes/shared/core/watermarkLocation';
import type { AcquireRequest, StreamState, WatermarkStore } from '../../nodes/Watermark/stores/watermarkStore';
import type { WatermarkStoreFactory } from './watermarkStore.contract';

const audit = { workflowId: 'wf-1', executionId: 'ex-1' };
const C1 = serializeCursor({ kind: 'datetime', marker: '2025-03-01T10:00:00.1234567', key: ['17'] });

let streamCounter = 0;
const newStream = () => `status-${process.pid}-${Date.now()}-${++streamCounter}`;

function acquireRequest(stream: string, owner: string, leaseSeconds = 600): AcquireRequest {
	return { stream, owner, leaseSeconds, startingCursor: null, startingReason: 'Starting point: from the beginning', timeZone: 'Europe/Oslo', location: PACKAGE_TABLE, audit };
}

async function acquiredState(store: WatermarkStore, stream: string, owner: string, leaseSeconds = 600): Promise<StreamState> {
	const result = await store.acquire(acquireRequest(stream, owner, leaseSeconds));
	assert.equal(result.kind, 'acquired');
	return (result as Extract<typeof result, { kind: 'acquired' }>).state;
}

/** Stores C1 for the stream, with `failed` keys refused (parked at once when maxAttempts is 1). */
async function setWithFailures(store: WatermarkStore, state: StreamState, owner: string, failed: number[], maxAttempts: number) {
	const result = await store.commit({
		token: { stream: state.stream, generation: state.generation, owner },
		move: { from: state.cursor, to: C1 },
		allowBackwards: false,
		releaseLease: true,
		audit,
		retry: {
			changes: failed.map((no) => ({ kind: 'failed' as const, key: { CustomerNo: no }, cursor: C1, error: `row ${no} refused` })),
			rules: { maxAttempts, releaseLeaseWhenParked: true },
		},
	});
	assert.equal(result.verdict, 'store');
}

export function watermarkStatusContract(name: string, factory: WatermarkStoreFactory): void {
	describe(`WatermarkStore contract, Status and Record Run: ${name}`, () => {
		it('answers no stream for a name that never ran, and its own clock', async () => {
			const store = await factory();
			const answer = await store.status(newStream(), 10);
			assert.deepEqual(answer.streams, []);
			assert.ok(Math.abs(Date.parse(answer.now) - Date.now()) < 24 * 3600_000, `the store's clock is a time: ${answer.now}`);
		});

		it('reports a held lease, the stored watermark, and no run or retry entries before any were recorded', async () => {
			const store = await factory();
			const stream = newStream();
			await acquiredState(store, stream, 'run-1');
			const [status, ...others] = (await store.status(stream, 10)).streams;
			assert.equal(others.length, 0);
			assert.equal(status.state.stream, stream);
			assert.equal(status.state.leaseOwner, 'run-1');
			assert.ok(status.state.leaseExpiresAt);
			assert.equal(status.state.cursor, null);
			assert.deepEqual(status.retry, { waiting: 0, parked: 0, entries: [] });
			assert.equal(status.lastStarted, undefined);
			assert.equal(status.lastFinished, undefined);
		});

		it('counts waiting and parked rows, lists parked ones first, and at most the number asked for', async () => {
			const store = await factory();
			const stream = newStream();
			let state = await acquiredState(store, stream, 'run-1');
			await setWithFailures(store, state, 'run-1', [1, 2], 5);
			state = await acquiredState(store, stream, 'run-2');
			const parkNow = await store.commit({
				token: { stream, generation: state.generation, owner: 'run-2' },
				allowBackwards: false,
				releaseLease: true,
				audit,
				retry: { changes: [{ kind: 'failed', key: { CustomerNo: 3 }, cursor: C1, error: 'row 3 refused' }], rules: { maxAttempts: 1, releaseLeaseWhenParked: true } },
			});
			assert.equal(parkNow.verdict, 'nothing to store');
			const [status] = (await store.status(stream, 2)).streams;
			assert.equal(status.retry.waiting, 2);
			assert.equal(status.retry.parked, 1);
			assert.deepEqual(
				status.retry.entries.map((entry) => [entry.key, entry.parked]),
				[
					[{ CustomerNo: 3 }, true],
					[{ CustomerNo: 1 }, false],
				],
			);
			assert.equal(status.state.cursor, C1);
			assert.equal(status.state.leaseOwner, null, 'released');
		});

		it('keeps the latest run start and finish with its summary, each replacing the one before', async () => {
			const store = await factory();
			const stream = newStream();
			await acquiredState(store, stream, 'run-1');
			await store.recordRun({ stream, event: 'started', audit: { workflowId: 'wf', executionId: '41' } });
			await store.recordRun({ stream, event: 'finished', summary: { outcome: 'advanced', rowsRead: 3, note: 'Ærlig' }, audit: { workflowId: 'wf', executionId: '41' } });
			await store.recordRun({ stream, event: 'started', audit: { workflowId: 'wf', executionId: '42' } });
			const [status] = (await store.status(stream, 10)).streams;
			assert.equal(status.lastStarted?.executionId, '42');
			assert.equal(status.lastFinished?.executionId, '41');
			assert.deepEqual(status.lastFinished?.summary, { outcome: 'advanced', rowsRead: 3, note: 'Ærlig' });
			assert.ok(Date.parse(status.lastStarted?.at as string) >= Date.parse(status.lastFinished?.at as string));
		});

		it('reports every stream when asked for all, and only streams with a watermark', async () => {
			const store = await factory();
			const [a, b] = [newStream(), newStream()];
			await acquiredState(store, a, 'run-1');
			await acquiredState(store, b, 'run-1');
			await store.recordRun({ stream: newStream(), event: 'started', audit });
			const names = (await store.status(null, 0)).streams.map((status) => status.state.stream);
			assert.ok(names.includes(a) && names.includes(b), `${a} and ${b} in ${names.join(', ')}`);
			assert.equal(names.length, (await store.streamNames()).length);
		});
	});
}
