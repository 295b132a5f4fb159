import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { SQL_DIRECTORY, parseRunOrder, readRunOrder, sqlBatches } from '../integration/support/sqlScripts';

describe('integration SQL scripts', () => {
	it('splits a script into batches at GO lines only, as sqlcmd does', () => {
		const script = 'CREATE DATABASE [A];\r\nGO\r\n-- GOOD is not GO\nALTER DATABASE [A] SET COMPATIBILITY_LEVEL = 120;\n  go  \n\nGO\n';
		assert.deepEqual(sqlBatches(script), [
			'CREATE DATABASE [A];',
			'-- GOOD is not GO\nALTER DATABASE [A] SET COMPATIBILITY_LEVEL = 120;',
		]);
	});

	it('reads the run order, ignoring comments and blank lines, and refuses a line it cannot read', () => {
		assert.deepEqual(parseRunOrder('# database script\n\nmaster  00.sql\nCrmTest\t20.sql # CRM\n'), [
			{ database: 'master', script: '00.sql' },
			{ database: 'CrmTest', script: '20.sql' },
		]);
		assert.throws(() => parseRunOrder('master\n'), /is not "<database> <script>"/);
	});

	it('creates the databases first, then the schemas in each of the three test databases', () => {
		const steps = readRunOrder();
		assert.equal(steps[0].database, 'master');
		assert.deepEqual(steps.slice(1).map((step) => step.database), ['ContractingTest', 'CrmTest', 'CrmLegacyTest']);
		for (const { script } of steps) assert.ok(existsSync(path.join(SQL_DIRECTORY, script)), script);
	});

	it('labels every script as representative, with no sqlcmd command the suite could not send', () => {
		for (const script of new Set(readRunOrder().map((step) => step.script))) {
			const text = readFileSync(path.join(SQL_DIRECTORY, script), 'utf8');
			const header = text.split(/\r?\n/).filter((line) => line.startsWith('--')).map((line) => line.slice(2).trim()).join(' ');
			assert.match(header, /REPRESENTATIVE, NOT REQUIRED: .*Every table and column is chosen in the node editor; nothing in the nodes is hard-coded/, script);
			assert.doesNotMatch(text, /^\s*:/m, `${script} uses a sqlcmd command`);
			assert.doesNotMatch(text, /\$\(/, `${script} uses a sqlcmd variable`);
			assert.doesNotMatch(text, /^\s*USE\s/im, `${script} switches database itself; run-order chooses it`);
		}
	});
});
