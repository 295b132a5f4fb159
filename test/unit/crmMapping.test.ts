import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { UnknownColumnError } from '../../nodes/shared/catalog';
import type { CatalogTable } from '../../nodes/shared/catalog';
import {
	UnwritableColumnError,
	autoMappedColumns,
	defaultMatchColumns,
	fieldsForColumns,
	manuallyMappedColumns,
	resourceMapperFields,
} from '../../nodes/shared/core/mapping';
import {
	UpsertConfigurationError,
	planDelete,
	planUpsert,
	prepareDeleteRow,
	prepareUpsertRow,
	resolveLookup,
	rowFailureMessage,
} from '../../nodes/shared/core/upsertPlan';
import { COMPANY_CATALOG, ORDER_COMPANY_LOOKUP, SALES_ORDER_CATALOG, catalogTable } from '../contract/upsertTarget.contract';

const names = (columns: Array<{ name: string }>) => columns.map((column) => column.name);

function withColumn(table: CatalogTable, name: string): CatalogTable {
	const extra = catalogTable(table.name, { [name]: { typeName: 'nvarchar', maxLength: 100 } }, []).columns[0];
	return { ...table, columns: [...table.columns, extra] };
}

describe('the field mapping, from the catalogue', () => {
	it('offers writable columns with their types; required = NOT NULL without default; matchable = in a writable unique key', () => {
		const fields = resourceMapperFields(COMPANY_CATALOG);
		assert.equal(fields.some((field) => field.id === 'CompanyId'), false, 'an IDENTITY column is not offered');
		const byId = Object.fromEntries(fields.map((field) => [field.id, field]));
		assert.deepEqual(
			[byId.CustomerNo.type, byId.Name.type, byId.IsActive.type, byId.DeletedAt.type],
			['number', 'string', 'boolean', 'dateTime'],
		);
		assert.deepEqual(fields.filter((field) => field.required).map((field) => field.id), ['CustomerNo', 'Name']);
		assert.deepEqual(fields.filter((field) => field.canBeUsedToMatch).map((field) => field.id), ['CustomerNo']);
		assert.deepEqual(fields.filter((field) => field.defaultMatch).map((field) => field.id), ['CustomerNo']);
	});

	it('matches by default on the primary key when it is writable, else on the natural key', () => {
		assert.deepEqual(defaultMatchColumns(SALES_ORDER_CATALOG), ['OrderNo']);
		const withNaturalPrimaryKey = catalogTable(
			{ schema: 'dbo', name: 'Code' },
			{ Code: { typeName: 'varchar', maxLength: 10, nullable: false, primaryKey: true }, Other: { typeName: 'int', nullable: false } },
			[['Code'], ['Other']],
		);
		assert.deepEqual(defaultMatchColumns(withNaturalPrimaryKey), ['Code']);
	});

	it('maps automatically by top-level field name, case-insensitively, never _sync and never an identity', () => {
		const items = [{ customerno: 1, Name: 'Acme', CompanyId: 5, Active: true, _sync: {} }, { City: 'Oslo' }];
		assert.deepEqual(names(autoMappedColumns(COMPANY_CATALOG, items)), ['CustomerNo', 'Name', 'City']);
	});

	it('keeps a saved manual mapping working after a column is added to the table: the new column is left alone', () => {
		const grown = withColumn(COMPANY_CATALOG, 'Segment');
		assert.deepEqual(names(manuallyMappedColumns(grown, ['Name', 'CustomerNo'])), ['CustomerNo', 'Name']);
	});

	it('names a mapped column that the table no longer has', () => {
		assert.throws(
			() => manuallyMappedColumns(COMPANY_CATALOG, ['CustomerNo', 'Fax']),
			(error: unknown) => error instanceof UnknownColumnError && /Column "Fax" does not exist in dbo.Company/.test(error.message),
		);
	});

	it('refuses to write an identity column, naming it', () => {
		assert.throws(() => manuallyMappedColumns(COMPANY_CATALOG, ['CompanyId']), (error: unknown) => error instanceof UnwritableColumnError && /"CompanyId".*IDENTITY/.test(error.message));
	});
});

describe('the upsert plan', () => {
	const mapped = (columns: string[]) => manuallyMappedColumns(COMPANY_CATALOG, columns);

	it('refuses columns to match on that are not a unique key, naming the column', () => {
		assert.throws(
			() => planUpsert(COMPANY_CATALOG, mapped(['CustomerNo', 'Name', 'City']), ['City'], []),
			(error: unknown) => error instanceof UpsertConfigurationError && error.column === 'City' && /"City" is not a unique key of dbo.Company/.test(error.message),
		);
	});

	it('accepts a superset of a unique key and refuses a match column with no mapped value', () => {
		assert.deepEqual(names(planUpsert(COMPANY_CATALOG, mapped(['CustomerNo', 'Name']), ['CustomerNo', 'Name'], []).matchColumns), ['CustomerNo', 'Name']);
		assert.throws(() => planUpsert(COMPANY_CATALOG, mapped(['Name']), ['CustomerNo'], []), /"CustomerNo" is used to match rows .* but no value is mapped/);
	});

	it('refuses a mapping that leaves out a NOT NULL column without default, naming it', () => {
		assert.throws(
			() => planUpsert(COMPANY_CATALOG, mapped(['CustomerNo', 'City']), ['CustomerNo'], []),
			(error: unknown) => error instanceof UpsertConfigurationError && error.column === 'Name',
		);
	});

	it('lets a lookup fill a required column, and refuses a lookup by a column that is not unique', () => {
		const lookup = resolveLookup(SALES_ORDER_CATALOG, ORDER_COMPANY_LOOKUP, COMPANY_CATALOG);
		assert.equal(lookup.value.name, 'CompanyId', 'the primary key of dbo.Company by default');
		const plan = planUpsert(SALES_ORDER_CATALOG, manuallyMappedColumns(SALES_ORDER_CATALOG, ['OrderNo', 'CompanyId', 'Amount']), ['OrderNo'], [lookup]);
		assert.deepEqual(names(plan.columns), ['OrderNo', 'Amount'], 'the lookup wins over a mapping of the same column');
		assert.throws(() => resolveLookup(SALES_ORDER_CATALOG, { ...ORDER_COMPANY_LOOKUP, keyColumn: 'City' }, COMPANY_CATALOG), /"City" is not unique in dbo.Company/);
	});

	it('plans "set columns" deletes with typed values and "now", refusing what cannot work', () => {
		const match = planUpsert(COMPANY_CATALOG, mapped(['CustomerNo', 'Name']), ['CustomerNo'], []).matchColumns;
		const plan = planDelete(COMPANY_CATALOG, match, 'markDeleted', [{ column: 'IsActive', value: '0' }, { column: 'DeletedAt', value: 'NOW' }]);
		assert.equal(plan.handling.kind, 'markDeleted');
		if (plan.handling.kind === 'markDeleted') {
			assert.deepEqual(plan.handling.assignments.map((assignment) => [assignment.column.name, assignment.value, assignment.isNow]), [
				['IsActive', false, false],
				['DeletedAt', 'now', true],
			]);
		}
		assert.throws(() => planDelete(COMPANY_CATALOG, match, 'markDeleted', []), /no column to set/);
		assert.throws(() => planDelete(COMPANY_CATALOG, match, 'markDeleted', [{ column: 'Name', value: 'now' }]), /"Name" is nvarchar\(100\), not a date/);
		assert.throws(() => planDelete(COMPANY_CATALOG, match, 'markDeleted', [{ column: 'IsActive', value: 'maybe' }]), /"IsActive" cannot be set on deleted rows: "maybe" is not a yes\/no value/);
		assert.throws(() => planDelete(COMPANY_CATALOG, match, 'markDeleted', [{ column: 'IsActive', value: 'null' }]), /does not take NULL/);
		assert.throws(() => planDelete(COMPANY_CATALOG, match, 'markDeleted', [{ column: 'Gone', value: '1' }]), UnknownColumnError);
	});
});

describe('preparing one item', () => {
	const plan = planUpsert(COMPANY_CATALOG, manuallyMappedColumns(COMPANY_CATALOG, ['CustomerNo', 'Name', 'PostCode']), ['CustomerNo'], []);

	it('converts the mapped values and keys the row by its match columns', () => {
		const prepared = prepareUpsertRow(plan, 4, fieldsForColumns({ CustomerNo: '17', Name: 'Acme', PostCode: 5003 }, plan.columns), {});
		assert.deepEqual(prepared, { ok: true, row: { ordinal: 4, values: [17, 'Acme', '5003'], lookupKeys: [] }, key: { CustomerNo: 17 } });
	});

	it('fails a NULL for a NOT NULL column, a value that does not convert, and a missing match value, naming column and row', () => {
		const cases: Array<[Record<string, unknown>, RegExp]> = [
			[{ CustomerNo: 17, Name: null }, /^Row CustomerNo 17: Column "Name" \(nvarchar\(100\)\): needs a value \(NOT NULL\)/],
			[{ CustomerNo: 17, Name: 'Acme', PostCode: '12345678901' }, /^Row CustomerNo 17: Column "PostCode" \(varchar\(10\)\): "12345678901" is 11 characters/],
			[{ CustomerNo: 'x17', Name: 'Acme' }, /^Row CustomerNo "x17": Column "CustomerNo" \(int\): "x17" is not a whole number/],
			[{ Name: 'Acme' }, /^Row CustomerNo \(none\): Column "CustomerNo" \(int\): has no value, so the row cannot be matched/],
		];
		for (const [values, message] of cases) {
			const prepared = prepareUpsertRow(plan, 0, fieldsForColumns(values, plan.columns), {});
			assert.equal(prepared.ok, false);
			if (!prepared.ok) assert.match(rowFailureMessage(prepared.key, prepared.error), message);
		}
	});

	it('needs a lookup key when the looked-up column is NOT NULL', () => {
		const lookup = resolveLookup(SALES_ORDER_CATALOG, ORDER_COMPANY_LOOKUP, COMPANY_CATALOG);
		const orders = planUpsert(SALES_ORDER_CATALOG, manuallyMappedColumns(SALES_ORDER_CATALOG, ['OrderNo']), ['OrderNo'], [lookup]);
		assert.deepEqual(prepareUpsertRow(orders, 1, [5], { OrderNo: 5, CustomerNo: '10' }), { ok: true, row: { ordinal: 1, values: [5], lookupKeys: [10] }, key: { OrderNo: 5 } });
		const missing = prepareUpsertRow(orders, 1, [5], { OrderNo: 5 });
		assert.equal(missing.ok, false);
		if (!missing.ok) assert.match(rowFailureMessage(missing.key, missing.error), /^Row OrderNo 5: Column "CompanyId" \(int\): needs a value \(NOT NULL\) but the item has no "CustomerNo" to look it up by in dbo.Company/);
	});

	it('takes a deleted row\'s key from _sync.key when the item carries nothing else', () => {
		const deletePlan = planDelete(COMPANY_CATALOG, plan.matchColumns, 'delete', []);
		assert.deepEqual(prepareDeleteRow(deletePlan, 2, {}, { CustomerNo: 9 }), { ok: true, row: { ordinal: 2, key: [9] }, key: { CustomerNo: 9 } });
		assert.equal(prepareDeleteRow(deletePlan, 2, {}, {}).ok, false);
	});
});
