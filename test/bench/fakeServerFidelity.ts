/**
 * Checks the benchmark's fake SQL Server against the in-memory stores (whose meaning the contract suites pin):
 * the same customers, synced by the shipped workflow, rewound to the beginning and synced again, must give the
 * same summaries, the same stored watermark and the same CRM rows on both. Runs before every benchmark.
 */
import type { IDataObject } from 'n8n-workflow';

import { restoreAllSeams } from '../../nodes/shared/seams';
import { CREDENTIALS, SyncWorld } from '../support/syncWorld';
import type { SyncRun } from '../support/syncWorld';
import { FakeSqlServer, customerRow } from './fakeSqlServer';
import type { ScenarioSpec } from './scenario';
import { benchSyncWorkflow, fakeServerBackend, rewindToBeginning, runSync } from './scenario';

const CUSTOMERS = 2500;
const SUMMARY_FIELDS = ['outcome', 'batches', 'rowsRead', 'inserted', 'updated', 'unchanged', 'failed', 'watermark'];

function summaryOf(run: SyncRun): IDataObject {
	if (run.errorMessage) throw new Error(`fidelity: the sync failed: ${run.errorMessage}`);
	const summary = run.summary('customers') ?? {};
	return Object.fromEntries(SUMMARY_FIELDS.map((field) => [field, summary[field]]));
}

function same(what: string, fake: unknown, memory: unknown): string {
	const a = JSON.stringify(fake);
	const b = JSON.stringify(memory);
	if (a !== b) throw new Error(`fidelity: ${what} differs between the fake server and the in-memory stores:\n  fake   ${a}\n  memory ${b}`);
	return `${what}: same on both (${a.length > 140 ? `${a.slice(0, 140)}…` : a})`;
}

export async function checkFidelity(): Promise<string[]> {
	const spec: ScenarioSpec = { kind: 'shipped', customers: CUSTOMERS, batchSize: 1000 };
	const workflow = benchSyncWorkflow(spec);

	const server = new FakeSqlServer({ customers: CUSTOMERS });
	fakeServerBackend(spec, server);
	const fakeFirst = summaryOf(await runSync(workflow, { credentials: CREDENTIALS }));
	await rewindToBeginning(CREDENTIALS);
	const fakeAgain = summaryOf(await runSync(workflow, { credentials: CREDENTIALS }));
	const fakeCursor = server.storedCursor('customers');
	const fakeCrm = server.companyCounts();
	restoreAllSeams();

	const world = new SyncWorld();
	for (let no = 1; no <= CUSTOMERS; no++) {
		const row = customerRow(no);
		// SQL Server (and the in-memory table) stamps the rowversion itself.
		delete row.RowVer;
		world.contracting.table('dbo.Customers').insert(row as never);
	}
	const memoryFirst = summaryOf(await world.runSync(workflow));
	const rewind = await world.runRewind({ streams: 'customers', rewindBy: 'beginning' });
	if (rewind.errorMessage) throw new Error(`fidelity: the in-memory rewind failed: ${rewind.errorMessage}`);
	const memoryAgain = summaryOf(await world.runSync(workflow));
	const memoryCursor = (await world.watermarks.read('customers'))?.cursor;
	const companies = world.companies();
	const differing = companies.filter((company) => {
		const source = customerRow(Number(company.CustomerNo));
		return ['Name', 'OrgNo', 'Address', 'PostCode', 'City', 'Email', 'Phone'].some((column) => company[column] !== source[column]) || Boolean(company.IsActive) !== source.Active;
	}).length;
	restoreAllSeams();

	return [
		same(`first sync of ${CUSTOMERS} customers`, fakeFirst, memoryFirst),
		same('re-send after a rewind to the beginning', fakeAgain, memoryAgain),
		same('stored watermark', fakeCursor, memoryCursor),
		same('CRM companies held / differing from Contracting', fakeCrm, { held: companies.length, differing }),
	];
}
