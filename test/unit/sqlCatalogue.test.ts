import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { DESCRIBE_TABLE_QUERY, UnknownTableError, columnNamed, describeTable } from '../../nodes/shared/catalog';
import { parseQualifiedName, quoteIdentifier, quoteQualifiedName } from '../../nodes/shared/core/identifiers';
import { sqlTypeOfColumn, sqlTypeText } from '../../nodes/shared/core/sqlTypes';
import { RecordingSqlTransport, resultOf } from '../support/recordingTransport';

describe('identifiers', () => {
	it('bracket-quotes and doubles a closing bracket, so a name cannot end the quoting', () => {
		assert.equal(quoteIdentifier('Customers'), '[Customers]');
		assert.equal(quoteIdentifier('x]; DROP TABLE t; --'), '[x]]; DROP TABLE t; --]');
	});

	it('refuses an empty or over-long name', () => {
		assert.throws(() => quoteIdentifier(''), /not a valid SQL Server name/);
		assert.throws(() => quoteIdentifier('x'.repeat(129)), /not a valid SQL Server name/);
	});

	it('reads table names as the editor gives them', () => {
		assert.deepEqual(parseQualifiedName('Customers'), { schema: 'dbo', name: 'Customers' });
		assert.deepEqual(parseQualifiedName('sales.Orders'), { schema: 'sales', name: 'Orders' });
		assert.deepEqual(parseQualifiedName('[my schema].[Order.Lines]'), { schema: 'my schema', name: 'Order.Lines' });
		assert.deepEqual(parseQualifiedName('[a]]b].c'), { schema: 'a]b', name: 'c' });
		assert.equal(quoteQualifiedName(parseQualifiedName('[a]]b].c')), '[a]]b].[c]');
	});

	it('refuses what is not a table name', () => {
		assert.throws(() => parseQualifiedName('a.b.c'), /schema\.table/);
		assert.throws(() => parseQualifiedName('[abc'), /unclosed/);
		assert.throws(() => parseQualifiedName('[a]x'), /schema\.table/);
	});
});

describe('SQL types of columns', () => {
	const column = (typeName: string, maxLength = 0, precision = 0, scale = 0) => ({ typeName, maxLength, precision, scale });

	it('types a parameter exactly as the column it is compared with', () => {
		assert.deepEqual(sqlTypeOfColumn(column('datetime')), { name: 'datetime' });
		assert.deepEqual(sqlTypeOfColumn(column('datetime2', 8, 27, 7)), { name: 'datetime2', scale: 7 });
		assert.deepEqual(sqlTypeOfColumn(column('datetime2', 6, 23, 3)), { name: 'datetime2', scale: 3 });
		assert.deepEqual(sqlTypeOfColumn(column('nvarchar', 200)), { name: 'nvarchar', length: 100 });
		assert.deepEqual(sqlTypeOfColumn(column('nvarchar', -1)), { name: 'nvarchar', length: -1 });
		assert.deepEqual(sqlTypeOfColumn(column('varchar', 20)), { name: 'varchar', length: 20 });
		assert.deepEqual(sqlTypeOfColumn(column('decimal', 9, 18, 2)), { name: 'decimal', precision: 18, scale: 2 });
		assert.deepEqual(sqlTypeOfColumn(column('timestamp', 8)), { name: 'rowversion', length: 8 });
		assert.equal(sqlTypeOfColumn(column('xml', -1)), undefined);
	});

	it('spells types for CONVERT and OPENJSON', () => {
		assert.equal(sqlTypeText({ name: 'nvarchar', length: -1 }), 'nvarchar(max)');
		assert.equal(sqlTypeText({ name: 'datetime2', scale: 3 }), 'datetime2(3)');
		assert.equal(sqlTypeText({ name: 'decimal', precision: 18, scale: 2 }), 'decimal(18,2)');
		assert.equal(sqlTypeText({ name: 'rowversion', length: 8 }), 'binary(8)');
		assert.equal(sqlTypeText({ name: 'int' }), 'int');
	});
});

describe('catalogue', () => {
	const customers = resultOf(
		[{ kind: 'table', changeTracking: 0 }],
		[
			{ name: 'CustomerNo', typeName: 'int', maxLength: 4, precision: 10, scale: 0, nullable: false, isIdentity: false, isComputed: false, hasDefault: 0, primaryKeyOrdinal: 1 },
			{ name: 'Name', typeName: 'nvarchar', maxLength: 200, precision: 0, scale: 0, nullable: false, isIdentity: false, isComputed: false, hasDefault: 0, primaryKeyOrdinal: 0 },
			{ name: 'ChangedAt', typeName: 'datetime2', maxLength: 8, precision: 27, scale: 7, nullable: true, isIdentity: false, isComputed: false, hasDefault: 0, primaryKeyOrdinal: 0 },
		],
		[{ indexId: 1, columnName: 'CustomerNo' }],
	);

	it('describes a table with parameter types, key and unique keys, names passed as parameters', async () => {
		const double = new RecordingSqlTransport(() => customers);
		const table = await describeTable(double, { schema: 'dbo', name: "Customers'; --" });
		assert.deepEqual(table.primaryKey, ['CustomerNo']);
		assert.deepEqual(table.uniqueKeys, [['CustomerNo']]);
		assert.deepEqual(columnNamed(table, 'changedat').sqlType, { name: 'datetime2', scale: 7 });
		assert.equal(double.requests[0].text, DESCRIBE_TABLE_QUERY);
		assert.deepEqual(
			double.requests[0].parameters.map((p) => [p.name, p.value]),
			[['schema', 'dbo'], ['table', "Customers'; --"]],
		);
	});

	it('names an unknown table and an unknown column', async () => {
		const unknown = new RecordingSqlTransport(() => resultOf([], [], []));
		await assert.rejects(describeTable(unknown, { schema: 'dbo', name: 'Nope' }), (error: unknown) => {
			assert.ok(error instanceof UnknownTableError);
			assert.match(error.message, /dbo\.Nope does not exist/);
			return true;
		});
		const table = await describeTable(new RecordingSqlTransport(() => customers), { schema: 'dbo', name: 'Customers' });
		assert.throws(() => columnNamed(table, 'Missing'), /Column "Missing" does not exist in dbo\.Customers/);
	});
});
