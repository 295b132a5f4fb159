import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { manuallyMappedColumns } from '../../nodes/shared/core/mapping';
import { planDelete, planUpsert, resolveLookup } from '../../nodes/shared/core/upsertPlan';
import {
	MAX_PARAMETERS_PER_REQUEST,
	MAX_ROWS_PER_VALUES_CHUNK,
	assignmentParameters,
	chunked,
	deleteSourceColumns,
	deleteStatement,
	jsonRowsSource,
	rowsPerValuesChunk,
	upsertSourceColumns,
	upsertStatement,
	valuesRowsSource,
} from '../../nodes/shared/core/upsertSql';
import { COMPANY, COMPANY_CATALOG, CONTACT, CONTACT_CATALOG, ORDER_COMPANY_LOOKUP, SALES_ORDER, SALES_ORDER_CATALOG, catalogTable } from '../contract/upsertTarget.contract';

const companyPlan = planUpsert(COMPANY_CATALOG, manuallyMappedColumns(COMPANY_CATALOG, ['CustomerNo', 'Name', 'City']), ['CustomerNo'], []);
const orderPlan = planUpsert(
	SALES_ORDER_CATALOG,
	manuallyMappedColumns(SALES_ORDER_CATALOG, ['OrderNo', 'OrderDate', 'Amount']),
	['OrderNo'],
	[resolveLookup(SALES_ORDER_CATALOG, ORDER_COMPANY_LOOKUP, COMPANY_CATALOG)],
);
const squash = (text: string) => text.replace(/\s+/g, ' ');

describe('chunking under SQL Server\'s 2,100 parameters', () => {
	it('fits as many rows as the parameters allow, counting sp_executesql\'s own two', () => {
		assert.equal(rowsPerValuesChunk(3), Math.floor(2098 / 3));
		assert.equal(rowsPerValuesChunk(7), 299);
		assert.equal(rowsPerValuesChunk(10, 8), 209);
		assert.equal(rowsPerValuesChunk(2098), 1);
		assert.throws(() => rowsPerValuesChunk(2099), /2099 parameters, more than the 2100/);
		assert.throws(() => rowsPerValuesChunk(2000, 99), /2099 parameters/);
	});

	it('never lets a chunk exceed 1,000 rows, however few parameters a row has', () => {
		assert.equal(rowsPerValuesChunk(1), MAX_ROWS_PER_VALUES_CHUNK);
		assert.equal(rowsPerValuesChunk(2), MAX_ROWS_PER_VALUES_CHUNK);
		assert.equal(rowsPerValuesChunk(0), MAX_ROWS_PER_VALUES_CHUNK);
	});

	it('for every row width the parameters of a full chunk stay within the limit and one more row would not', () => {
		for (let width = 1; width <= 300; width++) {
			for (const fixed of [0, 3]) {
				const rows = rowsPerValuesChunk(width, fixed);
				assert.ok(rows * width + fixed + 2 <= MAX_PARAMETERS_PER_REQUEST, `width ${width}`);
				assert.ok(rows === MAX_ROWS_PER_VALUES_CHUNK || (rows + 1) * width + fixed + 2 > MAX_PARAMETERS_PER_REQUEST, `width ${width} leaves room`);
			}
		}
	});

	it('splits into chunks that keep every row once, in order', () => {
		const rows = Array.from({ length: 2501 }, (_, index) => index);
		const chunks = chunked(rows, 1000);
		assert.deepEqual(chunks.map((chunk) => chunk.length), [1000, 1000, 501]);
		assert.deepEqual(chunks.flat(), rows);
		assert.deepEqual(chunked(rows, Number.POSITIVE_INFINITY), [rows]);
	});
});

describe('the rows as one OPENJSON parameter', () => {
	it('sends the batch as one nvarchar(max) JSON array read with typed paths', () => {
		const source = jsonRowsSource(upsertSourceColumns(orderPlan), [
			{ ordinal: 0, values: [5, '2024-01-31', '12.50', 10] },
			{ ordinal: 1, values: [6, null, null, 11] },
		]);
		assert.equal(source.parameters.length, 1);
		assert.deepEqual(source.parameters[0].type, { name: 'nvarchar', length: -1 });
		assert.equal(source.parameters[0].value, '[[0,5,"2024-01-31","12.50",10],[1,6,null,null,11]]');
		assert.equal(source.clause, `OPENJSON(@rows) WITH ([row] int '$[0]', [c0] int '$[1]', [c1] date '$[2]', [c2] decimal(18,2) '$[3]', [k0] int '$[4]') AS j`);
	});

	it('reads text as nvarchar(max), so a value too long for its column is refused by @source instead of cut by OPENJSON', () => {
		const source = jsonRowsSource(upsertSourceColumns(companyPlan), []);
		assert.equal(source.clause, `OPENJSON(@rows) WITH ([row] int '$[0]', [c0] int '$[1]', [c1] nvarchar(max) '$[2]', [c2] nvarchar(max) '$[3]') AS j`);
		assert.match(upsertStatement(companyPlan, source, false), /\[c1\] nvarchar\(100\) NULL/);
	});
});

describe('the rows as typed VALUES parameters (compatibility level below 130)', () => {
	it('gives each value its own parameter typed by its column; dates and decimals travel as text and are converted exactly', () => {
		const source = valuesRowsSource(upsertSourceColumns(orderPlan), [
			{ ordinal: 7, values: [5, '2024-01-31', '12.50', 10] },
			{ ordinal: 9, values: [6, null, null, 11] },
		]);
		assert.equal(source.parameters.length, 8);
		assert.deepEqual(source.parameters.slice(0, 4), [
			{ name: 'p0_0', type: { name: 'int' }, value: 5 },
			{ name: 'p0_1', type: { name: 'varchar', length: 40 }, value: '2024-01-31' },
			{ name: 'p0_2', type: { name: 'varchar', length: 40 }, value: '12.50' },
			{ name: 'p0_3', type: { name: 'int' }, value: 10 },
		]);
		assert.equal(
			squash(source.clause),
			'(VALUES (7, @p0_0, CONVERT(date, @p0_1, 126), CONVERT(decimal(18,2), @p0_2), @p0_3), (9, @p1_0, CONVERT(date, @p1_1, 126), CONVERT(decimal(18,2), @p1_2), @p1_3)) AS j([row], [c0], [c1], [c2], [k0])',
		);
	});
});

describe('the upsert batch', () => {
	const source = jsonRowsSource(upsertSourceColumns(companyPlan), []);
	const text = squash(upsertStatement(companyPlan, source, false));

	it('is one transaction that rolls back whole on any error', () => {
		assert.match(text, /^SET NOCOUNT ON; SET XACT_ABORT ON; .* BEGIN TRANSACTION; .* COMMIT TRANSACTION; /);
	});

	it('keeps the transaction whole whatever a CRM trigger does: errors land in CATCH, a refusal of the rows is answered "refused" after rolling back, anything else is thrown again', () => {
		for (const statement of [text, squash(deleteStatement(planDelete(COMPANY_CATALOG, companyPlan.matchColumns, 'delete', []), source, false))]) {
			assert.match(statement, /BEGIN TRY BEGIN TRANSACTION; .* COMMIT TRANSACTION; END TRY BEGIN CATCH IF XACT_STATE\(\) <> 0 ROLLBACK TRANSACTION; /);
			assert.ok(
				statement.includes(
					'IF NOT (ERROR_NUMBER() IN (515, 547, 2601, 2627, 2628, 8152, 220, 232, 241, 242, 244, 245, 248, 517, 8114, 8115, 8672, 3609, 3616) OR ERROR_NUMBER() >= 50000) THROW; SELECT @refusedNumber = ERROR_NUMBER(), @refusedMessage = ERROR_MESSAGE(); END CATCH;',
				),
				statement,
			);
			assert.ok(statement.includes(`IF @refusedNumber IS NOT NULL SELECT CAST(NULL AS int) AS [row], 'refused' AS [outcome], @refusedNumber AS [errorNumber], @refusedMessage AS [errorMessage]; ELSE SELECT s.[row], `));
		}
	});

	it('MERGEs WITH (HOLDLOCK) on the match columns, from a typed @source', () => {
		assert.match(text, /DECLARE @source TABLE \(\[row\] int NOT NULL PRIMARY KEY, \[c0\] int NULL, \[c1\] nvarchar\(100\) NULL, \[c2\] nvarchar\(100\) NULL, \[missingLookup\] int NULL\);/);
		assert.match(text, /MERGE \[dbo\]\.\[Company\] WITH \(HOLDLOCK\) AS t USING \(SELECT \* FROM @source WHERE \[missingLookup\] IS NULL\) AS s ON t\.\[CustomerNo\] = s\.\[c0\]/);
	});

	it('updates a matched row only when a written value differs, compared NULL-safe and case-sensitively', () => {
		assert.ok(
			text.includes(
				'WHEN MATCHED AND EXISTS (SELECT s.[c1] COLLATE Latin1_General_100_BIN2, s.[c2] COLLATE Latin1_General_100_BIN2 EXCEPT SELECT t.[Name] COLLATE Latin1_General_100_BIN2, t.[City] COLLATE Latin1_General_100_BIN2) THEN UPDATE SET t.[Name] = s.[c1], t.[City] = s.[c2]',
			),
			text,
		);
		assert.ok(text.includes('WHEN NOT MATCHED BY TARGET THEN INSERT ([CustomerNo], [Name], [City]) VALUES (s.[c0], s.[c1], s.[c2])'));
	});

	it('reports every row: inserted, updated, or unchanged when MERGE did nothing to it', () => {
		assert.ok(text.includes('OUTPUT s.[row], $action INTO @result ([row], [action]);'));
		assert.ok(text.includes(`WHEN r.[action] = 'INSERT' THEN 'inserted' WHEN r.[action] = 'UPDATE' THEN 'updated' ELSE 'unchanged' END AS [outcome]`));
	});

	it('has no UPDATE branch when only the match columns are written', () => {
		const keysOnly = planUpsert(COMPANY_CATALOG, manuallyMappedColumns(COMPANY_CATALOG, ['CustomerNo', 'Name']), ['CustomerNo', 'Name'], []);
		const statement = upsertStatement(keysOnly, source, false);
		assert.doesNotMatch(statement, /WHEN MATCHED/);
	});

	it('resolves lookups in the same statement by a join, and flags the rows whose referenced row is missing', () => {
		const statement = squash(upsertStatement(orderPlan, jsonRowsSource(upsertSourceColumns(orderPlan), []), false));
		assert.ok(statement.includes('LEFT JOIN [dbo].[Company] AS f0 ON f0.[CustomerNo] = j.[k0]'), statement);
		assert.ok(statement.includes('SELECT j.[row], j.[c0], j.[c1], j.[c2], f0.[CompanyId], CASE WHEN j.[k0] IS NOT NULL AND f0.[CustomerNo] IS NULL THEN 0 END'));
		assert.ok(statement.includes('INSERT ([OrderNo], [OrderDate], [Amount], [CompanyId]) VALUES (s.[c0], s.[c1], s.[c2], s.[l0])'));
	});

	it('dry run is a read: the same comparison as a SELECT, no MERGE and no transaction', () => {
		const dry = squash(upsertStatement(companyPlan, source, true));
		assert.doesNotMatch(dry, /MERGE|BEGIN TRANSACTION|UPDATE SET|DELETE/);
		assert.ok(dry.includes(`WHEN NOT EXISTS (SELECT 1 FROM [dbo].[Company] AS t WHERE t.[CustomerNo] = s.[c0]) THEN 'inserted'`));
		assert.ok(dry.includes(`AND EXISTS (SELECT s.[c1] COLLATE Latin1_General_100_BIN2`));
	});

	it('quotes identifiers from the catalogue so no name can break out', () => {
		const odd = { ...companyPlan, table: { schema: 'dbo', name: 'Weird]; DROP TABLE x; --' } };
		assert.ok(upsertStatement(odd, source, false).includes('MERGE [dbo].[Weird]]; DROP TABLE x; --] WITH (HOLDLOCK)'));
	});
});

describe('the delete batch', () => {
	const match = companyPlan.matchColumns;

	it('deletes the matched rows in one transaction and reports each', () => {
		const plan = planDelete(COMPANY_CATALOG, match, 'delete', []);
		const text = squash(deleteStatement(plan, jsonRowsSource(deleteSourceColumns(plan), []), false));
		assert.ok(text.includes('BEGIN TRANSACTION;'));
		assert.ok(text.includes('DELETE t OUTPUT s.[row] INTO @result ([row]) FROM [dbo].[Company] AS t INNER JOIN @source AS s ON t.[CustomerNo] = s.[c0];'));
		assert.ok(text.includes(`CASE WHEN r.[row] IS NULL THEN 'unchanged' ELSE 'deleted' END`));
	});

	it('marks rows with typed parameters and SYSUTCDATETIME(), only rows not marked yet', () => {
		const plan = planDelete(COMPANY_CATALOG, match, 'markDeleted', [{ column: 'IsActive', value: '0' }, { column: 'DeletedAt', value: 'now' }]);
		assert.deepEqual(assignmentParameters(plan), [{ name: 'set0', type: { name: 'bit' }, value: false }]);
		const text = squash(deleteStatement(plan, jsonRowsSource(deleteSourceColumns(plan), []), false));
		assert.ok(
			text.includes(
				'UPDATE t SET t.[IsActive] = @set0, t.[DeletedAt] = SYSUTCDATETIME() OUTPUT s.[row] INTO @result ([row]) FROM [dbo].[Company] AS t INNER JOIN @source AS s ON t.[CustomerNo] = s.[c0] WHERE (EXISTS (SELECT @set0 EXCEPT SELECT t.[IsActive]) OR t.[DeletedAt] IS NULL);',
			),
			text,
		);
	});

	it('dry run of deletes only reads', () => {
		const plan = planDelete(COMPANY_CATALOG, match, 'markDeleted', [{ column: 'DeletedAt', value: 'now' }]);
		const text = squash(deleteStatement(plan, jsonRowsSource(deleteSourceColumns(plan), []), true));
		assert.doesNotMatch(text, /UPDATE|DELETE|BEGIN TRANSACTION/);
		assert.ok(text.includes(`WHERE t.[CustomerNo] = s.[c0] AND (t.[DeletedAt] IS NULL)) THEN 'deleted'`), text);
	});
});

describe('money as exact text (issue 11: 9)', () => {
	it('sends money as text that SQL Server converts, never through a double', () => {
		const priced = catalogTable(SALES_ORDER, { OrderNo: { typeName: 'int', nullable: false }, Price: { typeName: 'money', maxLength: 8, precision: 19, scale: 4 } }, [['OrderNo']]);
		const plan = planUpsert(priced, manuallyMappedColumns(priced, ['OrderNo', 'Price']), ['OrderNo'], []);
		const values = valuesRowsSource(upsertSourceColumns(plan), [{ ordinal: 0, values: [1, '922337203685477.5807'] }]);
		assert.deepEqual(values.parameters[1], { name: 'p0_1', type: { name: 'varchar', length: 40 }, value: '922337203685477.5807' });
		assert.ok(values.clause.includes('CONVERT(money, @p0_1)'), values.clause);
	});
});

describe('collations, legacy text types and code pages (issue 11: 3, 4, 11, 12)', () => {
	/** CONTACT_CATALOG: a key in another collation than the database's, a Cyrillic varchar, legacy text / ntext. */
	const order = catalogTable(
		SALES_ORDER,
		{
			SalesOrderId: { typeName: 'int', nullable: false, identity: true, primaryKey: true },
			OrderNo: { typeName: 'int', nullable: false },
			ContactId: { typeName: 'int', nullable: false },
		},
		[['SalesOrderId'], ['OrderNo']],
	);
	const plan = planUpsert(CONTACT_CATALOG, manuallyMappedColumns(CONTACT_CATALOG, ['ContactCode', 'Title', 'Notes', 'Memo']), ['ContactCode'], []);
	const byCode = resolveLookup(order, { targetColumn: 'ContactId', fromTable: CONTACT, keyColumn: 'ContactCode', itemField: 'ContactCode' }, CONTACT_CATALOG);
	const orders = planUpsert(order, manuallyMappedColumns(order, ['OrderNo']), ['OrderNo'], [byCode]);

	it('declares @source text columns in the CRM column\'s collation, so matching on a key of another collation compiles (no error 468)', () => {
		const text = squash(upsertStatement(plan, jsonRowsSource(upsertSourceColumns(plan), []), false));
		assert.ok(text.includes('[c0] varchar(20) COLLATE Danish_Norwegian_CS_AS NULL, [c1] varchar(50) COLLATE Cyrillic_General_CI_AS NULL'), text);
		assert.ok(text.includes('ON t.[ContactCode] = s.[c0]'));
		const deletes = planDelete(CONTACT_CATALOG, plan.matchColumns, 'delete', []);
		assert.ok(squash(deleteStatement(deletes, jsonRowsSource(deleteSourceColumns(deletes), []), false)).includes('[c0] varchar(20) COLLATE Danish_Norwegian_CS_AS NULL'));
	});

	it('joins a lookup in the looked-up column\'s collation and reads its key from OPENJSON typed like that column, so its index is used', () => {
		const source = jsonRowsSource(upsertSourceColumns(orders), []);
		assert.ok(source.clause.includes(`[k0] varchar(20) '$[2]'`), source.clause);
		const text = squash(upsertStatement(orders, source, false));
		assert.ok(text.includes('LEFT JOIN [dbo].[Contact] AS f0 ON f0.[ContactCode] = j.[k0] COLLATE Danish_Norwegian_CS_AS'), text);
	});

	it('compares text / ntext through varchar(max) / nvarchar(max), and non-Unicode text as the bytes of its own code page, in the unchanged check', () => {
		const text = squash(upsertStatement(plan, jsonRowsSource(upsertSourceColumns(plan), []), false));
		assert.ok(
			text.includes(
				'EXISTS (SELECT CONVERT(varbinary(max), RTRIM(s.[c1])), CONVERT(varbinary(max), RTRIM(CONVERT(varchar(max), s.[c2]))), CONVERT(nvarchar(max), s.[c3]) COLLATE Latin1_General_100_BIN2 EXCEPT SELECT CONVERT(varbinary(max), RTRIM(t.[Title])), CONVERT(varbinary(max), RTRIM(CONVERT(varchar(max), t.[Notes]))), CONVERT(nvarchar(max), t.[Memo]) COLLATE Latin1_General_100_BIN2)',
			),
			text,
		);
		assert.doesNotMatch(text, /\[Title\] COLLATE Latin1_General_100_BIN2/, 'a binary collation of code page 1252 would turn Cyrillic into "?" before comparing');
		const orgNo = planUpsert(COMPANY_CATALOG, manuallyMappedColumns(COMPANY_CATALOG, ['CustomerNo', 'Name', 'OrgNo']), ['CustomerNo'], []);
		assert.ok(squash(upsertStatement(orgNo, jsonRowsSource(upsertSourceColumns(orgNo), []), false)).includes('CONVERT(varbinary(max), RTRIM(s.[c2])) EXCEPT SELECT t.[Name] COLLATE Latin1_General_100_BIN2, CONVERT(varbinary(max), RTRIM(t.[OrgNo])))'));
	});

	it('sends non-Unicode text as nvarchar parameters on the VALUES path (the driver would encode varchar in the database\'s code page); a lookup key keeps its type', () => {
		const values = valuesRowsSource(upsertSourceColumns(plan), [{ ordinal: 0, values: ['c1', 'Дом', 'note', 'memo'] }]);
		assert.deepEqual(values.parameters.map((parameter) => parameter.type), [
			{ name: 'nvarchar', length: 20 },
			{ name: 'nvarchar', length: 50 },
			{ name: 'nvarchar', length: -1 },
			{ name: 'nvarchar', length: -1 },
		]);
		const lookups = valuesRowsSource(upsertSourceColumns(orders), [{ ordinal: 0, values: [5, 'c1'] }]);
		assert.deepEqual(lookups.parameters[1].type, { name: 'varchar', length: 20 });
	});

	it('refuses a collation name that is not a plain name instead of writing it into the statement', () => {
		const odd = catalogTable(COMPANY, { Code: { typeName: 'varchar', maxLength: 20, nullable: false, collation: 'Latin1_General_CI_AS; DROP TABLE x' } }, [['Code']]);
		const oddPlan = planUpsert(odd, manuallyMappedColumns(odd, ['Code']), ['Code'], []);
		assert.throws(() => upsertStatement(oddPlan, jsonRowsSource(upsertSourceColumns(oddPlan), []), false), /collation name this node does not send/);
	});
});
