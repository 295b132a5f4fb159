/**
 * Every statement stays within SQL Server 2012 (issue 11, item 14): no construct (written in upper case, as all
 * T-SQL here is) that only later versions know,
 * in any T-SQL the nodes hold, except OPENJSON on the CRM node's compatibility-level-130 path (upsertSql.ts picks
 * it only from that level). And the read's advice names 2012, not a later version, as the minimum.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { changeBatchRequest, countFromResult } from '../../nodes/shared/core/changeQuery';
import { beginningCursor } from '../../nodes/shared/core/cursor';
import { resolveSourcePlan } from '../../nodes/shared/core/markers';
import { MemoryChangeSource } from '../support/memory/memoryChangeSource';
import { sourceSpecFor } from '../support/sourceSpec';

const NODES = path.resolve(__dirname, '../../../nodes');

/** T-SQL that SQL Server 2012 does not know, with the version that brought it. */
const AFTER_2012: Array<[RegExp, string]> = [
	[/\bSTRING_AGG\s*\(/, '2017'],
	[/\bSTRING_SPLIT\s*\(/, '2016'],
	[/\bCONCAT_WS\s*\(/, '2017'],
	[/\bTRIM\s*\(/, '2017'],
	[/\bTRANSLATE\s*\(/, '2017'],
	[/\bDATEDIFF_BIG\s*\(/, '2016'],
	[/\bAT TIME ZONE\b/, '2016'],
	[/\b(?:JSON_VALUE|JSON_QUERY|JSON_MODIFY|ISJSON)\s*\(/, '2016'],
	[/\bDROP\s+(?:TABLE|VIEW|INDEX|PROCEDURE|FUNCTION)\s+IF\s+EXISTS\b/, '2016'],
	[/\bCREATE\s+OR\s+ALTER\b/, '2016 SP1'],
	[/\b(?:GREATEST|LEAST)\s*\(/, '2022'],
	[/\bTRY_CONVERT\s*\(|\bTRY_CAST\s*\(|\bTRY_PARSE\s*\(/, 'compatibility level 110 (a database restored from 2008 keeps 100)'],
	[/\bOPENJSON\b/, '2016, compatibility level 130'],
];

/** The level-130 path itself, and the credential test's warning that names what a lower level lacks. */
const OPENJSON_ALLOWED = [path.join('shared', 'core', 'upsertSql.ts'), path.join('shared', 'methods', 'credentialTest.ts')];

function sourceFiles(folder: string): string[] {
	return readdirSync(folder).flatMap((name) => {
		const file = path.join(folder, name);
		return statSync(file).isDirectory() ? sourceFiles(file) : file.endsWith('.ts') ? [file] : [];
	});
}

describe('every statement stays within SQL Server 2012', () => {
	it('no node source holds T-SQL that only a later version knows (OPENJSON only on the level-130 path)', () => {
		const found: string[] = [];
		for (const file of sourceFiles(NODES)) {
			const relative = path.relative(NODES, file);
			const text = readFileSync(file, 'utf8');
			for (const [pattern, version] of AFTER_2012) {
				if (pattern.source.includes('OPENJSON') && OPENJSON_ALLOWED.includes(relative)) continue;
				if (pattern.test(text.replace(/^\s*(?:\/\/|\*|\/\*\*).*$/gm, ''))) found.push(`${relative}: ${pattern.source} (SQL Server ${version})`);
			}
		}
		assert.deepEqual(found, []);
	});

	it('the advice for an answer SQL Server would never give names 2012 as the minimum', () => {
		const definition = { name: 'dbo.C', columns: [{ name: 'No', type: 'int', nullable: false }, { name: 'At', type: 'datetime2(7)' }], primaryKey: ['No'] };
		const plan = resolveSourcePlan(new MemoryChangeSource().define(definition).catalog, sourceSpecFor('dbo.C', { kind: 'datetime', column: 'At' }));
		assert.ok(changeBatchRequest(plan, { upperBound: '2024-01-01T00:00:00' }, beginningCursor('datetime'), 1).text.length > 0);
		assert.throws(
			() => countFromResult(plan, { upperBound: '2024-01-01T00:00:00' }, beginningCursor('datetime'), { recordsets: [[]], rowsAffected: [0] }),
			(error: unknown) => error instanceof Error && /SQL Server 2012 or later/.test((error as { advice?: string }).advice ?? ''),
		);
	});
});
