/**
 * What the pool's executions know of a database's schema: asked once and shared, asked again when old, when it
 * failed, and after an error that means the schema changed, so a stale answer is never served twice.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SqlServerChangeSource } from '../../nodes/Contracting/stores/sqlServerChangeSource';
import { SqlServerUpsertTarget } from '../../nodes/Crm/stores/sqlServerUpsertTarget';
import { DESCRIBE_TABLE_QUERY, UnknownColumnError } from '../../nodes/shared/catalog';
import { manuallyMappedColumns } from '../../nodes/shared/core/mapping';
import { planUpsert } from '../../nodes/shared/core/upsertPlan';
import type { UpsertRow } from '../../nodes/shared/core/upsertPlan';
import { COMPATIBILITY_LEVEL_QUERY } from '../../nodes/shared/core/upsertSql';
import { SCHEMA_ANSWER_MAX_AGE_MS, SchemaCache, schemaCacheOf } from '../../nodes/shared/schemaCache';
import { connectionSettingsFromCredentials } from '../../nodes/shared/transport/connectionSettings';
import type { SqlResult } from '../../nodes/shared/transport/types';
import { catalogueResult } from '../support/catalogueAnswer';
import type { TableDefinition } from '../support/memory/memoryChangeSource';
import { RecordingSqlTransport, asProductionTransport, resultOf, sqlServerError } from '../support/recordingTransport';

const settings = connectionSettingsFromCredentials({ server: 'crm.example', database: 'CRM', user: 'sync', password: 'secret' });

const COMPANY_WITH_PHONE: TableDefinition = {
	name: 'dbo.Company',
	columns: [
		{ name: 'CustomerNo', type: 'int', nullable: false },
		{ name: 'Name', type: 'nvarchar(100)', nullable: false },
		{ name: 'Phone', type: 'varchar(30)' },
	],
	primaryKey: ['CustomerNo'],
};
const COMPANY_WITHOUT_PHONE: TableDefinition = { ...COMPANY_WITH_PHONE, columns: COMPANY_WITH_PHONE.columns.filter((column) => column.name !== 'Phone') };

const rows: UpsertRow[] = [{ ordinal: 0, values: [1, 'Kunde 1 AS', '22 33 44 55'], lookupKeys: [] }];

/** A CRM whose dbo.Company is `table()` at the moment it is asked; a write naming a column it lacks fails as SQL Server fails it. */
function crm(table: () => TableDefinition): RecordingSqlTransport {
	return new RecordingSqlTransport((request): SqlResult => {
		if (request.text === DESCRIBE_TABLE_QUERY) return catalogueResult(table());
		if (request.text === COMPATIBILITY_LEVEL_QUERY) return resultOf([{ compatibilityLevel: 150 }]);
		if (!table().columns.some((column) => column.name === 'Phone') && request.text.includes('[Phone]')) {
			throw sqlServerError({ number: 207, message: "Invalid column name 'Phone'." });
		}
		return resultOf([{ row: 0, outcome: 'inserted', missingLookup: null }]);
	});
}

describe('SchemaCache', () => {
	it('asks once, shares the answer, and asks again once it is older than the maximum age', async () => {
		let clock = 0;
		let asked = 0;
		const cache = new SchemaCache(SCHEMA_ANSWER_MAX_AGE_MS, () => clock);
		const ask = async () => ++asked;
		assert.deepEqual([await cache.get('k', ask), await cache.get('k', ask)], [1, 1]);
		clock += SCHEMA_ANSWER_MAX_AGE_MS - 1;
		assert.equal(await cache.get('k', ask), 1);
		clock += 1;
		assert.equal(await cache.get('k', ask), 2, 'asked again at the maximum age');
	});

	it('keeps no failed answer, and asks again after forget', async () => {
		const cache = new SchemaCache();
		await assert.rejects(cache.get('k', async () => Promise.reject(new Error('login failed'))), /login failed/);
		assert.equal(await cache.get('k', async () => 'second'), 'second');
		cache.forget('k');
		assert.equal(await cache.get('k', async () => 'third'), 'third');
		cache.remember('k', 'learnt');
		assert.equal(await cache.get('k', async () => 'not asked'), 'learnt');
	});

	it('is one per pool and per transport factory: a swapped transport (another server) starts empty', () => {
		const production = () => asProductionTransport(new RecordingSqlTransport(), settings);
		const swapped = () => asProductionTransport(new RecordingSqlTransport(), settings);
		const other = connectionSettingsFromCredentials({ server: 'crm.example', database: 'CRM2', user: 'sync', password: 'secret' });
		assert.equal(schemaCacheOf(production, settings), schemaCacheOf(production, settings));
		assert.notEqual(schemaCacheOf(production, settings), schemaCacheOf(production, other));
		assert.notEqual(schemaCacheOf(production, settings), schemaCacheOf(swapped, settings));
	});
});

describe('the catalogue shared across executions', () => {
	it('CRM: the second execution writes in one round trip (no catalogue, no compatibility level); cold it took three', async () => {
		const double = crm(() => COMPANY_WITH_PHONE);
		const schema = new SchemaCache();
		const execution = async () => {
			const target = new SqlServerUpsertTarget(asProductionTransport(double, settings), schema);
			const table = await target.describe({ schema: 'dbo', name: 'Company' });
			const plan = planUpsert(table, manuallyMappedColumns(table, ['CustomerNo', 'Name', 'Phone']), ['CustomerNo'], []);
			await target.upsert(plan, rows, { dryRun: false });
		};
		await execution();
		assert.equal(double.roundTrips, 3, 'cold: catalogue, compatibility level, MERGE');
		await execution();
		assert.equal(double.roundTrips, 4, 'warm: the MERGE alone');
	});

	it('CRM: a column dropped between two batches gives the clear "does not exist" error on the next batch, not SQL Server\'s', async () => {
		let table = COMPANY_WITH_PHONE;
		const double = crm(() => table);
		const schema = new SchemaCache();
		const first = new SqlServerUpsertTarget(asProductionTransport(double, settings), schema);
		const described = await first.describe({ schema: 'dbo', name: 'Company' });
		const plan = planUpsert(described, manuallyMappedColumns(described, ['CustomerNo', 'Name', 'Phone']), ['CustomerNo'], []);
		await first.upsert(plan, rows, { dryRun: false });
		table = COMPANY_WITHOUT_PHONE;
		const next = new SqlServerUpsertTarget(asProductionTransport(double, settings), schema);
		const stale = await next.describe({ schema: 'dbo', name: 'Company' });
		assert.ok(stale.columns.some((column) => column.name === 'Phone'), 'the next batch starts from the answer the pool has');
		const error = await next.upsert(planUpsert(stale, manuallyMappedColumns(stale, ['CustomerNo', 'Name', 'Phone']), ['CustomerNo'], []), rows, { dryRun: false }).catch((caught: unknown) => caught);
		assert.ok(error instanceof UnknownColumnError, String(error));
		assert.equal(error.message, 'Column "Phone" does not exist in dbo.Company');
		assert.match(error.advice, /refresh the column list/);
		const fresh = await new SqlServerUpsertTarget(asProductionTransport(double, settings), schema).describe({ schema: 'dbo', name: 'Company' });
		assert.deepEqual(fresh.columns.map((column) => column.name), ['CustomerNo', 'Name'], 'and the batch after it is planned from the table as it is now');
	});

	it('Contracting: the second execution reads the table from the pool\'s answer, without a catalogue round trip', async () => {
		const double = new RecordingSqlTransport(() => catalogueResult(COMPANY_WITH_PHONE));
		const schema = new SchemaCache();
		for (let execution = 0; execution < 3; execution++) {
			await new SqlServerChangeSource(asProductionTransport(double, settings), schema).describeTable({ schema: 'dbo', name: 'Company' });
		}
		assert.equal(double.roundTrips, 1);
	});
});
