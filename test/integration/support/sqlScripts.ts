import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** One line of test/integration/sql/run-order: run `script` while connected to `database`. */
export interface ScriptStep {
	database: string;
	script: string;
}

function repositoryRoot(from: string): string {
	for (let directory = from; ; directory = path.dirname(directory)) {
		if (existsSync(path.join(directory, 'package.json'))) return directory;
		if (path.dirname(directory) === directory) throw new Error(`No package.json above ${from}`);
	}
}

/** The SQL scripts stay in the source tree (the build copies no .sql), found from dist/ or from test/ alike. */
export const SQL_DIRECTORY = path.join(repositoryRoot(__dirname), 'test', 'integration', 'sql');

export function parseRunOrder(text: string): ScriptStep[] {
	return text
		.split(/\r?\n/)
		.map((line) => line.replace(/#.*$/, '').trim())
		.filter((line) => line !== '')
		.map((line) => {
			const [database, script, ...rest] = line.split(/\s+/);
			if (!script || rest.length > 0) throw new Error(`run-order line "${line}" is not "<database> <script>"`);
			return { database, script };
		});
}

export function readRunOrder(): ScriptStep[] {
	return parseRunOrder(readFileSync(path.join(SQL_DIRECTORY, 'run-order'), 'utf8'));
}

/**
 * Splits a script into the batches sqlcmd would send: GO alone on a line ends a batch. The scripts use no other
 * sqlcmd command, so the suite can send them through the transport exactly as init.sh sends them through sqlcmd.
 */
export function sqlBatches(script: string): string[] {
	return script
		.split(/^[ \t]*GO[ \t]*\r?$/im)
		.map((batch) => batch.trim())
		.filter((batch) => batch !== '');
}

export function readScriptBatches(script: string): string[] {
	return sqlBatches(readFileSync(path.join(SQL_DIRECTORY, script), 'utf8'));
}
