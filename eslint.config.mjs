import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';

export default [
	...configWithoutCloudSupport,
	{
		rules: {
			// This package talks to SQL Server through the `mssql` driver, which n8n does not ship; a community
			// node may declare it as a runtime dependency on self-hosted n8n (the only place this package runs),
			// while n8n Cloud, for which this rule exists, cannot reach a customer's SQL Server anyway.
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
		},
	},
];
