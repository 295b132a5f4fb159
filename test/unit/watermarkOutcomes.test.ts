/**
 * The watermark Set's outcome table (test/contract/watermarkOutcomes.contract.ts) against the in-memory store, its
 * branch list against the T-SQL the SQL Server store sends, and the SQL Server store's wiring: that it hands the
 * verdict rules (COMMIT_VERDICTS, rendered into commitSql) the facts the request means.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Fact } from '../../nodes/shared/core/decisionTable';
import { conditionSql, decide, decidesSql, outcomesOf } from '../../nodes/shared/core/decisionTable';
import { PARKS_THE_ENTRY, RETRY_ACTIONS } from '../../nodes/shared/core/retryList';
import type { CommitFact } from '../../nodes/shared/core/watermark';
import { COMMIT_VERDICTS } from '../../nodes/shared/core/watermark';
import { comparableStoredValue } from '../../nodes/shared/core/watermarkLocation';
import type { SqlRequest } from '../../nodes/shared/transport/types';
import { SqlServerWatermarkStore } from '../../nodes/Watermark/stores/sqlServerWatermarkStore';
import { COMMIT_OPERANDS, STATE_COLUMNS, commitSql, packageLocationSql, replaceSql } from '../../nodes/Watermark/stores/watermarkSql';
import { DEFAULT_WATERMARK_TABLES } from '../../nodes/Watermark/stores/watermarkStore';
import { BRANCHES_REACHED_ELSEWHERE, COMMIT_BRANCHES, REPLACE_BRANCHES, SET_ROWS, watermarkOutcomeTables } from '../contract/watermarkOutcomes.contract';
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
		const reached = new Set([...SET_ROWS.flatMap((row) => row.reaches), ...BRANCHES_REACHED_ELSEWHERE]);
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
				// Instants as numbers here: the lease ends after now unless it was released.
				'@leaseExpiresAt': lease === 'released' ? null : 2,
				'@now': 1,
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

describe('SQL Server watermark store: the retry statements of Set apply the retry list rules', () => {
	const tables = DEFAULT_WATERMARK_TABLES;
	const retryTable = { schema: 'dbo', name: 'ContractingCrmWatermarkRetry' };
	const text = commitSql(tables, packageLocationSql(tables.state), retryTable);
	const between = (start: string, end: string) => {
		const from = text.indexOf(start);
		assert.ok(from !== -1, `the Set statement has ${start}`);
		return text.slice(from, text.indexOf(end, from));
	};
	const deletion = between('DELETE r FROM [dbo].[ContractingCrmWatermarkRetry]', 'SET @retryRemoved');
	const update = between('UPDATE r SET [Attempts]', 'INSERT INTO [dbo].[ContractingCrmWatermarkRetry]');
	const insert = between('INSERT INTO [dbo].[ContractingCrmWatermarkRetry]', 'END;');
	/** In the DELETE and the UPDATE the key is matched against a listed row; the INSERT works it out per key. */
	const listedRow = { written: 'c.Written', listed: '1' };
	const perKey = { written: 'c.Written', listed: 'l.Listed' };

	it('each key takes exactly the statement of its action: DELETE leave, UPDATE count another attempt, INSERT enter', () => {
		assert.ok(deletion.includes(decidesSql(RETRY_ACTIONS, 'leave', listedRow)));
		assert.ok(update.includes(decidesSql(RETRY_ACTIONS, 'count another attempt', listedRow)));
		assert.ok(insert.includes(decidesSql(RETRY_ACTIONS, 'enter', perKey)));
		assert.match(insert, /CASE WHEN EXISTS \(SELECT 1 FROM \[dbo\]\.\[ContractingCrmWatermarkRetry\] r WHERE r\.\[Stream\] = @stream AND c\.KeyText COLLATE Latin1_General_BIN2 = r\.\[KeyText\]\) THEN 1 ELSE 0 END AS Listed/);
		assert.deepEqual(outcomesOf(RETRY_ACTIONS), ['leave', 'count another attempt', 'enter'], 'an action without a statement would be listed here');
	});

	it('parks by PARKS_THE_ENTRY, with the attempts each statement writes', () => {
		const parks = (operands: { wasParked: string; attemptsAfter: string }) =>
			`CASE WHEN ${conditionSql(PARKS_THE_ENTRY, { ...operands, maxAttempts: '@maxAttempts' })} THEN 1 ELSE 0 END`;
		assert.ok(update.includes('SET [Attempts] = r.[Attempts] + 1,'));
		assert.ok(update.includes(`[Parked] = ${parks({ wasParked: 'r.[Parked]', attemptsAfter: 'r.[Attempts] + 1' })}`));
		assert.ok(insert.includes('SELECT @stream, c.KeyText, c.CursorText, 1, c.ErrorText, @now, @now,'));
		assert.ok(insert.includes(parks({ wasParked: 'CONVERT(bit, 0)', attemptsAfter: '1' })));
	});
});
