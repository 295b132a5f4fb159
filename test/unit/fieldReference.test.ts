import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { columnValuesOf, fieldReferenceOf, literalOf, mappedValuesOf, mappingEntriesFor, mappingSources, nodeFieldReferenceOf } from '../../nodes/shared/core/fieldReference';
import { fieldForColumn } from '../../nodes/shared/core/mapping';

describe('CRM mapping: plain field references are read from the item', () => {
	it('recognises what drag and drop writes, with either quoting, and nothing more', () => {
		assert.equal(fieldReferenceOf('={{ $json.CustomerNo }}'), 'CustomerNo');
		assert.equal(fieldReferenceOf('={{$json.Name}}'), 'Name');
		assert.equal(fieldReferenceOf("={{ $json['Post code'] }}"), 'Post code');
		assert.equal(fieldReferenceOf('={{ $json["Navn"] }}'), 'Navn');
		for (const other of [
			'={{ $json.Name.trim() }}',
			'={{ $json.a.b }}',
			'={{ $json.Name }} AS',
			'={{ $json.Active ? 1 : 0 }}',
			"={{ $('Read customers').item.json.Name }}",
			'{{ $json.Name }}',
			'Oslo',
			42,
			null,
		]) {
			assert.equal(fieldReferenceOf(other), undefined, String(other));
		}
	});

	it('reads literal expressions as the values n8n gives them, and nothing that computes', () => {
		assert.deepEqual(literalOf('={{ null }}'), { constant: null });
		assert.deepEqual(literalOf('={{true}}'), { constant: true });
		assert.deepEqual(literalOf('={{ false }}'), { constant: false });
		assert.deepEqual(literalOf('={{ -12.5 }}'), { constant: -12.5 });
		assert.deepEqual(literalOf("={{ 'Oslo' }}"), { constant: 'Oslo' });
		assert.deepEqual(literalOf('={{ "" }}'), { constant: '' });
		for (const other of ['={{ 1 + 1 }}', '={{ $now }}', "={{ 'a\\'b' }}", '={{ nul }}', 'null', '={{ 1e3 }}', null]) {
			assert.equal(literalOf(other), undefined, String(other));
		}
	});

	it('sends only the computed columns to n8n: every other column is a plain reference or a constant', () => {
		assert.deepEqual(
			mappingSources({
				CustomerNo: '={{ $json.CustomerNo }}',
				IsActive: '={{ $json.Active }}',
				DeletedAt: '={{ null }}',
				Name: '={{ $json.Name.toUpperCase() }}',
				City: 'Oslo',
				Amount: 12.5,
				Note: '=Kunde {{ $json.CustomerNo }}',
				Tags: ['={{ $json.City }}'],
			}),
			[
				{ column: 'CustomerNo', source: { field: 'CustomerNo' } },
				{ column: 'IsActive', source: { field: 'Active' } },
				{ column: 'DeletedAt', source: { constant: null } },
				{ column: 'Name', source: { computed: true } },
				{ column: 'City', source: { constant: 'Oslo' } },
				{ column: 'Amount', source: { constant: 12.5 } },
				{ column: 'Note', source: { computed: true } },
				{ column: 'Tags', source: { computed: true } },
			],
		);
	});

	it('gives what n8n resolves: the value itself, null as null, a missing or inherited field as undefined, literals as written, computed columns from n8n alone', () => {
		const item = { CustomerNo: 7, Name: 'Kunde 7 AS', OrgNo: null, Active: false };
		const mapping = mappingSources({
			CustomerNo: '={{ $json.CustomerNo }}',
			Name: '={{ $json.Name }}',
			OrgNo: '={{ $json.OrgNo }}',
			IsActive: '={{ $json.Active }}',
			Email: '={{ $json.Email }}',
			Odd: '={{ $json.constructor }}',
			DeletedAt: '={{ null }}',
			City: '={{ $json.City ?? "Oslo" }}',
		});
		const asked: string[] = [];
		const values = mappedValuesOf(mapping, item, (column) => {
			asked.push(column);
			return `computed ${column}`;
		});
		assert.deepEqual(values, { CustomerNo: 7, Name: 'Kunde 7 AS', OrgNo: null, IsActive: false, Email: undefined, Odd: undefined, DeletedAt: null, City: 'computed City' });
		assert.deepEqual(asked, ['City']);
	});

	describe('each column read straight from the item, its mapping entry found once per plan', () => {
		const mapping = mappingSources({
			customerno: '={{ $json.No }}',
			CustomerNo: '={{ $json.CustomerNo }}',
			NAME: '={{ $json.Name.trim() }}',
			City: 'Oslo',
			Email: '={{ $json.Email }}',
		});
		const columns = ['CustomerNo', 'CUSTOMERNO', 'Name', 'City', 'Email', 'Phone'];

		it('takes the entry named exactly like the column, else the first named like it but for case, else none', () => {
			assert.deepEqual(mappingEntriesFor(mapping, columns), [mapping[1], mapping[0], mapping[2], mapping[3], mapping[4], undefined]);
		});

		it('reads what the mapped values would hold for the column: a field, a constant, n8n\'s value asked by the mapping\'s name, undefined for a missing field', () => {
			const item = { No: 1, CustomerNo: 7, Name: ' Acme ' };
			const asked: string[] = [];
			const values = columnValuesOf(mappingEntriesFor(mapping, columns), item, (column) => {
				asked.push(column);
				return `computed ${column}`;
			});
			assert.deepEqual(values, [7, 1, 'computed NAME', 'Oslo', undefined, undefined]);
			assert.deepEqual(asked, ['NAME']);
			const mapped = mappedValuesOf(mapping, item, (column) => `computed ${column}`);
			assert.deepEqual(
				values,
				columns.map((column) => fieldForColumn(mapped, column)),
			);
		});
	});
});

describe('Parameters that name another node\'s field', () => {
	it('recognise first() and item with either quoting, and nothing that computes', () => {
		assert.deepEqual(nodeFieldReferenceOf("={{ $('When called for one batch').first().json.batchSize }}"), { node: 'When called for one batch', item: 'first', field: 'batchSize' });
		assert.deepEqual(nodeFieldReferenceOf('={{$("Get watermark").item.json.token}}'), { node: 'Get watermark', item: 'paired', field: 'token' });
		for (const computed of [
			"={{ $('Settings').first().json.batchSize + 1 }}",
			"={{ $('Settings').last().json.batchSize }}",
			"={{ $('Settings').first().json.totals.read }}",
			"={{ $('Settings').all()[0].json.batchSize }}",
			"={{ $('Settings').first().json['batchSize'] }}",
			"$('Settings').first().json.batchSize",
			"={{ $json.batchSize }}",
			4000,
		]) {
			assert.equal(nodeFieldReferenceOf(computed), undefined, String(computed));
		}
	});
});
