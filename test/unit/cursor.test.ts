import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { CursorFormatError, beginningCursor, parseCursor, serializeCursor } from '../../nodes/shared/core/cursor';
import type { Cursor } from '../../nodes/shared/core/cursor';

describe('cursor format', () => {
	const examples: Cursor[] = [
		{ kind: 'datetime', marker: '2024-03-31T01:59:59.1234567', key: ['10023'] },
		{ kind: 'datetime', marker: '2024-10-27T02:30:00.997', key: null },
		{ kind: 'dateAndTime', marker: '2010-06-04T00:00:00', key: ['7', 'A'] },
		{ kind: 'rowversion', marker: '0x00000000000007D1', key: ['1'] },
		{ kind: 'changeTracking', marker: '9223372036854775807', key: null },
		beginningCursor('rowversion'),
		{ kind: 'datetime', marker: null, key: ['10023'] },
		{ kind: 'changeTracking', marker: null, key: ['7'], snapshotVersion: '42' },
	];

	for (const cursor of examples) {
		it(`keeps a ${cursor.kind} cursor exactly through text (${cursor.marker})`, () => {
			assert.deepEqual(parseCursor(serializeCursor(cursor)), cursor);
		});
	}

	const bad: Array<[string, RegExp]> = [
		['04.06.10', /not the JSON text/],
		['[]', /kind must be one of/],
		['{"kind":"datetime","marker":"04.06.10 00.00.00","key":null}', /not of the form 2024-03-31T02:30:00/],
		['{"kind":"rowversion","marker":"0x12","key":null}', /0x followed by 16 hex digits/],
		['{"kind":"changeTracking","marker":"-5","key":null}', /not a whole number/],
		['{"kind":"datetime","marker":null,"key":null,"snapshotVersion":"5"}', /snapshotVersion must be/],
		['{"kind":"changeTracking","marker":"7","key":null,"snapshotVersion":"5"}', /snapshotVersion must be/],
		['{"kind":"datetime","marker":"2024-01-01T00:00:00","key":[1]}', /list of texts/],
	];

	for (const [text, reason] of bad) {
		it(`refuses ${text} with a reason`, () => {
			assert.throws(
				() => parseCursor(text),
				(error: unknown) => error instanceof CursorFormatError && reason.test(error.message) && error.message.includes('cannot be read'),
			);
		});
	}
});
