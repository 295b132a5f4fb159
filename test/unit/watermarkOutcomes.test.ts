/**
 * The watermark Set's outcome table (test/contract/watermarkOutcomes.contract.ts) against the in-memory store, its
 * branch list against the T-SQL the SQL Server store sends, and the SQL Server store's wiring: that it hands the
 * verdict rules (COMMIT_VERDICTS, rendered into commitSql) the facts the request means.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Fact } from '../../nodes/shared/core/decisionTable';
import { decide, outcomesOf } from '../../nodes/shared/core/decisionTable';
import type { CommitFact } from '../../nodes/shared/core/watermark';
import { COMMIT_VERDICTS } from '../../nodes/shared/core/watermark';
import { comparableStoredValue } from '../../nodes/shared/core/watermarkLocation';
import type { SqlRequest } from '../../nodes/shared/transport/types';
import { SqlServerWatermarkStore } from '../../nodes/Watermark/stores/sqlServerWatermarkStore';
import { COMMIT_OPERANDS, STATE_COLUMNS, commitSql, packageLocationSql, replaceSql } from '../../nodes/Watermark/stores/watermarkSql';
import { DEFAULT_WATERMARK_TABLES } from '../../nodes/Watermark/stores/watermarkStore';
import { COMMIT_BRANCHES, REPLACE_BRANCHES, SET_ROWS, watermarkOutcomeTables } from '../contract/watermarkOutcomes.contract';
import { MemoryWatermarkStore } from '../support/memory/memoryWatermarkStore';
import { RecordingSqlTransport, resultOf } from '../support/recordingTransport';
import { audit, columnsOf, stateRow, tablesResult } from '../support/watermarkSqlAnswers';

watermarkOutcomeTables('in memory', async () => new MemoryWatermarkStore());

const branchKeywords = (text: string) => (text.match(/\b(WHEN|IF)\b/g) ?? []).length;
const listedKeywords = (branches: ReadonlyArray<{ keyword: string }>) => branches.filter((branch) => branch.keyword !== 'ELSE').length;

describe('Watermark Set outcome table: every branch has a row', () => {
	it('lists every WHEN and IF of the Set statement, and each is reached by a row', () => {
		const tables = DEFAULT_WATERMARK_TABLES;
		const text = commitSql(tables, packageLocationSql(tables.state), { schema: 'dbo', name: 'ContractingCrmWatermarkRetry' });
		assert.equal(branchKeywords(text), listedKeywords(COMMIT_BRANCHES), 'a WHEN or IF of commitSql has no entry in COMMIT_BRANCHES (and so no row)');
		const reached = new Set(SET_ROWS.flatMap((row) => row.reaches));
		assert.deepEqual(COMMIT_BRANCHES.map((entry) => entry.branch).filter((branch) => !reached.has(branch)), []);
	});

	it('has a row for every verdict of the rules, and each row expects the verdict of the branch it names', () => {
		const verdicts = new Set(SET_ROWS.map((row) => row.expected.verdict));
		assert.deepEqual(outcomesOf(COMMIT_VERDICTS).filter((verdict) => !verdicts.has(verdict)), []);
		for (const row of SET_ROWS) {
			for (const branch of row.reaches.filter((name) => name.startsWith('verdict: '))) {
				assert.equal(`verdict: ${row.expected.verdict}`, branch, row.name);
			}
		}
	});

	it('lists the one IF of Rewind and Undo', () => {
		const tables = DEFAULT_WATERMARK_TABLES;
		assert.equal(branchKeywords(replaceSql(tables, packageLocationSql(tables.state))), listedKeywords(REPLACE_BRANCHES));
	});
});

describe('SQL Server watermark store: Set hands the verdict rules the facts its request means', () => {
	/**
	 * For each row, the store's stored row as commitSql reads it into variables, and an answer to the Set statement
	 * decided by the rules from those variables and the parameters the store sent (through COMMIT_OPERANDS, the same
	 * names the T-SQL uses). The store's verdict must be the row's.
	 */
	const TOKEN_GENERATION = 5;
	for (const row of SET_ROWS.filter((candidate) => candidate.stored.exists !== false)) {
		it(row.name, async () => {
			const lease = row.stored.lease ?? 'this run';
			const variables: Record<string, Fact> = {
				'@generation': TOKEN_GENERATION,
				'@rewoundAt': row.stored.rewoundAfterGet ? TOKEN_GENERATION + 1 : 0,
				'@leaseOwner': lease === 'this run' ? 'run-1' : lease === 'released' ? null : 'run-2',
				'@comparable': comparableStoredValue(row.stored.cursor),
			};
			const answerTo = (request: SqlRequest) => {
				const facts = Object.fromEntries(
					(Object.entries(COMMIT_OPERANDS) as Array<[CommitFact, string]>).map(([fact, operand]) => {
						const sent = request.parameters.find((parameter) => `@${parameter.name}` === operand);
						return [fact, sent ? (sent.value as Fact) : (variables[operand] ?? null)];
					}),
				) as Record<CommitFact, Fact>;
				return resultOf([{ ...stateRow({ storedValue: row.stored.cursor }), verdict: decide(COMMIT_VERDICTS, facts), previousValue: row.stored.cursor, previousKind: 'datetime' }]);
			};
			const sql = new RecordingSqlTransport((request) => {
				if (request.text.includes('CREATE TABLE')) return tablesResult(columnsOf(STATE_COLUMNS, 'state'));
				if (request.text.includes('@verdict')) return answerTo(request);
				return resultOf([stateRow({ storedValue: row.stored.cursor })]);
			});
			const { request } = row;
			const result = await new SqlServerWatermarkStore(sql, DEFAULT_WATERMARK_TABLES).commit({
				token: { stream: 'customers', generation: TOKEN_GENERATION, owner: request.tokenOwner ?? 'run-1' },
				move: request.move,
				allowBackwards: request.allowBackwards ?? false,
				releaseLease: request.releaseLease ?? false,
				audit,
			});
			assert.equal(result.verdict, row.expected.verdict);
		});
	}
});
