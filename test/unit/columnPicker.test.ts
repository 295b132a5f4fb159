/** The names the pickers of version 1.1 hold, read the same as the plain names version 1 saved. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { pickedName, pickedNames } from '../../nodes/shared/columnPicker';

describe('pickedName', () => {
	it('reads a plain name (version 1, or an expression) and a picker\'s value, from the list or by name', () => {
		assert.equal(pickedName('CustomerNo'), 'CustomerNo');
		assert.equal(pickedName({ __rl: true, mode: 'name', value: 'CustomerNo' }), 'CustomerNo');
		assert.equal(pickedName({ __rl: true, mode: 'list', value: '[dbo].[Company]', cachedResultName: 'dbo.Company' }), '[dbo].[Company]');
	});

	it('reads nothing chosen as an empty name, which the node then reports', () => {
		for (const nothing of [undefined, null, '', { __rl: true, mode: 'list', value: '' }]) assert.equal(pickedName(nothing), '');
	});

	it('keeps a name exactly as typed, so the catalogue check judges it as before', () => {
		assert.equal(pickedName({ __rl: true, mode: 'name', value: 'Customer No ' }), 'Customer No ');
	});
});

describe('pickedNames', () => {
	it('reads version 1\'s list of names and the rows of pickers alike, in order', () => {
		assert.deepEqual(pickedNames(['CustomerNo', 'Branch']), ['CustomerNo', 'Branch']);
		const rows = { column: [{ column: { __rl: true, mode: 'name', value: 'CustomerNo' } }, { column: { __rl: true, mode: 'list', value: 'Branch' } }] };
		assert.deepEqual(pickedNames(rows), ['CustomerNo', 'Branch']);
	});

	it('reads no rows, and a parameter never set, as no names (the primary key, or all columns)', () => {
		for (const nothing of [{}, [], undefined, null]) assert.deepEqual(pickedNames(nothing), []);
	});
});
