/**
 * BENCHMARK TOOLING, NOT A DATABASE. A responder for the transport double (test/support/recordingTransport.ts)
 * that plays a SQL Server holding N synthetic Contracting customers, the CRM tables and the watermark tables,
 * so the real SQL Server adapters (SqlServerChangeSource, SqlServerUpsertTarget, SqlServerWatermarkStore) can be
 * driven through a whole re-send with a modelled round-trip latency.
 *
 * It recognises this package's own statements only (the catalogue, the server facts, the keyset batch read, the
 * OPENJSON MERGE, the watermark batches) and throws on anything else, so a statement it does not know shows up
 * as a failed benchmark rather than as a silently wrong answer. It keeps O(N) bytes, not O(N) objects: rows are
 * generated from their number, and the CRM remembers per customer only whether it holds the generated values.
 *
 * Fidelity is checked by test/bench/fakeServerFidelity.ts against the in-memory stores the contract suites pin.
 */
import type { SqlParameter, SqlRequest, SqlResult, SqlRow } from '../../nodes/shared/transport/types';
import { DESCRIBE_TABLE_QUERY } from '../../nodes/shared/catalog';
import { COMPATIBILITY_LEVEL_QUERY } from '../../nodes/shared/core/upsertSql';
import { HISTORY_COLUMNS, STATE_COLUMNS } from '../../nodes/Watermark/stores/watermarkSql';

// ---------------------------------------------------------------------------------------------------------
// The synthetic Contracting customers

/** Row i changed i seconds after this local wall-clock time; the fraction makes every marker a full datetime2(7). */
const FIRST_CHANGE_MS = Date.UTC(2024, 0, 1, 0, 0, 0);
const FRACTION = '1234567';

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

function wallClockOf(customerNo: number): Date {
	return new Date(FIRST_CHANGE_MS + customerNo * 1000);
}

/** CONVERT(varchar(34), ChangedAt, 126) of customer `no`. */
export function markerOf(customerNo: number): string {
	const at = wallClockOf(customerNo);
	return `${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}T${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}.${FRACTION}`;
}

/** The first customer whose marker is at or after `marker` (markers rise with the customer number). */
function firstCustomerAtOrAfter(marker: string): number {
	const [whole, fraction = ''] = marker.split('.');
	const seconds = (Date.parse(`${whole}Z`) - FIRST_CHANGE_MS) / 1000;
	return fraction.padEnd(7, '0') <= FRACTION ? Math.max(1, seconds) : Math.max(1, seconds + 1);
}

/** The Contracting row of customer `no`, as the batch read outputs it (temporal and binary columns as SQL Server's text). */
export function customerRow(customerNo: number): Record<string, unknown> {
	const at = wallClockOf(customerNo);
	return {
		CustomerNo: customerNo,
		Name: `Kunde ${customerNo} AS`,
		OrgNo: String(900_000_000 + customerNo),
		Address: `Storgata ${(customerNo % 200) + 1}`,
		PostCode: pad(1000 + (customerNo % 9000), 4),
		City: customerNo % 3 === 0 ? 'Bergen' : 'Oslo',
		Email: `post${customerNo}@kunde.example`,
		Phone: `+47 ${20_000_000 + customerNo}`,
		Active: customerNo % 10 !== 0,
		ChangedAt: markerOf(customerNo),
		LastChangeDate: at.getUTCFullYear() * 10000 + (at.getUTCMonth() + 1) * 100 + at.getUTCDate(),
		LastChangeTime: at.getUTCHours() * 10000 + at.getUTCMinutes() * 100 + at.getUTCSeconds(),
		RowVer: `0x${customerNo.toString(16).toUpperCase().padStart(16, '0')}`,
	};
}

/** What dbo.Company holds for customer `no` after a correct sync, in the columns the shipped mapping writes. */
function expectedCompany(customerNo: number): Record<string, unknown> {
	const row = customerRow(customerNo);
	return {
		CustomerNo: row.CustomerNo,
		Name: row.Name,
		OrgNo: row.OrgNo,
		Address: row.Address,
		PostCode: row.PostCode,
		City: row.City,
		Email: row.Email,
		Phone: row.Phone,
		IsActive: row.Active,
	};
}

// ---------------------------------------------------------------------------------------------------------
// The catalogue

interface FakeColumn {
	name: string;
	typeName: string;
	maxLength?: number;
	precision?: number;
	scale?: number;
	nullable?: boolean;
	isIdentity?: boolean;
	hasDefault?: boolean;
}

interface FakeTable {
	columns: FakeColumn[];
	primaryKey: string[];
	unique?: string[][];
	changeTracking?: boolean;
}

const TABLES: Record<string, FakeTable> = {
	'dbo.Customers': {
		columns: [
			{ name: 'CustomerNo', typeName: 'int', nullable: false },
			{ name: 'Name', typeName: 'nvarchar', maxLength: 200, nullable: false },
			{ name: 'OrgNo', typeName: 'varchar', maxLength: 20 },
			{ name: 'Address', typeName: 'nvarchar', maxLength: 400 },
			{ name: 'PostCode', typeName: 'varchar', maxLength: 10 },
			{ name: 'City', typeName: 'nvarchar', maxLength: 200 },
			{ name: 'Email', typeName: 'nvarchar', maxLength: 400 },
			{ name: 'Phone', typeName: 'varchar', maxLength: 30 },
			{ name: 'Active', typeName: 'bit', nullable: false },
			{ name: 'ChangedAt', typeName: 'datetime2', maxLength: 8, precision: 27, scale: 7 },
			{ name: 'LastChangeDate', typeName: 'int' },
			{ name: 'LastChangeTime', typeName: 'int' },
			{ name: 'RowVer', typeName: 'timestamp', maxLength: 8, nullable: false },
		],
		primaryKey: ['CustomerNo'],
	},
	'dbo.Orders': {
		columns: [
			{ name: 'OrderNo', typeName: 'int', nullable: false },
			{ name: 'CustomerNo', typeName: 'int', nullable: false },
			{ name: 'Description', typeName: 'nvarchar', maxLength: 400 },
			{ name: 'OrderDate', typeName: 'date' },
			{ name: 'Status', typeName: 'varchar', maxLength: 20 },
			{ name: 'Amount', typeName: 'decimal', maxLength: 9, precision: 18, scale: 2 },
			{ name: 'ChangedAt', typeName: 'datetime' },
			{ name: 'RowVer', typeName: 'timestamp', maxLength: 8, nullable: false },
		],
		primaryKey: ['OrderNo'],
		changeTracking: true,
	},
	'dbo.Company': {
		columns: [
			{ name: 'CompanyId', typeName: 'int', nullable: false, isIdentity: true },
			{ name: 'CustomerNo', typeName: 'int', nullable: false },
			{ name: 'Name', typeName: 'nvarchar', maxLength: 200, nullable: false },
			{ name: 'OrgNo', typeName: 'varchar', maxLength: 20 },
			{ name: 'Address', typeName: 'nvarchar', maxLength: 400 },
			{ name: 'PostCode', typeName: 'varchar', maxLength: 10 },
			{ name: 'City', typeName: 'nvarchar', maxLength: 200 },
			{ name: 'Email', typeName: 'nvarchar', maxLength: 400 },
			{ name: 'Phone', typeName: 'varchar', maxLength: 30 },
			{ name: 'IsActive', typeName: 'bit', nullable: false, hasDefault: true },
			{ name: 'DeletedAt', typeName: 'datetime2', maxLength: 7, precision: 23, scale: 3 },
		],
		primaryKey: ['CompanyId'],
		unique: [['CustomerNo']],
	},
	'dbo.SalesOrder': {
		columns: [
			{ name: 'SalesOrderId', typeName: 'int', nullable: false, isIdentity: true },
			{ name: 'OrderNo', typeName: 'int', nullable: false },
			{ name: 'CompanyId', typeName: 'int', nullable: false },
			{ name: 'Description', typeName: 'nvarchar', maxLength: 400 },
			{ name: 'OrderDate', typeName: 'date' },
			{ name: 'Status', typeName: 'varchar', maxLength: 20 },
			{ name: 'Amount', typeName: 'decimal', maxLength: 9, precision: 18, scale: 2 },
			{ name: 'IsActive', typeName: 'bit', nullable: false, hasDefault: true },
			{ name: 'DeletedAt', typeName: 'datetime2', maxLength: 7, precision: 23, scale: 3 },
		],
		primaryKey: ['SalesOrderId'],
		unique: [['OrderNo']],
	},
};

function describeResult(schema: string, name: string): SqlResult {
	const table = TABLES[`${schema}.${name}`];
	if (!table) return { recordsets: [[], [], []], rowsAffected: [0, 0, 0] };
	const keys = [table.primaryKey, ...(table.unique ?? [])];
	const columns = table.columns.map((column) => ({
		name: column.name,
		typeName: column.typeName,
		maxLength: column.maxLength ?? (column.typeName === 'bit' ? 1 : column.typeName === 'date' ? 3 : 4),
		precision: column.precision ?? 0,
		scale: column.scale ?? 0,
		nullable: column.nullable ?? true,
		isIdentity: column.isIdentity ?? false,
		isComputed: false,
		hasDefault: column.hasDefault ? 1 : 0,
		primaryKeyOrdinal: table.primaryKey.indexOf(column.name) + 1,
	}));
	const unique = keys.flatMap((key, index) => key.map((columnName) => ({ indexId: index + 1, columnName })));
	return {
		recordsets: [[{ kind: 'table', changeTracking: table.changeTracking ? 1 : 0 }], columns, unique],
		rowsAffected: [1, columns.length, unique.length],
	};
}

// ---------------------------------------------------------------------------------------------------------
// The watermark tables (the package's own table as the cursor's place)

interface StreamRow {
	stream: string;
	cursorText: string | null;
	cursorKind: string | null;
	generation: number;
	rewoundAtGeneration: number;
	timeZone: string;
	leaseOwner: string | null;
	leaseExpiresAt: number | null;
	leaseSeconds: number;
	cursorChangedAt: number;
	cursorLocation: string | null;
}

interface HistoryRow {
	id: number;
	stream: string;
	oldCursor: string | null;
	newCursor: string | null;
	changedAt: number;
	workflowId: string | null;
	executionId: string | null;
	action: string;
	reason: string | null;
}

/** CONVERT(varchar(23), datetime2(3), 126). */
const isoOf = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().slice(0, 23));

/** sys.columns.max_length of a column definition of watermarkSql.ts. */
function bytesOf(definition: string): number {
	const sized = /^(n?)varchar\((\d+|max)\)/.exec(definition);
	if (!sized) return 8;
	if (sized[2] === 'max') return -1;
	return Number(sized[2]) * (sized[1] === 'n' ? 2 : 1);
}

const stateSelect = (row: StreamRow) => ({
	stream: row.stream,
	cursorKind: row.cursorKind,
	generation: String(row.generation),
	rewoundAtGeneration: String(row.rewoundAtGeneration),
	timeZone: row.timeZone,
	leaseOwner: row.leaseOwner,
	leaseExpiresAt: isoOf(row.leaseExpiresAt),
	cursorChangedAt: isoOf(row.cursorChangedAt),
	cursorLocation: row.cursorLocation,
});

/** ISNULL(a, N'') = ISNULL(b, N'') under a binary collation. */
const sameText = (a: unknown, b: unknown) => String(a ?? '') === String(b ?? '');

/** comparableStoredValue in T-SQL (see commitSql): the two local-time kinds compare as one. */
function comparable(stored: string | null): string | null {
	const prefix = '{"kind":"dateAndTime",';
	return stored !== null && stored.startsWith(prefix) ? `{"kind":"datetime",${stored.slice(prefix.length)}` : stored;
}

// ---------------------------------------------------------------------------------------------------------
// The server

export interface FakeServerOptions {
	/** How many customers Contracting holds (customer numbers 1…N). */
	customers: number;
	/** Whether CRM already holds every customer with the values a sync writes (the state before a rewind). */
	crmHoldsAll?: boolean;
	/** Compatibility level of the CRM database; 130 and up takes OPENJSON. */
	compatibilityLevel?: number;
}

/** How a request is classified, for the benchmark's round-trip breakdown. */
export type StatementKind = 'catalogue' | 'serverFacts' | 'batchRead' | 'changeCount' | 'merge' | 'watermark' | 'compatibility';

const ABSENT = 0;
const AS_GENERATED = 1;
const CHANGED = 2;

export class FakeSqlServer {
	readonly customers: number;
	private readonly compatibilityLevel: number;
	/** Per customer: ABSENT, AS_GENERATED (CRM holds the values a sync writes) or CHANGED (held in `changedCompanies`). */
	private readonly companyState: Uint8Array;
	private readonly changedCompanies = new Map<number, Record<string, unknown>>();
	private readonly streams = new Map<string, StreamRow>();
	private readonly history: HistoryRow[] = [];
	private nextHistoryId = 1;
	readonly statements: Record<StatementKind, number> = { catalogue: 0, serverFacts: 0, batchRead: 0, changeCount: 0, merge: 0, watermark: 0, compatibility: 0 };
	readonly outcomes: Record<string, number> = { inserted: 0, updated: 0, unchanged: 0 };

	constructor(options: FakeServerOptions) {
		this.customers = options.customers;
		this.compatibilityLevel = options.compatibilityLevel ?? 150;
		this.companyState = new Uint8Array(options.customers + 1).fill(options.crmHoldsAll ? AS_GENERATED : ABSENT);
		this.companyState[0] = ABSENT;
	}

	/** The responder to give RecordingSqlTransport. */
	readonly respond = (request: SqlRequest): SqlResult => {
		const text = request.text;
		if (text === DESCRIBE_TABLE_QUERY) return this.count('catalogue', describeResult(String(value(request, 'schema')), String(value(request, 'table'))));
		if (text === COMPATIBILITY_LEVEL_QUERY) return this.count('compatibility', rows([{ compatibilityLevel: this.compatibilityLevel }]));
		if (text.startsWith('SELECT CONVERT(varchar(33), SYSUTCDATETIME(), 126) AS serverUtcNow')) {
			return this.count('serverFacts', rows([{ serverUtcNow: new Date().toISOString().replace('Z', '0000') }]));
		}
		if (text.startsWith('SELECT TOP (@take)') && text.includes('AS __sync_marker')) return this.count('batchRead', this.batchRead(request));
		if (text.startsWith('SELECT COUNT_BIG(*) AS changeCount')) return this.count('changeCount', this.changeCount(request));
		if (text.includes('MERGE [dbo].[Company] WITH (HOLDLOCK) AS t') && text.includes('OPENJSON(@rows)')) return this.count('merge', this.merge(request));
		const watermark = this.watermarkStatement(request);
		if (watermark) return this.count('watermark', watermark);
		throw new Error(`The benchmark's fake SQL Server does not know this statement: ${text.slice(0, 160)}`);
	};

	get roundTrips(): number {
		return Object.values(this.statements).reduce((sum, count) => sum + count, 0);
	}

	/** The stored watermark of a stream, as the state table holds it. */
	storedCursor(stream: string): string | null | undefined {
		return this.streams.get(stream)?.cursorText;
	}

	/** How many customers CRM holds, and how many of them differ from what a sync writes. */
	companyCounts(): { held: number; differing: number } {
		let held = 0;
		for (let no = 1; no < this.companyState.length; no++) if (this.companyState[no] !== ABSENT) held++;
		return { held, differing: this.changedCompanies.size };
	}

	/** Seeds a stream as a previous run would have left it: stored at `cursorText`, lease free. */
	seedStream(stream: string, cursorText: string | null, timeZone = 'Europe/Oslo'): void {
		this.streams.set(stream, {
			stream,
			cursorText,
			cursorKind: cursorText === null ? 'datetime' : (JSON.parse(cursorText) as { kind: string }).kind,
			generation: 1,
			rewoundAtGeneration: 0,
			timeZone,
			leaseOwner: null,
			leaseExpiresAt: null,
			leaseSeconds: 300,
			cursorChangedAt: Date.now(),
			cursorLocation: null,
		});
	}

	private count(kind: StatementKind, result: SqlResult): SqlResult {
		this.statements[kind]++;
		return result;
	}

	// -- Contracting ------------------------------------------------------------------------------------

	/** Whether the statement reads dbo.Customers (true) or the empty dbo.Orders (false). */
	private readsCustomers(request: SqlRequest): boolean {
		if (request.text.includes('FROM [dbo].[Customers] AS src')) return true;
		if (request.text.includes('FROM [dbo].[Orders] AS src')) return false;
		throw new Error('The fake SQL Server holds rows in dbo.Customers and dbo.Orders only');
	}

	/** The first customer after the statement's cursor (@m, @k0): markers rise with the customer number. */
	private firstAfterCursor(request: SqlRequest): number {
		const key = value(request, 'k0');
		const marker = value(request, 'm');
		if (key !== undefined) return Number(key) + 1;
		return marker !== undefined ? firstCustomerAtOrAfter(String(marker)) : 1;
	}

	private changeCount(request: SqlRequest): SqlResult {
		if (!this.readsCustomers(request)) return rows([{ changeCount: '0' }]);
		const last = Math.min(this.customers, firstCustomerAtOrAfter(String(value(request, 'upperBound'))) - 1);
		return rows([{ changeCount: String(Math.max(0, last - this.firstAfterCursor(request) + 1)) }]);
	}

	private batchRead(request: SqlRequest): SqlResult {
		if (!this.readsCustomers(request)) return rows([]);
		const take = Number(value(request, 'take'));
		const upperBound = String(value(request, 'upperBound'));
		const first = this.firstAfterCursor(request);
		const result: SqlRow[] = [];
		for (let no = first; no <= this.customers && result.length < take; no++) {
			const row = customerRow(no);
			if (String(row.ChangedAt) >= upperBound) break;
			result.push({ ...row, __sync_marker: row.ChangedAt, __sync_key_0: String(no) });
		}
		return rows(result);
	}

	// -- CRM ---------------------------------------------------------------------------------------------

	private merge(request: SqlRequest): SqlResult {
		const text = request.text;
		const insert = /INSERT \(([^)]*)\) VALUES \(([^)]*)\)/.exec(text);
		const withClause = /OPENJSON\(@rows\) WITH \((.*?)\) AS j/.exec(text);
		if (!insert || !withClause) throw new Error('The fake SQL Server cannot read this MERGE');
		const names = insert[1].split(', ').map((name) => name.slice(1, -1));
		const aliases = insert[2].split(', ').map((alias) => alias.replace(/^s\.\[|\]$/g, ''));
		const positions = new Map([...withClause[1].matchAll(/\[(\w+)\] [^']+ '\$\[(\d+)\]'/g)].map((match) => [match[1], Number(match[2])]));
		const columnAt = names.map((name, index) => ({ name, position: positions.get(aliases[index]) as number }));
		const dryRun = !text.includes('BEGIN TRANSACTION;');
		const outcomes = (JSON.parse(String(value(request, 'rows'))) as unknown[][]).map((row) => {
			const company = Object.fromEntries(columnAt.map(({ name, position }) => [name, row[position]]));
			return { row: row[0], outcome: this.upsertCompany(company, dryRun), missingLookup: null };
		});
		return rows(outcomes);
	}

	private upsertCompany(company: Record<string, unknown>, dryRun: boolean): string {
		const no = Number(company.CustomerNo);
		if (!Number.isInteger(no) || no < 1 || no >= this.companyState.length) throw new Error(`The fake CRM holds customers 1…${this.customers} only, not ${String(company.CustomerNo)}`);
		const state = this.companyState[no];
		const current = state === CHANGED ? (this.changedCompanies.get(no) as Record<string, unknown>) : state === AS_GENERATED ? expectedCompany(no) : undefined;
		const outcome = current === undefined ? 'inserted' : sameCompany(current, company) ? 'unchanged' : 'updated';
		if (dryRun || outcome === 'unchanged') return outcome;
		this.outcomes[outcome]++;
		if (sameCompany(expectedCompany(no), company)) {
			this.companyState[no] = AS_GENERATED;
			this.changedCompanies.delete(no);
		} else {
			this.companyState[no] = CHANGED;
			this.changedCompanies.set(no, company);
		}
		return outcome;
	}

	// -- Watermark -----------------------------------------------------------------------------------------

	private watermarkStatement(request: SqlRequest): SqlResult | undefined {
		const text = request.text;
		if (!text.includes('[dbo].[ContractingCrmWatermark')) return undefined;
		if (text.includes('AS stateSchemaExists')) return this.ensureTables();
		if (text.includes('DECLARE @taken TABLE')) return this.acquire(request);
		if (text.includes('@verdict AS verdict')) return this.commit(request);
		if (text.includes('@replaced AS replaced')) return this.replace(request);
		if (text.includes('w.[CursorText] AS storedValue FROM')) {
			const row = this.streams.get(String(value(request, 'stream')));
			return rows(row ? [{ ...stateSelect(row), storedValue: row.cursorText }] : []);
		}
		if (text.startsWith('SELECT [Stream] AS stream FROM')) return rows([...this.streams.keys()].sort().map((stream) => ({ stream })));
		if (text.includes('AS oldCursor')) return this.historyRead(request);
		return undefined;
	}

	private ensureTables(): SqlResult {
		const columns = [
			...STATE_COLUMNS.map((column) => ({ tableRole: 'state', name: column.name, typeName: column.typeName, maxLength: bytesOf(column.definition) })),
			...HISTORY_COLUMNS.map((column) => ({ tableRole: 'history', name: column.name, typeName: column.typeName, maxLength: bytesOf(column.definition) })),
		];
		return { recordsets: [[{ stateSchemaExists: 1, historySchemaExists: 1 }], columns], rowsAffected: [1, columns.length] };
	}

	private addHistory(stream: string, oldCursor: string | null, newCursor: string | null, request: SqlRequest, action: string, reason: string | null, now: number): void {
		this.history.push({
			id: this.nextHistoryId++,
			stream,
			oldCursor,
			newCursor,
			changedAt: now,
			workflowId: (value(request, 'workflowId') as string | null) ?? null,
			executionId: (value(request, 'executionId') as string | null) ?? null,
			action,
			reason,
		});
	}

	private acquire(request: SqlRequest): SqlResult {
		const now = Date.now();
		const stream = String(value(request, 'stream'));
		const owner = String(value(request, 'owner'));
		const leaseSeconds = Number(value(request, 'leaseSeconds'));
		const location = (value(request, 'location') as string | null) ?? null;
		let row = this.streams.get(stream);
		if (row && !sameText(row.cursorLocation, location)) return rows([{ outcome: 'location differs', recordedLocation: row.cursorLocation }]);
		let firstUse = false;
		if (!row) {
			row = {
				stream,
				cursorText: null,
				cursorKind: (value(request, 'startingKind') as string | null) ?? null,
				generation: 0,
				rewoundAtGeneration: 0,
				timeZone: String(value(request, 'timeZone')),
				leaseOwner: null,
				leaseExpiresAt: null,
				leaseSeconds,
				cursorChangedAt: now,
				cursorLocation: location,
			};
			this.streams.set(stream, row);
			firstUse = true;
		}
		if (firstUse) {
			const starting = (value(request, 'startingValue') as string | null) ?? null;
			if (row.cursorText === null && starting !== null) row.cursorText = starting;
			this.addHistory(stream, null, row.cursorText, request, 'first use', (value(request, 'startingReason') as string | null) ?? null, now);
		}
		const free = row.leaseOwner === null || row.leaseOwner === owner || (row.leaseExpiresAt !== null && row.leaseExpiresAt <= now);
		const previousOwner = row.leaseOwner;
		const previousExpiry = row.leaseExpiresAt;
		if (free) {
			row.leaseOwner = owner;
			row.leaseExpiresAt = now + leaseSeconds * 1000;
			row.leaseSeconds = leaseSeconds;
			row.timeZone = String(value(request, 'timeZone'));
			if (previousOwner !== null && previousOwner !== owner) {
				this.addHistory(stream, row.cursorText, row.cursorText, request, 'takeover', `The lease of "${previousOwner}" had expired at ${isoOf(previousExpiry)} UTC`, now);
			}
		}
		return rows([
			{
				...stateSelect(row),
				outcome: free ? 'acquired' : 'held',
				firstUse: firstUse ? 1 : 0,
				storedValue: row.cursorText,
				previousOwner: free ? previousOwner : null,
				previousExpiry: free ? isoOf(previousExpiry) : null,
			},
		]);
	}

	private commit(request: SqlRequest): SqlResult {
		const now = Date.now();
		const stream = String(value(request, 'stream'));
		const row = this.streams.get(stream);
		const previous = row?.cursorText ?? null;
		const previousKind = row?.cursorKind ?? null;
		const allowBackwards = Boolean(value(request, 'allowBackwards'));
		const batchStart = (value(request, 'batchStart') as string | null) ?? null;
		let verdict: string;
		if (!row) verdict = 'unknown stream';
		else if (row.leaseOwner === null || row.leaseOwner !== value(request, 'tokenOwner')) verdict = 'lease lost';
		else if (!value(request, 'hasNewCursor')) verdict = 'nothing to store';
		else if (!allowBackwards && row.rewoundAtGeneration > Number(value(request, 'tokenGeneration'))) verdict = 'rewound meanwhile';
		else if (!allowBackwards && comparable(row.cursorText) !== batchStart) verdict = 'not where the batch started';
		else verdict = 'store';
		if (!row) return rows([{ stream: null, verdict, previousValue: null, previousKind: null, storedValue: null }]);
		if (verdict === 'store') {
			row.cursorText = (value(request, 'newValue') as string | null) ?? null;
			row.generation++;
			row.cursorKind = (value(request, 'newKind') as string | null) ?? null;
			row.cursorChangedAt = now;
			this.addHistory(stream, previous, (value(request, 'newCursorText') as string | null) ?? null, request, 'set', null, now);
		}
		const written = verdict === 'store' || verdict === 'nothing to store';
		if (verdict === 'rewound meanwhile' || verdict === 'not where the batch started' || (value(request, 'releaseLease') && written)) {
			row.leaseOwner = null;
			row.leaseExpiresAt = null;
		} else if (written) {
			row.leaseExpiresAt = now + row.leaseSeconds * 1000;
		}
		return rows([{ ...stateSelect(row), verdict, previousValue: previous, previousKind, storedValue: row.cursorText }]);
	}

	private replace(request: SqlRequest): SqlResult {
		const now = Date.now();
		const stream = String(value(request, 'stream'));
		const row = this.streams.get(stream);
		if (!row) return rows([]);
		const previous = row.cursorText;
		let replaced = false;
		if (row.generation === Number(value(request, 'expectedGeneration'))) {
			row.cursorText = (value(request, 'newValue') as string | null) ?? null;
			row.generation++;
			row.rewoundAtGeneration = row.generation;
			row.cursorKind = (value(request, 'newKind') as string | null) ?? row.cursorKind;
			row.cursorChangedAt = now;
			replaced = true;
			this.addHistory(stream, previous, (value(request, 'newCursorText') as string | null) ?? null, request, String(value(request, 'action')), (value(request, 'reason') as string | null) ?? null, now);
		}
		return rows([{ ...stateSelect(row), replaced: replaced ? 1 : 0, storedValue: row.cursorText }]);
	}

	private historyRead(request: SqlRequest): SqlResult {
		const stream = String(value(request, 'stream'));
		let entries = this.history.filter((entry) => entry.stream === stream).reverse();
		if (request.text.includes("[Action] IN ('rewind', 'undo')")) entries = entries.filter((entry) => entry.action === 'rewind' || entry.action === 'undo');
		else if (request.text.includes('SELECT TOP (1)')) {
			const at = Date.parse(`${String(value(request, 'at'))}Z`);
			entries = entries.filter((entry) => entry.changedAt <= at && entry.action !== 'takeover').slice(0, 1);
		} else entries = entries.slice(0, Number(value(request, 'limit')));
		return rows(entries.map((entry) => ({ ...entry, changedAt: isoOf(entry.changedAt) })));
	}
}

function value(request: SqlRequest, name: string): SqlParameter['value'] | undefined {
	return request.parameters.find((parameter) => parameter.name === name)?.value;
}

function rows(recordset: SqlRow[]): SqlResult {
	return { recordsets: [recordset], rowsAffected: [recordset.length] };
}

/** Values compared as SQL Server would after conversion to the column types: bit true = 1, numbers = their text. */
function sameCompany(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
	const normal = (input: unknown) => (input === true ? '1' : input === false ? '0' : input === null || input === undefined ? null : String(input));
	return Object.keys(b).every((name) => normal(a[name]) === normal(b[name]));
}
