import type { INodeProperties } from 'n8n-workflow';

export interface SqlServerCredentialWords {
	/** The database such a credential usually names, for the Database field's placeholder. */
	databaseExample: string;
	/** Shown at the top of the credential: what the connection test does not say. */
	notice?: string;
}

/** The connection fields shared by the Contracting and CRM credentials; two names so the editor tells them apart. */
export function sqlServerCredentialProperties(words: SqlServerCredentialWords): INodeProperties[] {
	const notice: INodeProperties[] = words.notice
		? [{ displayName: words.notice, name: 'compatibilityNotice', type: 'notice', default: '' }]
		: [];
	return [...notice, ...connectionFields(words.databaseExample)];
}

function connectionFields(databaseExample: string): INodeProperties[] {
	return [
		{
			displayName: 'Server',
			name: 'server',
			type: 'string',
			default: 'localhost',
			placeholder: 'sql01.customer.local or sql01\\INSTANCE',
			description: 'Host name or address of the SQL Server',
		},
		{
			displayName: 'Port',
			name: 'port',
			type: 'number',
			default: 1433,
		},
		{
			displayName: 'Database',
			name: 'database',
			type: 'string',
			default: '',
			placeholder: `e.g. ${databaseExample}`,
		},
		{
			displayName: 'User',
			name: 'user',
			type: 'string',
			default: '',
		},
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
		},
		{
			displayName: 'Domain',
			name: 'domain',
			type: 'string',
			default: '',
			description: 'For a Windows (NTLM) login: the domain of the user. Leave empty for a SQL Server login.',
		},
		{
			displayName: 'Encrypt',
			name: 'encrypt',
			type: 'boolean',
			default: true,
			description: 'Whether to encrypt the connection with TLS',
		},
		{
			displayName: 'Trust Server Certificate',
			name: 'trustServerCertificate',
			type: 'boolean',
			default: false,
			description:
				'Whether to accept a self-signed server certificate (common on a customer\'s own SQL Server). Prefer installing a trusted certificate.',
		},
		{
			displayName: 'Connect Timeout (Milliseconds)',
			name: 'connectTimeout',
			type: 'number',
			default: 15000,
		},
		{
			displayName: 'Request Timeout (Milliseconds)',
			name: 'requestTimeout',
			type: 'number',
			default: 60000,
			description: 'How long one statement may run before it is cancelled',
		},
	];
}
