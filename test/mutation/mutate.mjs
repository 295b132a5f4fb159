// `npm run mutate`: applies each mutant of test/mutation/mutants.mjs to the production code, one at a time, and runs
// only the test files that mutant names. A mutant is killed when those tests fail. Not part of `npm test` or CI:
// it takes minutes, and its point is to show that the tests check what the code MEANS (the T-SQL included).
//
// How: the package is built once (tsc, incremental) and dist/ is copied into a scratch folder with package.json,
// the workflows and a link to node_modules. Each mutant's file is transpiled alone (TypeScript's transpileModule,
// well under a second) into that copy, its tests run there, and the file is put back. The worktree is never
// changed, so a mutant can never be left behind in the source, whatever stops the run.
//
// node test/mutation/mutate.mjs [--only id,id] [--list] [--skip-baseline]
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

import { MUTANTS } from './mutants.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(import.meta.url);
const ts = require('typescript');

const args = process.argv.slice(2);
const only = args.includes('--only') ? new Set(args[args.indexOf('--only') + 1].split(',')) : undefined;
const chosen = MUTANTS.filter((mutant) => !only || only.has(mutant.id));
/** A mutant that makes a read loop forever is killed by this bound; the baseline runs every file and gets longer. */
const TEST_TIMEOUT_MS = 100_000;
const BASELINE_TIMEOUT_MS = 900_000;

if (args.includes('--list')) {
	for (const mutant of chosen) console.log(`${mutant.id.padEnd(40)} ${mutant.file}: ${mutant.why}`);
	process.exit(0);
}

/** Where the find text stands: exactly once, or an error that says the list no longer follows the code. */
function locate(source, mutant) {
	const first = source.indexOf(mutant.find);
	if (first === -1) return { error: 'find text no longer occurs: update the mutant to the code' };
	if (source.indexOf(mutant.find, first + 1) !== -1) return { error: 'find text occurs more than once: make it longer' };
	return { at: first };
}

const compilerOptions = (() => {
	const config = ts.readConfigFile(path.join(root, 'tsconfig.json'), ts.sys.readFile);
	return ts.parseJsonConfigFileContent(config.config, ts.sys, root).options;
})();

function transpiled(source, file) {
	const output = ts.transpileModule(source, { compilerOptions: { ...compilerOptions, sourceMap: false, incremental: false }, fileName: file, reportDiagnostics: true });
	const errors = (output.diagnostics ?? []).filter((diagnostic) => diagnostic.category === ts.DiagnosticCategory.Error);
	if (errors.length > 0) return { error: `the mutant does not compile: ${ts.flattenDiagnosticMessageText(errors[0].messageText, ' ')}` };
	return { js: output.outputText };
}

function runTests(scratch, tests, timeout = TEST_TIMEOUT_MS) {
	const files = tests.map((test) => path.join('dist', test.replace(/\.ts$/, '.js')));
	const started = Date.now();
	const run = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], {
		cwd: scratch,
		encoding: 'utf8',
		timeout,
		env: { ...process.env, MSSQL_URL: '' },
	});
	const failing = [...`${run.stdout}`.matchAll(/^not ok \d+ - (.*)$/gm)].map((match) => path.relative(scratch, match[1]).startsWith('..') ? match[1] : path.relative(path.join(scratch, 'dist'), match[1]));
	return { passed: run.status === 0, timedOut: run.error?.code === 'ETIMEDOUT', seconds: (Date.now() - started) / 1000, failing };
}

function prepareScratch() {
	console.log('Building (tsc, incremental)…');
	const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
	if (build.status !== 0) throw new Error('the build failed: fix it before mutating');
	const scratch = mkdtempSync(path.join(os.tmpdir(), 'contracting-crm-mutate-'));
	cpSync(path.join(root, 'dist'), path.join(scratch, 'dist'), { recursive: true });
	cpSync(path.join(root, 'workflows'), path.join(scratch, 'workflows'), { recursive: true });
	cpSync(path.join(root, 'package.json'), path.join(scratch, 'package.json'));
	symlinkSync(path.join(root, 'node_modules'), path.join(scratch, 'node_modules'));
	return scratch;
}

const scratch = prepareScratch();
// Ctrl+C (or a kill) leaves no scratch copy behind.
for (const signal of ['SIGINT', 'SIGTERM']) {
	process.on(signal, () => {
		rmSync(scratch, { recursive: true, force: true });
		process.exit(130);
	});
}
const results = [];
try {
	if (!args.includes('--skip-baseline')) {
		const allTests = [...new Set(chosen.flatMap((mutant) => mutant.tests))];
		console.log(`Baseline: the ${allTests.length} test files the mutants name, on the unmutated code…`);
		const baseline = runTests(scratch, allTests, BASELINE_TIMEOUT_MS);
		if (!baseline.passed) {
			const why = baseline.timedOut ? [`they did not finish in ${BASELINE_TIMEOUT_MS / 1000} s`] : baseline.failing;
			console.error(`The unmutated code fails these tests, so no mutant could be judged:\n  ${why.join('\n  ')}`);
			process.exit(2);
		}
	}
	for (const mutant of chosen) {
		const sourcePath = path.join(root, mutant.file);
		const distPath = path.join(scratch, 'dist', mutant.file.replace(/\.ts$/, '.js'));
		const source = existsSync(sourcePath) ? readFileSync(sourcePath, 'utf8') : undefined;
		const place = source === undefined ? { error: 'the file no longer exists' } : locate(source, mutant);
		if (place.error) {
			results.push({ mutant, verdict: 'error', detail: place.error });
			console.log(`ERROR     ${mutant.id}: ${place.error}`);
			continue;
		}
		const mutated = source.slice(0, place.at) + mutant.replace + source.slice(place.at + mutant.find.length);
		const compiled = transpiled(mutated, sourcePath);
		if (compiled.error) {
			results.push({ mutant, verdict: 'error', detail: compiled.error });
			console.log(`ERROR     ${mutant.id}: ${compiled.error}`);
			continue;
		}
		const original = readFileSync(distPath, 'utf8');
		writeFileSync(distPath, compiled.js);
		let run;
		try {
			run = runTests(scratch, mutant.tests);
		} finally {
			writeFileSync(distPath, original);
		}
		const verdict = run.passed ? 'SURVIVED' : 'killed';
		const detail = run.timedOut ? 'timed out' : run.passed ? 'every test passed' : `by: ${run.failing.slice(0, 2).join(' | ') || 'a failing test file'}`;
		results.push({ mutant, verdict, detail, seconds: run.seconds });
		console.log(`${verdict.padEnd(9)} ${mutant.id} (${run.seconds.toFixed(0)} s) ${detail}`);
	}
} finally {
	rmSync(scratch, { recursive: true, force: true });
}

const killed = results.filter((result) => result.verdict === 'killed').length;
const survived = results.filter((result) => result.verdict === 'SURVIVED');
const errors = results.filter((result) => result.verdict === 'error');
console.log(`\n${'Mutant'.padEnd(40)} ${'Verdict'.padEnd(9)} Where`);
for (const { mutant, verdict } of results) console.log(`${mutant.id.padEnd(40)} ${verdict.padEnd(9)} ${mutant.file}`);
console.log(`\nmutation score: ${killed}/${results.length} killed (${((100 * killed) / Math.max(results.length, 1)).toFixed(0)}%), ${survived.length} survived, ${errors.length} error(s)`);
for (const { mutant } of survived) console.log(`survived: ${mutant.id}: ${mutant.why}`);
for (const { mutant, detail } of errors) console.log(`error: ${mutant.id}: ${detail}`);
process.exit(survived.length + errors.length === 0 ? 0 : 1);
