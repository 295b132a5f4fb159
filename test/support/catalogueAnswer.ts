import type { SqlResult } from '../../nodes/shared/transport/types';
import type { TableDefinition } from './memory/memoryChangeSource';
import { catalogColumnOf } from './memory/memoryChangeSource';
import { resultOf } from './recordingTransport';

/** What SQL Server answers to DESCRIBE_TABLE_QUERY for a table: the object, its columns, its unique index columns. */
export function catalogueResult(definition: TableDefinition): SqlResult {
	const columns = definition.columns.map((column) => {
		const catalog = catalogColumnOf(column, definition.primaryKey);
		return {
			name: catalog.name,
			typeName: catalog.typeName,
			maxLength: catalog.maxLength,
			precision: catalog.precision,
			scale: catalog.scale,
			nullable: catalog.nullable,
			isIdentity: false,
			isComputed: false,
			hasDefault: 0,
			primaryKeyOrdinal: catalog.primaryKeyOrdinal,
		};
	});
	return resultOf(
		[{ kind: 'table', changeTracking: definition.changeTracking ? 1 : 0 }],
		columns,
		definition.primaryKey.map((columnName) => ({ indexId: 1, columnName })),
	);
}
