/**
 * Model-based fault test of the SHIPPED sync workflow (test/support/syncModel.ts has the model): random sequences
 * of source changes, clock ticks, store faults, rewinds and overlapping runs, then quiet runs until caught up, and
 * the two invariants: every source row's latest version is in CRM or in the retry list with its error, and no key
 * is in CRM twice. A failing sequence is shrunk and reported with its seed.
 *
 * Budget: MODEL_RUNS sequences in `npm test`. More:
 *   PROPERTY_RUNS=2000 node --test --test-name-pattern="no row is lost" dist/test/workflow/syncModel.test.js
 * (build first: npx tsc -p tsconfig.json). Replay one: PROPERTY_SEED=<seed> with the same command.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';

import { restoreAllSeams } from '../../nodes/shared/seams';
import { describeFailure, forAll, propertyOptionsFromEnvironment } from '../support/property';
import { checkSequence, crmThatInsertsAgain, generateSequence, setWithoutRetryList } from '../support/syncModel';

/** Sequences per `npm test`: about 0.5 s of CPU each since the outage, refused-every-run and clock-change events (100 take under a minute). */
const MODEL_RUNS = 100;

describe('model-based fault test of the shipped sync workflow', () => {
	afterEach(restoreAllSeams);

	it('no row is lost or doubled under random changes, faults, rewinds and overlapping runs', async () => {
		const failure = await forAll(propertyOptionsFromEnvironment(MODEL_RUNS), (random) => generateSequence(random), (events) => checkSequence(events));
		assert.equal(failure, undefined, failure && describeFailure(failure));
	});

	it('catches a broken rule: a Set that moves past refused rows without listing them loses rows, shrunk to a short sequence', async (t) => {
		const failure = await forAll({ runs: 30, firstSeed: 1 }, (random) => generateSequence(random, 8), (events) => checkSequence(events, { watermarks: setWithoutRetryList }));
		assert.ok(failure, 'the property test must find the broken rule');
		t.diagnostic(describeFailure(failure));
		assert.match(failure.message, /is not in CRM and not in the retry list/);
		assert.ok(failure.shrunk.length <= 3 && failure.shrunk.length < failure.original.length, `shrunk to a few events:\n${describeFailure(failure)}`);
		assert.ok(
			failure.shrunk.some((event) => event.kind === 'addOrder' || (event.kind === 'addCustomers' && event.refused.includes(true)) || (event.kind === 'renameCustomer' && event.refused)),
			'the shrunk sequence keeps a row CRM refuses (a bad name, or an order of a customer CRM does not have)',
		);
		assert.equal(await checkSequence(failure.shrunk), undefined, 'the same sequence passes with the shipped rule');
	});

	it('catches a broken rule: a CRM write that inserts a changed or re-sent row again leaves a key twice, shrunk to a short sequence', async (t) => {
		const failure = await forAll({ runs: 30, firstSeed: 1 }, (random) => generateSequence(random), (events) => checkSequence(events, { crm: crmThatInsertsAgain }));
		assert.ok(failure, 'the property test must find the broken rule');
		t.diagnostic(describeFailure(failure));
		assert.match(failure.message, /is in CRM twice/);
		assert.ok(failure.shrunk.length <= 4 && failure.shrunk.length < failure.original.length, `shrunk to a few events:\n${describeFailure(failure)}`);
		assert.equal(await checkSequence(failure.shrunk), undefined, 'the same sequence passes with the shipped CRM write');
	});

	it('catches a broken assumption: with no safety lag, a change that commits a few seconds after its marker is skipped', async (t) => {
		const failure = await forAll({ runs: 60, firstSeed: 1 }, (random) => generateSequence(random), (events) => checkSequence(events, { settings: { safetyLagSeconds: 0 } }));
		assert.ok(failure, 'the property test must find the rows a zero lag skips');
		t.diagnostic(describeFailure(failure));
		assert.match(failure.message, /customer \d+ .* and not in the retry list/);
		assert.ok(failure.shrunk.some((event) => 'lateSeconds' in event && event.lateSeconds > 0), 'the shrunk sequence keeps a late change');
		assert.equal(await checkSequence(failure.shrunk), undefined, 'the same sequence passes with the shipped lag of 60 seconds');
	});
});
