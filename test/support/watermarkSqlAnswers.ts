/**
 * SQL Server's answers to the watermark store's statements, as the recording transport double gives them,
 * shared by the unit tests of the SQL Server watermark store and its retry list.
 */
import { serializeCursor } from '../../nodes/shared/core/cursor';
import { PACKAGE_TABLE } from '../../nodes/shared/core/watermarkLocation';
import type { AcquireRequest } from '../../nodes/Watermark/stores/watermarkStore';
import type { STATE_COLUMNS } from '../../nodes/Watermark/stores/watermarkSql';
import { HISTORY_COLUMNS } from '../../nodes/Watermark/stores/watermarkSql';
import { resultOf } from './recordingTransport';

export const audit = { workflowId: 'wf-1', executionId: '42' };
export const C1 = serializeCursor({ kind: 'datetime', marker: '2025-03-01T10:00:00.1234567', key: ['17'] });

/** A stream's row as the watermark store's statements answer it: customers at C1, leased to "42". */
export const stateRow = (extra: Record<string, unknown> = {}) => ({
	stream: 'customers',
	cursorKind: 'datetime',
	generation: 3,
	rewoundAtGeneration: 1,
	timeZone: 'Europe/Oslo',
	leaseOwner: '42',
	leaseExpiresAt: '2025-03-30T01:10:00.000',
	cursorChangedAt: '2025-03-30T01:00:00.123',
	cursorLocation: null,
	storedValue: C1,
	...extra,
});

/** sys.columns.max_length of a column definition: bytes, -1 for (max). */
function bytesOf(definition: string): number {
	if (/\(max\)/.test(definition)) return -1;
	const length = Number(/\((\d+)\)/.exec(definition)?.[1] ?? 8);
	return definition.startsWith('nvarchar') ? length * 2 : length;
}

/** The catalogue's answer for a table that has exactly the columns `specs` asks for. */
export const columnsOf = (specs: typeof STATE_COLUMNS, role?: string) =>
	specs.map((spec) => ({ ...(role ? { tableRole: role } : {}), name: spec.name, typeName: spec.typeName, maxLength: bytesOf(spec.definition) }));

/** The answer to the state and history table check: both schemas exist, the history table as the package needs it. */
export const tablesResult = (stateColumns: Array<Record<string, unknown>>) =>
	resultOf([{ stateSchemaExists: 1, historySchemaExists: 1 }], [...stateColumns, ...columnsOf(HISTORY_COLUMNS, 'history')]);

export const acquireRequest = (overrides: Partial<AcquireRequest> = {}): AcquireRequest => ({
	stream: 'customers',
	owner: '42',
	leaseSeconds: 600,
	startingCursor: null,
	startingReason: 'Starting point: the beginning',
	timeZone: 'Europe/Oslo',
	location: PACKAGE_TABLE,
	audit,
	...overrides,
});
