import type {
	ICredentialTestFunctions,
	ICredentialsDecrypted,
	INodeCredentialTestResult,
} from 'n8n-workflow';

import { OPENJSON_MIN_COMPATIBILITY_LEVEL, compatibilityLevelWarning } from '../core/upsertSql';
import { describeTarget } from '../transport/connectionSettings';
import { connectWith } from '../transport/connect';
import { SqlServerRequestError } from '../transport/sqlServerError';

// OPENJSON, which the CRM node's one-parameter batch path needs, exists from compatibility level 130.
export { OPENJSON_MIN_COMPATIBILITY_LEVEL };

export const SERVER_FACTS_QUERY = `SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS productVersion,
       CAST(SERVERPROPERTY('Edition') AS nvarchar(128)) AS edition,
       DB_NAME() AS databaseName,
       (SELECT compatibility_level FROM sys.databases WHERE database_id = DB_ID()) AS compatibilityLevel;`;

export interface ServerFacts {
	productVersion: string;
	edition: string;
	databaseName: string;
	compatibilityLevel: number;
}

/**
 * The nodes need SQL Server 2012 (version 11) or later: DATEFROMPARTS, TIMEFROMPARTS, THROW, CONCAT. Only the CRM
 * node's OPENJSON path needs more (compatibility level 130, SQL Server 2016); below it the node takes the other path.
 */
export const MIN_SQL_SERVER_MAJOR_VERSION = 11;

/** Whether the server is older than the package's minimum (SERVERPROPERTY('ProductVersion') is major.minor.build.revision). */
export function isBelowMinimumVersion(productVersion: string): boolean {
	const major = Number.parseInt(productVersion, 10);
	return Number.isFinite(major) && major < MIN_SQL_SERVER_MAJOR_VERSION;
}

export function describeServerFacts(facts: ServerFacts): string {
	const connected = `Connected to SQL Server ${facts.productVersion} (${facts.edition}), database ${facts.databaseName} at compatibility level ${facts.compatibilityLevel}.`;
	if (facts.compatibilityLevel >= OPENJSON_MIN_COMPATIBILITY_LEVEL) return connected;
	return `${connected} ${compatibilityLevelWarning(facts.compatibilityLevel, `[${facts.databaseName}]`)}`;
}

/** Used as `testedBy` by every node of this package, for both credentials. */
export async function sqlServerConnectionTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const { transport, settings } = connectWith(credential.data ?? {});
	try {
		const result = await transport.execute({ text: SERVER_FACTS_QUERY, parameters: [] });
		const facts = result.recordsets[0]?.[0] as unknown as ServerFacts | undefined;
		if (!facts) return { status: 'Error', message: `No answer from ${describeTarget(settings)}.` };
		if (isBelowMinimumVersion(String(facts.productVersion))) {
			return {
				status: 'Error',
				message: `${describeTarget(settings)} is SQL Server ${facts.productVersion}, older than SQL Server 2012 (version 11), which these nodes need (DATEFROMPARTS, THROW). Upgrade the server, or point the credential at one that runs SQL Server 2012 or later.`,
			};
		}
		return { status: 'OK', message: describeServerFacts(facts) };
	} catch (error) {
		if (error instanceof SqlServerRequestError) {
			return { status: 'Error', message: `${error.message.replace(/\.$/, '')}. ${error.advice}` };
		}
		return { status: 'Error', message: `Could not connect to ${describeTarget(settings)}: ${(error as Error).message}` };
	}
}
