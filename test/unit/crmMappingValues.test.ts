import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Refusal, convertForColumn } from '../../nodes/shared/core/mappingValues';
import type { SqlType } from '../../nodes/shared/transport/types';

const accepts = (type: SqlType, value: unknown, expected: unknown) =>
	assert.deepEqual(convertForColumn(type, value), expected, `${JSON.stringify(value)} into ${type.name}`);

function refuses(type: SqlType, value: unknown, wording: RegExp) {
	const result = convertForColumn(type, value);
	assert.ok(result instanceof Refusal, `${JSON.stringify(value)} into ${type.name} should be refused`);
	assert.match(result.problem, wording);
}

describe('converting item values to column types', () => {
	it('keeps null as null for every type (NOT NULL is decided with the column)', () => {
		for (const name of ['int', 'nvarchar', 'datetime2', 'bit', 'decimal'] as const) accepts({ name }, null, null);
		accepts({ name: 'int' }, undefined, null);
	});

	it('bit: booleans, 0/1 and their texts; anything else is refused', () => {
		accepts({ name: 'bit' }, true, true);
		accepts({ name: 'bit' }, 0, false);
		accepts({ name: 'bit' }, 'TRUE', true);
		accepts({ name: 'bit' }, '0', false);
		refuses({ name: 'bit' }, 'yes please', /not a yes\/no value/);
		refuses({ name: 'bit' }, 2, /not a yes\/no value/);
	});

	it('integers: whole numbers within the type\'s range, also as text; a fraction is refused rather than cut', () => {
		accepts({ name: 'int' }, 42, 42);
		accepts({ name: 'int' }, -0, 0);
		accepts({ name: 'bigint' }, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
		accepts({ name: 'int' }, ' -7 ', -7);
		accepts({ name: 'tinyint' }, 255, 255);
		refuses({ name: 'tinyint' }, 256, /out of range for tinyint/);
		refuses({ name: 'int' }, 2147483648, /out of range for int/);
		refuses({ name: 'int' }, 1.5, /not a whole number/);
		refuses({ name: 'int' }, 'abc', /"abc" is not a whole number/);
		accepts({ name: 'bigint' }, '9223372036854775807', '9223372036854775807');
		refuses({ name: 'bigint' }, '9223372036854775808', /out of range for bigint/);
	});

	it('decimals stay exact text and are refused when the integer part does not fit', () => {
		const money = { name: 'decimal' as const, precision: 18, scale: 2 };
		accepts(money, 12.5, '12.5');
		accepts(money, '0.10', '0.10');
		accepts(money, 1e-7, '0.00');
		refuses({ name: 'decimal', precision: 5, scale: 2 }, 1234.5, /more digits before the decimal point than decimal\(5,2\) allows \(3\)/);
		refuses(money, '12,50', /not a number/);
		refuses(money, '.', /not a number/);
	});

	it('text: numbers become text; too long or an object is refused, naming the length', () => {
		accepts({ name: 'nvarchar', length: 10 }, 'Åse Øvre', 'Åse Øvre');
		accepts({ name: 'varchar', length: 10 }, 12345, '12345');
		accepts({ name: 'nvarchar', length: -1 }, 'x'.repeat(10_000), 'x'.repeat(10_000));
		accepts({ name: 'nvarchar', length: 3 }, 'Ål😀', 'Ål😀');
		refuses({ name: 'nvarchar', length: 2 }, 'Ål😀', /is 3 characters, longer than nvarchar\(2\) allows/);
		refuses({ name: 'nvarchar', length: 5 }, 'Acme Bygg', /is 9 characters, longer than nvarchar\(5\) allows/);
		refuses({ name: 'nvarchar', length: 50 }, { street: 'x' }, /a list or an object, not text/);
	});

	it('dates and times: ISO text kept to 100 ns; an offset becomes the UTC wall clock (the driver reads UTC)', () => {
		accepts({ name: 'datetime2', scale: 7 }, '2024-03-31T02:30:00.1234567', '2024-03-31T02:30:00.1234567');
		accepts({ name: 'datetime2', scale: 7 }, '2024-03-31T02:30:00+02:00', '2024-03-31T00:30:00.0000000');
		accepts({ name: 'datetime2', scale: 3 }, new Date('2024-01-01T23:59:59.999Z'), '2024-01-01T23:59:59.9990000');
		accepts({ name: 'datetime' }, '2024-01-01 10:00:00.1234567', '2024-01-01T10:00:00.123');
		accepts({ name: 'smalldatetime' }, '2024-01-01T10:00:59', '2024-01-01T10:00:59');
		accepts({ name: 'date' }, '2024-02-29T00:00:00.000Z', '2024-02-29');
		accepts({ name: 'date' }, '2024-03-01T00:30:00+01:00', '2024-02-29');
		accepts({ name: 'time', scale: 7 }, '14:30', '14:30:00.0000000');
		accepts({ name: 'datetimeoffset', scale: 7 }, '2024-06-01T12:00:00Z', '2024-06-01T12:00:00.0000000+00:00');
		accepts({ name: 'datetimeoffset', scale: 7 }, '2024-06-01T12:00:00-05:30', '2024-06-01T12:00:00.0000000-05:30');
		accepts({ name: 'datetime2', scale: 7 }, { toISO: () => '2024-05-05T05:05:05.000+00:00' }, '2024-05-05T05:05:05.0000000');
		refuses({ name: 'date' }, '2023-02-29', /not a date SQL Server can read/);
		refuses({ name: 'datetime2', scale: 7 }, '31.03.2024', /not a date SQL Server can read/);
		refuses({ name: 'datetime' }, '1700-01-01', /before 1753/);
		refuses({ name: 'smalldatetime' }, '2080-01-01', /1900–2079/);
		refuses({ name: 'time', scale: 7 }, '25:00', /not a time of day/);
	});

	it('GUIDs are checked and written in one form', () => {
		accepts({ name: 'uniqueidentifier' }, '{6f9619ff-8b86-d011-b42d-00c04fc964ff}', '6F9619FF-8B86-D011-B42D-00C04FC964FF');
		refuses({ name: 'uniqueidentifier' }, 'not-a-guid', /not a GUID/);
	});

	it('floating point and money: finite numbers', () => {
		accepts({ name: 'float' }, '1.5e3', 1500);
		refuses({ name: 'float' }, 'NaN', /not a number/);
		refuses({ name: 'money' }, 1e15, /out of range for money/);
	});

	it('money stays exact text to its 19 digits, never a double, within money\'s range after rounding to 4 decimals', () => {
		accepts({ name: 'money' }, '922337203685477.5807', '922337203685477.5807');
		accepts({ name: 'money' }, '-922337203685477.5808', '-922337203685477.5808');
		accepts({ name: 'money' }, '12345678901234.5678', '12345678901234.5678');
		accepts({ name: 'money' }, 12.5, '12.5');
		refuses({ name: 'money' }, '922337203685477.5808', /out of range for money/);
		refuses({ name: 'money' }, '922337203685477.58075', /out of range for money/);
		refuses({ name: 'money' }, '1,5', /not a number/);
	});
});
