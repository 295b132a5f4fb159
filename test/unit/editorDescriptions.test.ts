/**
 * What a partner reads and chooses in the node panels: n8n's vocabulary without Title-Case artefacts, internal
 * wiring out of sight, a time zone picked from a list (defaulting to the workflow's), choices instead of magic text,
 * and no panel that shows an error or an empty box before anything is set.
 */
import assert from 'node:assert/strict';
import { afterEach, before, describe, it } from 'node:test';

import type { INodeProperties, INodePropertyCollection, INodePropertyOptions, INodeTypeDescription, IWorkflowBase } from 'n8n-workflow';
import { NodeHelpers } from 'n8n-workflow';

import { replaceSeam, restoreAllSeams } from '../../nodes/shared/seams';
import { watermarkStoreSeam } from '../../nodes/Watermark/stores/watermarkStore';
import { MemoryWatermarkStore } from '../support/memory/memoryWatermarkStore';
import { PACKAGE_NAME, loadNodeTypes, readWorkflow, runWorkflow } from '../support/workflowRunner';

type Description = INodeTypeDescription & { properties: INodeProperties[] };
let nodes: Record<'contracting' | 'crm' | 'watermark', Description>;
let credentialProperties: INodeProperties[][];

before(async () => {
	const types = await loadNodeTypes();
	const of = (name: string) => types.getByNameAndVersion(`${PACKAGE_NAME}.${name}`).description as Description;
	nodes = { contracting: of('contracting'), crm: of('crm'), watermark: of('watermark') };
	credentialProperties = Object.values(types.ours.credentialTypes).map(({ type }) => type.properties);
});

/** Every parameter, option and collection entry, however deeply nested. */
function everything(properties: Array<INodeProperties | INodePropertyOptions | INodePropertyCollection>): Array<Record<string, unknown>> {
	return properties.flatMap((property) => {
		const nested = [...((property as INodeProperties).options ?? []), ...((property as INodePropertyCollection).values ?? [])] as Array<INodeProperties | INodePropertyOptions | INodePropertyCollection>;
		return [property as unknown as Record<string, unknown>, ...everything(typeof nested[0] === 'object' ? nested : [])];
	});
}

const shown = (description: INodeTypeDescription, values: Record<string, unknown>, name: string) =>
	description.properties.filter((property) => property.name === name && NodeHelpers.displayParameter(values as never, property, { typeVersion: 1 }, description));

describe('the words in the editor', () => {
	const texts = () =>
		[...Object.values(nodes).map((description) => description.properties), ...credentialProperties].flatMap((properties) =>
			everything(properties).flatMap((entry) => [entry.displayName, entry.name, entry.placeholder].filter((text): text is string => typeof text === 'string')),
		);

	it('have no Title-Case autofix artefacts', () => {
		const artefacts = texts().filter((text) => /\bDbo\.|\bHhmm|\bE\.g\.|\(Ms\)/.test(text));
		assert.deepEqual(artefacts, []);
	});

	it('say "Add option" (and "Add condition", "Add column"…) the one way n8n does', () => {
		const adds = texts().filter((text) => /^Add /.test(text));
		assert.ok(adds.includes('Add option'));
		assert.deepEqual(
			adds.filter((text) => /^Add [A-Z]/.test(text)),
			[],
		);
	});

	it('call the CRM write "Insert or Update", as n8n does for databases', () => {
		const operation = nodes.crm.properties.find((property) => property.name === 'operation');
		assert.deepEqual(
			(operation?.options as INodePropertyOptions[]).map(({ name, value }) => [name, value]),
			[['Insert or Update', 'upsert']],
		);
	});
});

describe('Visma Contracting: Since and Retry Keys are wiring, out of sight', () => {
	for (const operation of ['readChanges', 'countChanges']) {
		it(`${operation}: they sit under Advanced, behind a notice that names Watermark Get and links to the partner guide`, () => {
			const description = nodes.contracting;
			const values = { operation, streamPreset: 'customers' };
			for (const name of ['since', 'retryKeys']) assert.deepEqual(shown(description, values, name), [], `${name} is not a parameter of its own`);
			const [advanced] = shown(description, values, 'advanced');
			const inside = (advanced.options as INodeProperties[]).map((option) => option.name).sort();
			assert.deepEqual(inside, operation === 'readChanges' ? ['retryKeys', 'since'] : ['since']);
			const [notice] = shown(description, values, 'watermarkNotice');
			assert.equal(notice.type, 'notice');
			assert.match(notice.displayName, /Sync Watermark node's Get/);
			assert.match(notice.displayName, /workflows\/README\.md#visma-contracting/);
		});
	}
});

describe('Visma Contracting: saved choices show without a reachable database', () => {
	it('marker columns are picked from the list or typed by name, and default by name to the Contracting schema\'s own', () => {
		const defaults: Record<string, string> = { markerColumn: 'ChangedAt', dateColumn: 'LastChangeDate', timeColumn: 'LastChangeTime', rowversionColumn: 'RowVer' };
		for (const [name, column] of Object.entries(defaults)) {
			const property = nodes.contracting.properties.find((candidate) => candidate.name === name) as INodeProperties;
			assert.equal(property.type, 'resourceLocator', name);
			assert.deepEqual(property.default, { mode: 'name', value: column });
			assert.deepEqual(
				(property.modes ?? []).map((mode) => mode.name),
				['list', 'name'],
			);
		}
	});
});

describe('every node: a choice loaded from the database shows its saved value without the database', () => {
	/** Whether a parameter is part of the node at this version (version 1 keeps its own plain lists). */
	function partOfVersion(property: Record<string, unknown>, version: number): boolean {
		const versions = (property.displayOptions as INodeProperties['displayOptions'])?.show?.['@version'] as Array<number | { _cnd: { gte: number } }> | undefined;
		return !versions || versions.some((condition) => (typeof condition === 'number' ? condition === version : version >= condition._cnd.gte));
	}

	/** Parameters that would show only "Error fetching options", and pickers without a name to type when the list fails. */
	function withoutFallback(properties: Array<Record<string, unknown>>): string[] {
		return everything(properties as unknown as INodeProperties[]).flatMap((entry) => {
			const loadsAList = (entry.typeOptions as INodeProperties['typeOptions'])?.loadOptionsMethod !== undefined;
			const modes = (entry.modes as INodeProperties['modes']) ?? [];
			const listOnly = modes.some((mode) => mode.type === 'list') && !modes.some((mode) => mode.name === 'name' && mode.type === 'string');
			return loadsAList || listOnly ? [String(entry.name)] : [];
		});
	}

	for (const type of ['contracting', 'crm', 'watermark'] as const) {
		it(`${type}: every table and column choice of the newest version is picked from the list or typed by name`, () => {
			const description = nodes[type];
			const version = description.defaultVersion ?? 1;
			assert.ok(version > 1, 'a new node gets the version with the pickers');
			const current = description.properties.filter((property) => partOfVersion(property as unknown as Record<string, unknown>, version));
			assert.deepEqual(withoutFallback(current as unknown as Array<Record<string, unknown>>), []);
		});
	}

	it('the shipped workflows show no such choice on any node of this package, and keep the shipped deleted-row columns by name', async () => {
		const types = await loadNodeTypes();
		const shippedNodes = ['contracting-crm-sync', 'contracting-crm-rewind', 'contracting-crm-status', 'contracting-crm-alert']
			.flatMap((name) => readWorkflow(`workflows/${name}.json`).nodes)
			.filter((node) => node.type.startsWith(`${PACKAGE_NAME}.`));
		assert.ok(shippedNodes.length >= 10);
		for (const node of shippedNodes) {
			const description = types.getByNameAndVersion(node.type, node.typeVersion).description;
			const values = NodeHelpers.getNodeParameters(description.properties, node.parameters, true, false, node, description) ?? {};
			const shownHere = description.properties.filter((property) => NodeHelpers.displayParameter(values, property, node, description));
			assert.deepEqual(withoutFallback(shownHere as unknown as Array<Record<string, unknown>>), [], `${node.name} (version ${node.typeVersion})`);
			const deletedRowColumns = (node.parameters.deleteColumns as { column?: Array<{ column: unknown }> } | undefined)?.column ?? [];
			for (const { column } of deletedRowColumns) assert.equal((column as { mode?: string }).mode, 'name', node.name);
		}
	});
});

describe('Time Zone', () => {
	it('is a list of IANA zones on every node that has one, defaulting to the workflow\'s time zone', () => {
		const zones = Object.values(nodes).flatMap((description) => everything(description.properties).filter((entry) => entry.name === 'timeZone' && 'type' in entry));
		assert.ok(zones.length >= 2, 'Contracting and Watermark Get have a time zone');
		for (const zone of zones) {
			assert.equal(zone.type, 'options');
			assert.equal(zone.default, 'workflow');
			const values = (zone.options as INodePropertyOptions[]).map((option) => option.value);
			for (const name of ['workflow', 'Europe/Oslo', 'Europe/Stockholm', 'UTC']) assert.ok(values.includes(name), name);
			assert.ok(!values.includes('Europe/Olso'));
		}
	});

	describe('left at its default', () => {
		afterEach(() => restoreAllSeams());

		it("Watermark Get stores the workflow's time zone with a new stream", async () => {
			const store = new MemoryWatermarkStore();
			replaceSeam(watermarkStoreSeam, () => store);
			const workflow = {
				id: 'tz',
				name: 'time zone',
				active: false,
				settings: { timezone: 'Europe/Stockholm' },
				connections: { Start: { main: [[{ node: 'Get', type: 'main', index: 0 }]] } },
				nodes: [
					{ id: '1', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
					{
						id: '2',
						name: 'Get',
						type: 'n8n-nodes-contracting-crm.watermark',
						typeVersion: 1,
						position: [200, 0],
						parameters: { operation: 'get', stream: 'customers' },
						credentials: { crmSqlServerApi: { id: 'crm', name: 'CRM' } },
					},
				],
			} as unknown as IWorkflowBase;
			const run = await runWorkflow(workflow, { credentials: { crmSqlServerApi: { server: 'crm.invalid', database: 'CRM', user: 'n8n', password: 'x' } } });
			assert.equal(run.errorMessage, undefined);
			assert.equal(run.output('Get')[0].json.timeZone, 'Europe/Stockholm');
			assert.equal((await store.read('customers'))?.timeZone, 'Europe/Stockholm');
		});
	});
});

describe('Visma CRM', () => {
	it('shows the column mapping for a preset at once, and for Other Table only once a table is set (no error before)', () => {
		const description = nodes.crm;
		assert.equal(shown(description, { operation: 'upsert', target: 'customers' }, 'columns').length, 1);
		assert.equal(shown(description, { operation: 'upsert', target: 'table', table: { __rl: true, mode: 'list', value: '' } }, 'columns').length, 0);
		assert.equal(shown(description, { operation: 'upsert', target: 'table', table: { __rl: true, mode: 'list', value: 'dbo.Contact' } }, 'columns').length, 1);
	});

	it('sets deleted rows\' columns by choice (a value, empty, the time of writing), never by typing "now" or "null"', () => {
		const deleteColumns = nodes.crm.properties.find((property) => property.name === 'deleteColumns') as INodeProperties;
		assert.deepEqual((deleteColumns.default as { column: unknown[] }).column, [
			{ column: 'IsActive', setTo: 'value', value: '0' },
			{ column: 'DeletedAt', setTo: 'now' },
		]);
		const fields = ((deleteColumns.options as INodePropertyCollection[])[0].values ?? []).map((field) => field.name);
		assert.deepEqual(fields, ['column', 'setTo', 'value']);
		const descriptions = everything([deleteColumns]).map((entry) => String(entry.description ?? ''));
		assert.ok(descriptions.every((text) => !/"now"|"null"/.test(text)));
	});

	it('asks for a lookup in reading order: fill a column from a table where a column equals an item field', () => {
		const lookups = nodes.crm.properties.find((property) => property.name === 'lookups') as INodeProperties;
		const fields = ((lookups.options as INodePropertyCollection[])[0].values ?? []).map((field) => field.name);
		assert.deepEqual(fields.slice(0, 4), ['targetColumn', 'fromTable', 'keyColumn', 'itemField']);
	});
});

describe('Sync Watermark', () => {
	it('shows where the watermark is kept instead of an empty "Watermark Tables: No properties"', () => {
		const tables = nodes.watermark.properties.find((property) => property.name === 'tables') as INodeProperties;
		assert.deepEqual(tables.default, { watermarkTable: 'dbo.ContractingCrmWatermark' });
	});
});
