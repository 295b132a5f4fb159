import { parseQualifiedName } from '../../nodes/shared/core/identifiers';
import type { MarkerSpec, SourceSpec } from '../../nodes/shared/core/markers';

/**
 * What the Contracting node's editor gives for `table` read by `marker` when every other choice is left at its
 * default (stream "customers", primary key, all columns, no filter, Europe/Oslo, 60 s lag, NULL markers on the
 * first run); `overrides` set the rest.
 */
export function sourceSpecFor(table: string, marker: MarkerSpec, overrides: Partial<SourceSpec> = {}): SourceSpec {
	return {
		stream: 'customers',
		table: parseQualifiedName(table),
		keyColumns: [],
		marker,
		outputColumns: 'all',
		filters: [],
		timeZone: 'Europe/Oslo',
		lagSeconds: 60,
		nullMarkers: 'firstRunOnly',
		...overrides,
	};
}
