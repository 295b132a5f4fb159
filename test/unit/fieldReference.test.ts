import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { fieldReferenceOf, plainFieldReferences, valuesByReference } from '../../nodes/shared/core/fieldReference';

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

	it('takes the shortcut only when every mapped value is a plain reference', () => {
		assert.deepEqual(plainFieldReferences({ CustomerNo: '={{ $json.CustomerNo }}', IsActive: '={{ $json.Active }}' }), { CustomerNo: 'CustomerNo', IsActive: 'Active' });
		assert.equal(plainFieldReferences({ CustomerNo: '={{ $json.CustomerNo }}', Name: '={{ $json.Name.toUpperCase() }}' }), undefined);
		assert.equal(plainFieldReferences({ CustomerNo: '={{ $json.CustomerNo }}', City: 'Oslo' }), undefined);
	});

	it('gives what n8n resolves: the value itself, null as null, a missing or inherited field as undefined', () => {
		const item = { CustomerNo: 7, Name: 'Kunde 7 AS', OrgNo: null, Active: false };
		const references = { CustomerNo: 'CustomerNo', Name: 'Name', OrgNo: 'OrgNo', IsActive: 'Active', Email: 'Email', Odd: 'constructor' };
		assert.deepEqual(valuesByReference(references, item), { CustomerNo: 7, Name: 'Kunde 7 AS', OrgNo: null, IsActive: false, Email: undefined, Odd: undefined });
	});
});
