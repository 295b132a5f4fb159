import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';

export default [
	...configWithoutCloudSupport,
	{
		rules: {
			// This package talks to SQL Server through the `mssql` driver, which n8n does not ship; a community
			// node may declare it as a runtime dependency on self-hosted n8n (the only place this package runs),
			// while n8n Cloud, for which this rule exists, cannot reach a customer's SQL Server anyway.
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
			// n8n's own database nodes (Postgres v2, MySQL v2) name an upsert "Insert or Update", as the vocabulary of a
			// database write; this rule wants the "Create or Update" of API nodes. The rule is off here rather than
			// disabled inline, because n8n's package scanner ignores inline comments.
			'n8n-nodes-base/node-param-option-name-wrong-for-upsert': 'off',
			'n8n-nodes-base/node-param-description-wrong-for-upsert': 'off',
			// The nodes are deliberately not AI tools: they move watermarks, hold leases and write CRM, and a read needs
			// the cursor only Sync Watermark's Get hands over. n8n's description type has no "false" to say so.
			'@n8n/community-nodes/node-usable-as-tool': 'off',
			// A lookup reads as a sentence (fill this column from that table where that column equals this field), so
			// its fields keep that order instead of the alphabetical one this rule asks for.
			'n8n-nodes-base/node-param-fixed-collection-type-unsorted-items': 'off',
		},
	},
];
