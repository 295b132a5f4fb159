import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { directMapping, fieldReferenceOf, literalOf, valuesDirectly } from '../../nodes/shared/core/fieldReference';

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

	it('takes the shortcut only when every mapped value is a plain reference or a literal', () => {
		assert.deepEqual(directMapping({ CustomerNo: '={{ $json.CustomerNo }}', IsActive: '={{ $json.Active }}', DeletedAt: '={{ null }}' }), {
			CustomerNo: { field: 'CustomerNo' },
			IsActive: { field: 'Active' },
			DeletedAt: { constant: null },
		});
		assert.equal(directMapping({ CustomerNo: '={{ $json.CustomerNo }}', Name: '={{ $json.Name.toUpperCase() }}' }), undefined);
		assert.equal(directMapping({ CustomerNo: '={{ $json.CustomerNo }}', City: 'Oslo' }), undefined);
	});

	it('gives what n8n resolves: the value itself, null as null, a missing or inherited field as undefined, literals as written', () => {
		const item = { CustomerNo: 7, Name: 'Kunde 7 AS', OrgNo: null, Active: false };
		const mapping = {
			CustomerNo: { field: 'CustomerNo' },
			Name: { field: 'Name' },
			OrgNo: { field: 'OrgNo' },
			IsActive: { field: 'Active' },
			Email: { field: 'Email' },
			Odd: { field: 'constructor' },
			DeletedAt: { constant: null },
		};
		assert.deepEqual(valuesDirectly(mapping, item), { CustomerNo: 7, Name: 'Kunde 7 AS', OrgNo: null, IsActive: false, Email: undefined, Odd: undefined, DeletedAt: null });
	});
});
