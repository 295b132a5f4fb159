import type { IDataObject, IExecuteFunctions, INodeExecutionData, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import type { CatalogColumn, CatalogTable } from '../../shared/catalog';
import { displayQualifiedName } from '../../shared/core/identifiers';
import { autoMappedColumns, defaultMatchColumns, fieldsForColumns, manuallyMappedColumns } from '../../shared/core/mapping';
import type { MappedColumn } from '../../shared/core/fieldReference';
import { columnValuesOf, mappedValuesOf, mappingEntriesFor } from '../../shared/core/fieldReference';
import { keyText, mergeDuplicateKeys } from '../../shared/core/mergeDuplicates';
import type { SyncInfo, WriteStatus } from '../../shared/core/syncItem';
import { SYNC_FIELD, isNothingRead, isWritten } from '../../shared/core/syncItem';
import { writeIsolatingRefusals } from '../../shared/core/upsertBisection';
import type { DeletePlan, DeleteRow, Prepared, RowError, RowOutcome, UpsertPlan, UpsertRow } from '../../shared/core/upsertPlan';
import { planDelete, planUpsert, rawKeyOf, resolveLookup, resolveMatchColumns, rowFailureMessage, prepareDeleteRow, prepareUpsertRow } from '../../shared/core/upsertPlan';
import { chunked } from '../../shared/core/upsertSql';
import { toNodeError } from '../../shared/nodeErrors';
import { CRM_CREDENTIAL } from '../../shared/transport/connect';
import { leaseGuardOfUpstreamGet } from '../../shared/upstreamGet';
import type { UpsertSettings } from '../helpers/parameters';
import { computedColumnValue, targetOf, upsertSettingsOf } from '../helpers/parameters';
import type { UpsertTarget, WriteOptions } from '../stores/upsertTarget';

interface Plans {
	table: CatalogTable;
	/** The columns rows are matched on, for upserts and deletes alike. */
	matchColumns: CatalogColumn[];
	/** Undefined while no item is an upsert: deleted rows carry their key, not the columns an insert needs. */
	upsert?: UpsertPlan;
	/** Undefined while no item is a delete: a table without the columns to mark deletes can still take upserts. */
	delete?: DeletePlan;
	/** Under a manual mapping, the mapping entry each column of the upsert plan takes its value from. */
	upsertEntries?: Array<MappedColumn | undefined>;
}

/** What happened to one item. */
interface ItemResult {
	key: Record<string, unknown>;
	status: WriteStatus;
	error?: RowError;
	/** Index of the later item with the same key that was written in this one's place. */
	supersededBy?: number;
}

type Entry =
	| { index: number; kind: 'upsert'; prepared: Prepared<UpsertRow> }
	| { index: number; kind: 'delete'; prepared: Prepared<DeleteRow> }
	| { index: number; kind: 'ignored'; key: Record<string, unknown> };

const syncOf = (item: INodeExecutionData) => item.json[SYNC_FIELD] as SyncInfo | undefined;
const isDelete = (item: INodeExecutionData) => syncOf(item)?.operation === 'delete';
/** The item's fields, with the source key under `_sync.key` as a fallback: a deleted row may carry nothing but its key there. */
const fieldsOf = (item: INodeExecutionData): Record<string, unknown> => ({ ...(syncOf(item)?.key ?? {}), ...item.json });

async function plansFor(context: IExecuteFunctions, target: UpsertTarget, settings: UpsertSettings, items: INodeExecutionData[]): Promise<Plans> {
	const { table: tableName, lookups: specs } = targetOf(context);
	const table = await target.describe(tableName);
	const lookups = [];
	for (const spec of specs) lookups.push(resolveLookup(table, spec, await target.describe(spec.fromTable)));
	const mappedFor = (some: INodeExecutionData[]) =>
		settings.mappingMode === 'defineBelow' ? manuallyMappedColumns(table, settings.mappedNames) : autoMappedColumns(table, some.map(fieldsOf));
	// A workflow written by hand, or saved before the key was chosen, matches on the table's key.
	const matchNames = settings.matchingColumns.length > 0 ? settings.matchingColumns : defaultMatchColumns(table);
	const upserts = items.filter((item) => !isDelete(item));
	const deletes = items.filter(isDelete);
	const upsert = upserts.length > 0 ? planUpsert(table, mappedFor(upserts), matchNames, lookups) : undefined;
	const matchColumns = upsert?.matchColumns ?? resolveMatchColumns(table, mappedFor(deletes), matchNames);
	const deletePlan = deletes.length > 0 ? planDelete(table, matchColumns, settings.deletes, settings.deleteAssignments) : undefined;
	const manualMapping = settings.mappingMode === 'defineBelow' ? settings.mapping : undefined;
	const upsertEntries = upsert && manualMapping ? mappingEntriesFor(manualMapping, upsert.columns.map((column) => column.name)) : undefined;
	return { table, matchColumns, upsert, delete: deletePlan, upsertEntries };
}

/** A deleted item's mapped values: the manual mapping (its expressions resolved for this item), or the item itself. */
function mappedValues(context: IExecuteFunctions, settings: UpsertSettings, item: INodeExecutionData, index: number): Record<string, unknown> {
	if (settings.mappingMode !== 'defineBelow' || !settings.mapping) return fieldsOf(item);
	return mappedValuesOf(settings.mapping, item.json, (column) => computedColumnValue(context, column, index));
}

/** An upserted item's values aligned with the plan's columns: read through the manual mapping's entries, or from the item itself. */
function upsertValues(context: IExecuteFunctions, plans: Plans, item: INodeExecutionData, index: number): unknown[] {
	const entries = plans.upsertEntries;
	if (entries) return columnValuesOf(entries, item.json, (column) => computedColumnValue(context, column, index));
	return fieldsForColumns(fieldsOf(item), (plans.upsert as UpsertPlan).columns);
}

function prepare(context: IExecuteFunctions, settings: UpsertSettings, plans: Plans, items: INodeExecutionData[], index: number): Entry {
	const item = items[index];
	const deletePlan = plans.delete;
	if (!isDelete(item) || !deletePlan) return { index, kind: 'upsert', prepared: prepareUpsertRow(plans.upsert as UpsertPlan, index, upsertValues(context, plans, item, index), item.json) };
	const values = mappedValues(context, settings, item, index);
	// An ignored delete reports its key found the way a delete finds it (the mapping, else `_sync.key`).
	const prepared = prepareDeleteRow(deletePlan, index, values, syncOf(item)?.key ?? {});
	if (deletePlan.handling.kind === 'ignore') return { index, kind: 'ignored', key: prepared.key };
	return { index, kind: 'delete', prepared };
}

/** What happened to each item, by its index; undefined while it is not written yet. */
type Results = Array<ItemResult | undefined>;

/**
 * Writes one batch of items into `results`: bad values fail their item before anything is sent, duplicates are
 * merged, the rest goes set-based. Each request's outcomes are recorded as it returns, so when a later request of
 * the batch is refused as a whole, the rows earlier requests wrote still report what happened to them.
 */
async function writeBatch(
	context: IExecuteFunctions,
	target: UpsertTarget,
	settings: UpsertSettings,
	plans: Plans,
	items: INodeExecutionData[],
	indexes: number[],
	results: Results,
): Promise<void> {
	const writable: Array<Extract<Entry, { kind: 'upsert' | 'delete' }> & { prepared: { ok: true } }> = [];
	for (const index of indexes) {
		const entry = prepare(context, settings, plans, items, index);
		if (entry.kind === 'ignored') results[index] = { key: entry.key, status: 'ignored' };
		else if (!entry.prepared.ok) results[index] = { key: entry.prepared.key, status: 'failed', error: entry.prepared.error };
		else writable.push(entry as (typeof writable)[number]);
	}
	const matchNames = plans.matchColumns.map((column) => column.name);
	const [single] = matchNames;
	// A one-column key is its value, which a Map compares as exactly as keyText (1 and "1" differ): no text per row.
	const keyOf =
		matchNames.length === 1
			? (entry: (typeof writable)[number]) => entry.prepared.key[single]
			: (entry: (typeof writable)[number]) => keyText(matchNames.map((name) => entry.prepared.key[name]));
	const { winners, supersededBy } = mergeDuplicateKeys(writable, keyOf);
	const superseded = new Map<number, Array<(typeof writable)[number]>>();
	for (const [position, winnerPosition] of supersededBy) {
		const winnerIndex = writable[winnerPosition].index;
		superseded.set(winnerIndex, [...(superseded.get(winnerIndex) ?? []), writable[position]]);
	}
	// Fields named, not spread: V8 spreads objects several times slower than it fills them, and this runs for every row.
	const record = (entry: (typeof writable)[number], status: WriteStatus, error: RowError | undefined) => {
		results[entry.index] = { key: entry.prepared.key, status, error };
		const earlier = superseded.get(entry.index);
		if (earlier) for (const each of earlier) results[each.index] = { key: each.prepared.key, status, error, supersededBy: entry.index };
	};
	const winnerAt = new Map<number, (typeof writable)[number]>();
	const upsertRows: UpsertRow[] = [];
	const deleteRows: DeleteRow[] = [];
	// One pass: this runs for every row of a full re-send, and flatMap allocates an array per row.
	for (const entry of winners) {
		winnerAt.set(entry.index, entry);
		if (entry.kind === 'upsert') upsertRows.push(entry.prepared.row as UpsertRow);
		else deleteRows.push(entry.prepared.row as DeleteRow);
	}
	const write = async <R extends { ordinal: number }>(rows: R[], perRequest: number, send: (rows: R[]) => Promise<RowOutcome[]>) => {
		for (const request of chunked(rows, perRequest)) {
			for (const outcome of await writeIsolatingRefusals(request, send)) {
				const entry = winnerAt.get(outcome.ordinal);
				if (entry) record(entry, outcome.status, outcome.error);
			}
		}
	};
	const options: WriteOptions = { dryRun: settings.dryRun, leaseGuard: settings.dryRun ? undefined : leaseGuardOfUpstreamGet(context, CRM_CREDENTIAL) };
	const upsertPlan = plans.upsert;
	if (upsertPlan && upsertRows.length > 0) await write(upsertRows, await target.rowsPerRequest(upsertPlan), (rows) => target.upsert(upsertPlan, rows, options));
	const deletePlan = plans.delete;
	if (deletePlan && deleteRows.length > 0) await write(deleteRows, await target.rowsPerRequest(deletePlan), (rows) => target.delete(deletePlan, rows, options));
	for (const entry of winners) {
		if (results[entry.index] === undefined) record(entry, 'failed', { message: 'SQL Server did not report this row; it may not have been written' });
	}
}

function describeTotals(table: string, results: ItemResult[], dryRun: boolean): string {
	const counts = new Map<WriteStatus, number>();
	for (const result of results) counts.set(result.status, (counts.get(result.status) ?? 0) + 1);
	const statuses: WriteStatus[] = ['inserted', 'updated', 'unchanged', 'deleted', 'ignored', 'failed'];
	const parts = statuses.map((status) => `${counts.get(status) ?? 0} ${status}`);
	return dryRun ? `Dry run on ${table}, nothing written: would be ${parts.join(', ')}` : `${table}: ${parts.join(', ')}`;
}

function failureError(context: IExecuteFunctions, result: ItemResult, index: number): NodeApiError | NodeOperationError {
	const error = result.error as RowError;
	const message = rowFailureMessage(result.key, error);
	const description =
		'The other rows of this batch were written. Correct this row in Contracting (or the mapping in this node) and run again: re-sent rows are matched, never doubled, and the watermark has not moved past this row.';
	if (error.number !== undefined) {
		return new NodeApiError(context.getNode(), { message: error.message, number: error.number } as JsonObject, { message, description, itemIndex: index });
	}
	return new NodeOperationError(context.getNode(), message, { description, itemIndex: index });
}

function outputItem(context: IExecuteFunctions, settings: UpsertSettings, item: INodeExecutionData, index: number, result: ItemResult): INodeExecutionData {
	const sync = syncOf(item);
	// The usual row (read by the Contracting node, written, no duplicate, no dry run) as one literal, the same fields in
	// the same order: V8 makes it at once, where a field added at a time moves the object through a shape per field.
	if (sync && !settings.dryRun && isWritten(result.status) && !result.error && result.supersededBy === undefined) {
		const usual = { _sync: sync, key: result.key, status: result.status } satisfies Record<typeof SYNC_FIELD, unknown> & Record<string, unknown>;
		return { json: usual as unknown as IDataObject, pairedItem: { item: index } };
	}
	const json: IDataObject = {};
	if (sync) json[SYNC_FIELD] = sync as unknown as IDataObject;
	json.key = result.key as IDataObject;
	if (settings.dryRun) {
		json.dryRun = true;
		json.wouldBe = result.status;
	} else {
		json.status = result.status;
	}
	if (result.error) {
		json.error = rowFailureMessage(result.key, result.error);
		if (result.error.column) json.errorColumn = result.error.column;
		if (result.error.number !== undefined) json.sqlServerError = result.error.number;
	}
	if (result.supersededBy !== undefined) json.supersededBy = result.supersededBy;
	const output: INodeExecutionData = { json, pairedItem: { item: index } };
	if (result.status === 'failed' && !settings.dryRun && context.getNode().onError === 'continueErrorOutput') {
		output.error = failureError(context, result, index);
	}
	return output;
}

/**
 * Upserts the items into the CRM table in batches and reports, per item, its key and what happened. A row SQL Server
 * refuses fails alone; the node then stops with that row's error after the rest of its batch is written, unless
 * "On Error" continues (failed items then go to the main output with status "failed", or to the error output).
 */
export async function execute(this: IExecuteFunctions, target: UpsertTarget): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	if (isNothingRead(items)) {
		this.addExecutionHints({ message: 'Nothing to write: the read before this node found no changed rows', location: 'outputPane' });
		return [items.map((_, index) => ({ json: {}, pairedItem: { item: index } }))];
	}
	const settings = upsertSettingsOf(this);
	const continueOnFail = this.continueOnFail();
	const results: Results = new Array(items.length);
	let stop: NodeApiError | NodeOperationError | undefined;
	let plans: Plans | undefined;
	try {
		plans = await plansFor(this, target, settings, items);
	} catch (error) {
		stop = toNodeError(this.getNode(), error, { doing: 'preparing the upsert into CRM' });
	}
	const tableName = plans ? displayQualifiedName(plans.table.name) : 'the CRM table';
	const batches = chunked(
		items.map((_, index) => index),
		settings.batchSize,
	);
	for (const batch of plans && !stop ? batches : []) {
		try {
			await writeBatch(this, target, settings, plans as Plans, items, batch, results);
		} catch (error) {
			stop = toNodeError(this.getNode(), error, { doing: `writing to ${tableName}` });
			break;
		}
		const firstFailure = batch.find((index) => results[index]?.status === 'failed');
		if (firstFailure !== undefined && !continueOnFail && !settings.dryRun) {
			stop = failureError(this, results[firstFailure] as ItemResult, firstFailure);
			break;
		}
	}
	if (stop && !continueOnFail) throw stop;
	const notWritten = (item: INodeExecutionData): ItemResult => ({
		key: plans ? rawKeyOf(plans.matchColumns, fieldsOf(item)) : (syncOf(item)?.key ?? {}),
		status: 'failed',
		error: { message: stop?.message ?? 'not written' },
	});
	const final = items.map((item, index) => results[index] ?? notWritten(item));
	this.addExecutionHints({ message: describeTotals(tableName, final, settings.dryRun), location: 'outputPane' });
	const slowerPath = plans ? await target.slowerPathReason?.() : undefined;
	if (slowerPath) this.addExecutionHints({ message: slowerPath, type: 'warning', location: 'outputPane' });
	return [items.map((item, index) => outputItem(this, settings, item, index, final[index]))];
}
