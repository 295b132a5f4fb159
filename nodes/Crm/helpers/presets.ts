import type { QualifiedName } from '../../shared/core/identifiers';
import type { LookupSpec } from '../../shared/core/upsertPlan';

export type TargetChoice = 'customers' | 'orders' | 'table';

export interface TargetPreset {
	table: QualifiedName;
	/** Lookups the preset brings; the rows are matched on the table's natural key, read from the catalogue. */
	lookups: LookupSpec[];
}

const COMPANY: QualifiedName = { schema: 'dbo', name: 'Company' };

/** Visma CRM's own tables: customers into dbo.Company (matched on CustomerNo), orders into dbo.SalesOrder (matched on OrderNo, the company found by CustomerNo). */
export const TARGET_PRESETS: Record<Exclude<TargetChoice, 'table'>, TargetPreset> = {
	customers: { table: COMPANY, lookups: [] },
	orders: {
		table: { schema: 'dbo', name: 'SalesOrder' },
		lookups: [{ targetColumn: 'CompanyId', fromTable: COMPANY, keyColumn: 'CustomerNo', valueColumn: 'CompanyId', itemField: 'CustomerNo', label: 'Customer' }],
	},
};
