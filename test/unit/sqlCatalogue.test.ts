import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { DESCRIBE_TABLE_QUERY, UnknownTableError, columnNamed, describeTable } from '../../nodes/shared/catalog';
import { parseQualifiedName, quoteIdentifier, quoteQualifiedName } from '../../nodes/shared/core/identifiers';
import { resourceMapperFields } from '../../nodes/shared/core/mapping';
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

	it('takes only unique indexes that hold across the whole table as keys: not filtered, not disabled (issue 11, item 8)', () => {
		const uniqueIndexes = DESCRIBE_TABLE_QUERY.split(';').find((statement) => statement.includes('i.is_unique = 1')) ?? '';
		assert.match(uniqueIndexes, /i\.is_unique = 1 AND i\.has_filter = 0 AND i\.is_disabled = 0 AND i\.is_hypothetical = 0/);
	});

	it('lists a CLR column (geography, hierarchyid) as not mappable with the reason, in the catalogue and the CRM mapper (issue 11, item 10)', async () => {
		assert.ok(!/JOIN sys\.types t ON t\.user_type_id = c\.system_type_id AND/.test(DESCRIBE_TABLE_QUERY), 'no join that drops CLR columns');
		assert.match(DESCRIBE_TABLE_QUERY, /JOIN sys\.types ut ON ut\.user_type_id = c\.user_type_id\s+LEFT JOIN sys\.types bt ON bt\.user_type_id = c\.system_type_id/);
		const [objects, columns, keys] = customers.recordsets;
		const site = { name: 'Site', typeName: 'geography', isClrType: true, maxLength: -1, precision: 0, scale: 0, nullable: false, isIdentity: false, isComputed: false, hasDefault: 0, primaryKeyOrdinal: 0 };
		const table = await describeTable(new RecordingSqlTransport(() => resultOf(objects, [...columns, site], keys)), { schema: 'dbo', name: 'Customers' });
		const column = columnNamed(table, 'Site');
		assert.equal(column.sqlType, undefined);
		assert.match(column.notMappable ?? '', /not mappable: a CLR type \(geography\), which this package cannot read or write/);
		assert.equal(columnNamed(table, 'Name').notMappable, undefined);
		const field = resourceMapperFields(table).find((candidate) => candidate.id === 'Site');
		assert.ok(field, 'the CRM mapper lists it');
		assert.match(field.displayName, /^Site \(not mappable: a CLR type \(geography\)/);
		assert.deepEqual([field.readOnly, field.removed, field.required, field.canBeUsedToMatch], [true, true, false, false]);
	});

	it('reads each text column\'s collation, which the CRM write declares and joins in', async () => {
		const withCollations = resultOf(
			[{ kind: 'table', changeTracking: 0 }],
			[
				{ name: 'CustomerCode', typeName: 'varchar', maxLength: 20, precision: 0, scale: 0, nullable: false, isIdentity: false, isComputed: false, collationName: 'Danish_Norwegian_CS_AS', hasDefault: 0, primaryKeyOrdinal: 1 },
				{ name: 'CustomerNo', typeName: 'int', maxLength: 4, precision: 10, scale: 0, nullable: false, isIdentity: false, isComputed: false, collationName: null, hasDefault: 0, primaryKeyOrdinal: 0 },
			],
			[{ indexId: 1, columnName: 'CustomerCode' }],
		);
		const table = await describeTable(new RecordingSqlTransport(() => withCollations), { schema: 'dbo', name: 'Company' });
		assert.equal(columnNamed(table, 'CustomerCode').collation, 'Danish_Norwegian_CS_AS');
		assert.equal(columnNamed(table, 'CustomerNo').collation, undefined);
		assert.match(DESCRIBE_TABLE_QUERY, /c\.collation_name AS collationName/);
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
