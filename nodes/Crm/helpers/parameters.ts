import { DateTime } from 'luxon';
import type { IExecuteFunctions, IGetNodeParameterOptions, ILoadOptionsFunctions, ResourceMapperField } from 'n8n-workflow';

import type { QualifiedName } from '../../shared/core/identifiers';
import { pickedName } from '../../shared/columnPicker';
import { displayQualifiedName, parseQualifiedName } from '../../shared/core/identifiers';
import type { MappedColumn } from '../../shared/core/fieldReference';
import { mappingSources } from '../../shared/core/fieldReference';
import { checkedChoice, chosenOption, itemCollection } from '../../shared/itemParameter';
import { deletesProperty, setToProperty, upsertOptionsProperty } from '../actions/upsert.description';
import type { AssignmentSpec, DeleteHandling, LookupSpec } from '../../shared/core/upsertPlan';
import { NOW, UpsertConfigurationError } from '../../shared/core/upsertPlan';
import type { TargetChoice } from './presets';
import { TARGET_PRESETS } from './presets';

type ParameterReader = (name: string, fallback: unknown, options?: IGetNodeParameterOptions) => unknown;

/** Node-wide parameters, read the same in an execution (item 0) and in the editor's requests (which have no items). */
function readerOf(context: IExecuteFunctions | ILoadOptionsFunctions): ParameterReader {
	if ('getInputData' in context) return (name, fallback, options) => context.getNodeParameter(name, 0, fallback, options);
	return (name, fallback, options) => context.getNodeParameter(name, fallback, options);
}

/** The table the node writes to: a preset's, or the one the partner chose (all the editor's column lists need). */
export function targetTableOf(context: IExecuteFunctions | ILoadOptionsFunctions): QualifiedName {
	const read = readerOf(context);
	const choice = read('target', 'customers') as TargetChoice;
	if (choice !== 'table') return TARGET_PRESETS[choice].table;
	const tableText = String(read('table', '', { extractValue: true }) ?? '');
	if (tableText.trim() === '') throw new UpsertConfigurationError('No CRM table is chosen: pick one from the list, or type its name as schema.table');
	return parseQualifiedName(tableText);
}

/** A row of "Look Up Columns": its table and columns typed as text (version 1) or picked (from 1.1). */
type LookupEntry = Record<'targetColumn' | 'fromTable' | 'keyColumn' | 'valueColumn', unknown> & Record<'itemField' | 'label', string>;

/** The table and lookups the node writes with: a preset's, or the table and lookups the partner chose. */
export function targetOf(context: IExecuteFunctions | ILoadOptionsFunctions): { table: QualifiedName; lookups: LookupSpec[] } {
	const read = readerOf(context);
	const choice = read('target', 'customers') as TargetChoice;
	if (choice !== 'table') {
		// A workflow edited by hand can hold any text here; a preset that does not exist must not become a TypeError later.
		if (!Object.hasOwn(TARGET_PRESETS, choice)) {
			const presets = Object.entries(TARGET_PRESETS).map(([value, preset]) => `"${value}" (${displayQualifiedName(preset.table)})`);
			throw new UpsertConfigurationError(`Target cannot be "${String(choice)}": it takes ${presets.join(', ')} or "table" (Other Table)`);
		}
		return TARGET_PRESETS[choice];
	}
	const table = targetTableOf(context);
	const entries = (read('lookups.lookup', []) as LookupEntry[]) ?? [];
	const lookups = entries.map((entry): LookupSpec => {
		const [targetColumn, fromTable, keyColumn, valueColumn] = [entry.targetColumn, entry.fromTable, entry.keyColumn, entry.valueColumn].map(pickedName);
		if (!targetColumn || !fromTable || !keyColumn) {
			throw new UpsertConfigurationError('A lookup needs its column, the table to look in and the column to look up by: fill them in or remove the lookup');
		}
		return {
			targetColumn,
			fromTable: parseQualifiedName(fromTable),
			keyColumn,
			valueColumn: valueColumn || undefined,
			itemField: entry.itemField || keyColumn,
			label: entry.label || undefined,
		};
	});
	return { table, lookups };
}

export interface UpsertSettings {
	mappingMode: 'defineBelow' | 'autoMapInputData';
	/** Columns the manual mapping names (fields the partner removed are not). */
	mappedNames: string[];
	/** Under a manual mapping, each column with where its value comes from (only computed ones go through n8n's expression engine). */
	mapping?: MappedColumn[];
	matchingColumns: string[];
	deletes: DeleteHandling['kind'];
	deleteAssignments: AssignmentSpec[];
	batchSize: number;
	dryRun: boolean;
}

/**
 * A row of "Columns to Set on Deleted Rows": its column a name (version 1) or a picker's value (from 1.1). Saved
 * before "Set To" existed, the value alone said "now" or "null".
 */
interface DeleteColumnEntry {
	column: unknown;
	setTo?: 'value' | 'now' | 'null';
	value?: string;
}

function assignmentOf(context: IExecuteFunctions, { column: picked, setTo, value }: DeleteColumnEntry): AssignmentSpec {
	const column = pickedName(picked);
	// Any other text was taken as "a value": a hand-edited "Now" set the column to the empty text below.
	if (setTo !== undefined) checkedChoice(context, `'Set To' of column "${column}" in Columns to Set on Deleted Rows`, setToProperty, setTo, 0);
	if (setTo === 'now') return { column, value: NOW };
	if (setTo === 'null') return { column, value: 'null' };
	return { column, value: String(value ?? '') };
}

/** The mapping modes n8n's resource mapper saves, with the names its editor shows. */
const MAPPING_MODES: Record<UpsertSettings['mappingMode'], string> = {
	defineBelow: 'Map Each Column Manually',
	autoMapInputData: 'Map Automatically',
};

/** "Columns" as the editor saved it. */
interface ColumnsParameter {
	mappingMode?: UpsertSettings['mappingMode'];
	value?: Record<string, unknown> | null;
	matchingColumns?: string[] | null;
	schema?: ResourceMapperField[] | null;
}

export function upsertSettingsOf(context: IExecuteFunctions): UpsertSettings {
	// Read once, as saved: the mapping's expressions are resolved (and its values judged) per item, where a bad value
	// fails only its row; n8n would check the whole mapping against the schema on every read of a part of it.
	const columns = (context.getNodeParameter('columns', 0, {}, { rawExpressions: true, skipValidation: true }) ?? {}) as ColumnsParameter;
	const mappingMode = columns.mappingMode ?? 'autoMapInputData';
	// A workflow edited by hand can hold any text here; read as automatic, it would drop every column the manual mapping renames.
	if (!Object.hasOwn(MAPPING_MODES, mappingMode)) {
		const modes = Object.entries(MAPPING_MODES).map(([mode, label]) => `"${mode}" (${label})`);
		throw new UpsertConfigurationError(`The mapping mode of Columns cannot be "${String(mappingMode)}": it takes ${modes.join(' or ')}`);
	}
	const removed = new Set((columns.schema ?? []).filter((field) => field.removed).map((field) => field.id));
	const value = mappingMode === 'defineBelow' ? (columns.value ?? {}) : {};
	const options = itemCollection(context, upsertOptionsProperty, 0) as { batchSize?: number; dryRun?: boolean };
	const deletes = chosenOption<DeleteHandling['kind']>(context, deletesProperty, 0, 'markDeleted');
	return {
		mappingMode,
		mappedNames: Object.keys(value).filter((name) => !removed.has(name)),
		mapping: mappingMode === 'defineBelow' ? mappingSources(value) : undefined,
		matchingColumns: columns.matchingColumns ?? [],
		deletes,
		deleteAssignments:
			deletes === 'markDeleted' ? ((context.getNodeParameter('deleteColumns.column', 0, []) as DeleteColumnEntry[]) ?? []).map((entry) => assignmentOf(context, entry)) : [],
		batchSize: Math.max(1, Math.floor(options.batchSize ?? 1000)),
		dryRun: options.dryRun === true,
	};
}

/** The lodash path of one mapped column: quoted, so a column named "Org.No" or "Name[1]" is one key. */
const columnValuePath = (column: string) => `columns.value["${column.replace(/[\\"]/g, '\\$&')}"]`;

/**
 * A computed column's value for one item, resolved by n8n exactly as when the whole mapping is resolved: n8n then
 * turns a date inside the mapping into its text, which it does not do for a value asked for alone.
 */
export function computedColumnValue(context: IExecuteFunctions, column: string, itemIndex: number): unknown {
	// n8n's own check of the values would stop the whole node for one bad value; the node's conversion fails just that row, naming it.
	const value = context.getNodeParameter(columnValuePath(column), itemIndex, undefined, { skipValidation: true });
	return DateTime.isDateTime(value) ? value.toString() : value;
}
