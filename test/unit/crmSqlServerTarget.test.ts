import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SqlServerUpsertTarget } from '../../nodes/Crm/stores/sqlServerUpsertTarget';
import type { LeaseGuard } from '../../nodes/shared/core/leaseGuard';
import { LEASE_GUARD_PARAMETERS, LeaseLostError } from '../../nodes/shared/core/leaseGuard';
import { manuallyMappedColumns } from '../../nodes/shared/core/mapping';
import { writeIsolatingRefusals } from '../../nodes/shared/core/upsertBisection';
import type { UpsertPlan, UpsertRow } from '../../nodes/shared/core/upsertPlan';
import { planDelete, planUpsert, resolveLookup } from '../../nodes/shared/core/upsertPlan';
import { COMPATIBILITY_LEVEL_QUERY, MAX_PARAMETERS_PER_REQUEST } from '../../nodes/shared/core/upsertSql';
import { connectionSettingsFromCredentials } from '../../nodes/shared/transport/connectionSettings';
import type { SqlRequest, SqlResult } from '../../nodes/shared/transport/types';
import { COMPANY_CATALOG, ORDER_COMPANY_LOOKUP, SALES_ORDER_CATALOG } from '../contract/upsertTarget.contract';
import type { InjectedFault } from '../support/recordingTransport';
import { RecordingSqlTransport, asProductionTransport, resultOf, sqlServerError } from '../support/recordingTransport';

const GUARD: LeaseGuard = { table: { schema: 'dbo', name: 'ContractingCrmWatermark' }, stream: 'customers', owner: 'execution 7 · 00aa11bb22cc33dd' };
const settings = connectionSettingsFromCredentials({ server: 'crm.example', database: 'CRM', user: 'sync', password: 'secret' });
const companyPlan = planUpsert(COMPANY_CATALOG, manuallyMappedColumns(COMPANY_CATALOG, ['CustomerNo', 'Name', 'City']), ['CustomerNo'], []);

/** The ordinals a request carries, from its JSON parameter or its VALUES list. */
function ordinalsOf(request: SqlRequest): number[] {
	const rows = request.parameters.find((parameter) => parameter.name === 'rows');
	if (rows) return (JSON.parse(String(rows.value)) as Array<[number]>).map((row) => row[0]);
	return [...request.text.matchAll(/\((\d+), @p\d+_0\b/g)].map((match) => Number(match[1]));
}

/**
 * A CRM server as the double sees it: answers the compatibility level, and answers a write with one outcome row per
 * row it carries, from `outcomeOf`; `refuse` makes it throw SQL Server's error for a batch holding that ordinal.
 */
function crmServer(level: number, outcomeOf: (ordinal: number) => string = () => 'inserted', refuse?: { ordinal: number; number: number; preceding?: InjectedFault[] }) {
	return new RecordingSqlTransport((request): SqlResult => {
		if (request.text === COMPATIBILITY_LEVEL_QUERY) return resultOf([{ compatibilityLevel: level }]);
		const ordinals = ordinalsOf(request);
		if (refuse && ordinals.includes(refuse.ordinal)) {
			throw sqlServerError({ number: refuse.number, message: `The INSERT statement conflicted with the FOREIGN KEY constraint "FK_SalesOrder_Company".`, preceding: refuse.preceding });
		}
		return resultOf(ordinals.map((ordinal) => ({ row: ordinal, outcome: outcomeOf(ordinal), missingLookup: null })));
	});
}

const companies = (count: number, name = (index: number) => `Company ${index}`): UpsertRow[] =>
	Array.from({ length: count }, (_, index) => ({ ordinal: index, values: [index + 1, name(index), 'Oslo'], lookupKeys: [] }));

describe('SqlServerUpsertTarget against the transport double', () => {
	it('sends a batch of 1,000 rows in one round trip, as one JSON parameter, after reading the compatibility level once', async () => {
		const double = crmServer(150);
		const target = new SqlServerUpsertTarget(asProductionTransport(double, settings));
		const outcomes = await target.upsert(companyPlan, companies(1000), { dryRun: false });
		assert.equal(outcomes.length, 1000);
		assert.equal(double.roundTrips, 2);
		assert.equal(double.requests[0].text, COMPATIBILITY_LEVEL_QUERY);
		const write = double.requests[1];
		assert.equal(write.parameters.length, 1);
		assert.equal((JSON.parse(String(write.parameters[0].value)) as unknown[]).length, 1000);
		await target.upsert(companyPlan, companies(1000), { dryRun: false });
		assert.equal(double.roundTrips, 3, 'the level is read once per target, that is once per execution');
	});

	it('sends the same 1,000 rows twice as the same idempotent statement: a MERGE that updates only rows that differ', async () => {
		const double = crmServer(150);
		const target = new SqlServerUpsertTarget(asProductionTransport(double, settings));
		await target.upsert(companyPlan, companies(1000), { dryRun: false });
		await target.upsert(companyPlan, companies(1000), { dryRun: false });
		const [first, second] = double.requests.slice(1);
		assert.deepEqual(second, first);
		assert.match(first.text, /MERGE \[dbo\]\.\[Company\] WITH \(HOLDLOCK\) AS t/);
		assert.match(first.text, /ON t\.\[CustomerNo\] = s\.\[c0\]\nWHEN MATCHED AND EXISTS \(SELECT .* EXCEPT SELECT .*\) THEN\n {2}UPDATE SET/);
		assert.match(first.text, /WHEN NOT MATCHED BY TARGET THEN\n {2}INSERT/);
		assert.doesNotMatch(first.text, /WHEN NOT MATCHED BY SOURCE/, 'rows CRM has and the batch does not are never touched');
	});

	it('below compatibility level 130 sends typed VALUES chunks that each stay under 2,100 parameters', async () => {
		const double = crmServer(120);
		const target = new SqlServerUpsertTarget(asProductionTransport(double, settings));
		assert.equal(await target.rowsPerRequest(companyPlan), Math.floor((2098 - LEASE_GUARD_PARAMETERS) / 3));
		const outcomes = await target.upsert(companyPlan, companies(1000), { dryRun: false, leaseGuard: GUARD });
		const writes = double.requests.slice(1);
		assert.equal(writes.length, 2);
		for (const write of writes) {
			assert.ok(write.parameters.length + 2 <= MAX_PARAMETERS_PER_REQUEST, `${write.parameters.length} parameters`);
			assert.doesNotMatch(write.text, /OPENJSON/);
			assert.match(write.text, /^SET NOCOUNT ON;\nSET XACT_ABORT ON;[\s\S]*BEGIN TRANSACTION;[\s\S]*MERGE[\s\S]*COMMIT TRANSACTION;/);
		}
		assert.deepEqual(writes.flatMap(ordinalsOf), companies(1000).map((row) => row.ordinal));
		assert.deepEqual(writes[0].parameters[1], { name: 'p0_1', type: { name: 'nvarchar', length: 100 }, value: 'Company 0' });
		assert.equal(outcomes.length, 1000);
	});

	it('checks the lease in the write\'s own transaction before the MERGE, and a lost lease writes nothing and says so', async () => {
		let leaseLive = true;
		const double = new RecordingSqlTransport((request): SqlResult => {
			if (request.text === COMPATIBILITY_LEVEL_QUERY) return resultOf([{ compatibilityLevel: 150 }]);
			if (!leaseLive) return resultOf([{ row: null, outcome: 'lease lost' }]);
			return resultOf(ordinalsOf(request).map((ordinal) => ({ row: ordinal, outcome: 'inserted', missingLookup: null })));
		});
		const target = new SqlServerUpsertTarget(asProductionTransport(double, settings));
		await target.upsert(companyPlan, companies(3), { dryRun: false, leaseGuard: GUARD });
		const write = double.requests[1];
		assert.match(
			write.text,
			/BEGIN TRANSACTION;\nIF NOT EXISTS \(SELECT 1 FROM \[dbo\]\.\[ContractingCrmWatermark\] WITH \(UPDLOCK, HOLDLOCK\)\n {2}WHERE \[Stream\] = @leaseStream AND \[LeaseOwner\] COLLATE Latin1_General_BIN2 = @leaseOwner AND \[LeaseExpiresAt\] > SYSUTCDATETIME\(\)\)\nBEGIN\n {2}ROLLBACK TRANSACTION;[\s\S]*RETURN;\nEND;[\s\S]*MERGE/,
		);
		assert.deepEqual(write.parameters.slice(-2), [
			{ name: 'leaseStream', type: { name: 'nvarchar', length: 200 }, value: 'customers' },
			{ name: 'leaseOwner', type: { name: 'nvarchar', length: 200 }, value: 'execution 7 · 00aa11bb22cc33dd' },
		]);
		await target.upsert(companyPlan, companies(3), { dryRun: true, leaseGuard: GUARD });
		assert.doesNotMatch(double.requests[2].text, /leaseOwner/, 'a dry run writes nothing and needs no lease');
		leaseLive = false;
		await assert.rejects(target.upsert(companyPlan, companies(3), { dryRun: false, leaseGuard: GUARD }), LeaseLostError);
		await assert.rejects(
			writeIsolatingRefusals(companies(4), (rows) => target.upsert(companyPlan, rows, { dryRun: false, leaseGuard: GUARD })),
			LeaseLostError,
			'a lost lease fails the batch, it is not a refused row to isolate',
		);
		assert.equal(double.requests.length, 5);
	});

	it('turns SQL Server\'s per-row outcomes into statuses, and a missing looked-up row into a failure that says so', async () => {
		const orderPlan: UpsertPlan = planUpsert(
			SALES_ORDER_CATALOG,
			manuallyMappedColumns(SALES_ORDER_CATALOG, ['OrderNo']),
			['OrderNo'],
			[resolveLookup(SALES_ORDER_CATALOG, ORDER_COMPANY_LOOKUP, COMPANY_CATALOG)],
		);
		const double = new RecordingSqlTransport((request) =>
			request.text === COMPATIBILITY_LEVEL_QUERY
				? resultOf([{ compatibilityLevel: 160 }])
				: resultOf([
						{ row: 3, outcome: 'updated', missingLookup: null },
						{ row: 4, outcome: 'missing', missingLookup: 0 },
					]),
		);
		const target = new SqlServerUpsertTarget(asProductionTransport(double, settings));
		const outcomes = await target.upsert(
			orderPlan,
			[
				{ ordinal: 3, values: [7], lookupKeys: [10] },
				{ ordinal: 4, values: [8], lookupKeys: [123] },
			],
			{ dryRun: false },
		);
		assert.deepEqual(outcomes, [
			{ ordinal: 3, status: 'updated' },
			{ ordinal: 4, status: 'failed', error: { message: 'Customer 123 is not in CRM yet (dbo.Company.CustomerNo)', column: 'CompanyId' } },
		]);
	});

	it('a poisoned row in 1,000: SQL Server\'s refusal is isolated in about 2·log2(n) round trips and 999 rows are written', async () => {
		const double = crmServer(160, () => 'inserted', { ordinal: 637, number: 547 });
		const target = new SqlServerUpsertTarget(asProductionTransport(double, settings));
		const outcomes = await writeIsolatingRefusals(companies(1000), (rows) => target.upsert(companyPlan, rows, { dryRun: false }));
		const failed = outcomes.filter((outcome) => outcome.status === 'failed');
		assert.deepEqual(failed.map((outcome) => outcome.ordinal), [637]);
		assert.equal(failed[0].error?.number, 547);
		assert.match(failed[0].error?.message ?? '', /FOREIGN KEY constraint "FK_SalesOrder_Company"/);
		assert.doesNotMatch(failed[0].error?.message ?? '', /crm\.example/, 'the server is not repeated in each row\'s message');
		assert.equal(outcomes.filter((outcome) => outcome.status === 'inserted').length, 999);
		const writes = double.roundTrips - 1;
		assert.ok(writes <= 1 + 2 * Math.ceil(Math.log2(1000)), `${writes} writes`);
	});

	it('a CRM trigger refusing a row with RAISERROR … ROLLBACK (driver reports 3609 last): the row is isolated with the trigger\'s words, the others written', async () => {
		const trigger = { number: 50000, message: 'Customer 38 is blocked in CRM' };
		const double = crmServer(160, () => 'inserted', { ordinal: 38, number: 3609, preceding: [trigger] });
		const target = new SqlServerUpsertTarget(asProductionTransport(double, settings));
		const outcomes = await writeIsolatingRefusals(companies(100), (rows) => target.upsert(companyPlan, rows, { dryRun: false }));
		const failed = outcomes.filter((outcome) => outcome.status === 'failed');
		assert.deepEqual(failed, [{ ordinal: 38, status: 'failed', error: { message: 'Customer 38 is blocked in CRM (SQL Server error 50000)', number: 50000 } }]);
		assert.equal(outcomes.filter((outcome) => outcome.status === 'inserted').length, 99);
	});

	it('a refusal the write batch caught itself (its answer "refused": nothing kept) is isolated like one the driver throws', async () => {
		const double = new RecordingSqlTransport((request): SqlResult => {
			if (request.text === COMPATIBILITY_LEVEL_QUERY) return resultOf([{ compatibilityLevel: 160 }]);
			const ordinals = ordinalsOf(request);
			if (ordinals.includes(7)) return resultOf([{ row: null, outcome: 'refused', errorNumber: 50001, errorMessage: 'Trigger: Name may not be empty' }]);
			return resultOf(ordinals.map((ordinal) => ({ row: ordinal, outcome: 'updated', missingLookup: null })));
		});
		const target = new SqlServerUpsertTarget(asProductionTransport(double, settings));
		const outcomes = await writeIsolatingRefusals(companies(16), (rows) => target.upsert(companyPlan, rows, { dryRun: false }));
		assert.deepEqual(outcomes.filter((outcome) => outcome.status === 'failed'), [{ ordinal: 7, status: 'failed', error: { message: 'Trigger: Name may not be empty (SQL Server error 50001)', number: 50001 } }]);
		assert.equal(outcomes.filter((outcome) => outcome.status === 'updated').length, 15, 'no row reported written that the refused batch did not keep');
	});

	it('dry run sends one read-only request per batch', async () => {
		const double = crmServer(160, (ordinal) => (ordinal % 2 === 0 ? 'unchanged' : 'updated'));
		const target = new SqlServerUpsertTarget(asProductionTransport(double, settings));
		const outcomes = await target.upsert(companyPlan, companies(10), { dryRun: true });
		assert.equal(double.roundTrips, 2);
		assert.doesNotMatch(double.requests[1].text, /MERGE|BEGIN TRANSACTION/);
		assert.deepEqual(outcomes.slice(0, 2).map((outcome) => outcome.status), ['unchanged', 'updated']);
	});

	it('deletes in one request with the "set columns" values as typed parameters; ignoring sends nothing', async () => {
		const double = crmServer(160, () => 'deleted');
		const target = new SqlServerUpsertTarget(asProductionTransport(double, settings));
		const mark = planDelete(COMPANY_CATALOG, companyPlan.matchColumns, 'markDeleted', [{ column: 'IsActive', value: '0' }, { column: 'DeletedAt', value: 'now' }]);
		const outcomes = await target.delete(mark, [{ ordinal: 0, key: [1] }, { ordinal: 1, key: [2] }], { dryRun: false });
		assert.deepEqual(outcomes.map((outcome) => outcome.status), ['deleted', 'deleted']);
		const write = double.requests[1];
		assert.deepEqual(write.parameters.map((parameter) => parameter.name), ['rows', 'set0']);
		assert.match(write.text, /UPDATE t SET t\.\[IsActive\] = @set0, t\.\[DeletedAt\] = SYSUTCDATETIME\(\)/);
		const before = double.roundTrips;
		const ignored = await target.delete(planDelete(COMPANY_CATALOG, companyPlan.matchColumns, 'ignore', []), [{ ordinal: 5, key: [1] }], { dryRun: false });
		assert.deepEqual(ignored, [{ ordinal: 5, status: 'ignored' }]);
		assert.equal(double.roundTrips, before);
	});
});
