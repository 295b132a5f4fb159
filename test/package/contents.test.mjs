/**
 * What a partner gets from npm (Settings → Community Nodes installs exactly `npm pack`'s tarball) and how n8n's
 * node panel finds the nodes: the package's files, its metadata, and each node's codex (aliases, category,
 * documentation links that land on a heading of the partner guide).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// Runs against the build in dist/ (npm test builds first).
const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const loadBuilt = createRequire(import.meta.url);
const packageJson = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8'));

/** The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens. */
function githubAnchorOf(heading) {
	return heading
		.trim()
		.toLowerCase()
		.replace(/[^\p{L}\p{N}\s_-]/gu, '')
		.replace(/\s/g, '-');
}

function anchorsOf(markdownFile) {
	const text = readFileSync(path.join(PACKAGE_ROOT, markdownFile), 'utf8');
	return new Set(text.split('\n').flatMap((line) => (/^#{1,6} /.test(line) ? [githubAnchorOf(line.replace(/^#+ /, ''))] : [])));
}

function descriptionOf(nodeFile) {
	const [NodeClass] = Object.values(loadBuilt(path.join(PACKAGE_ROOT, nodeFile)));
	return new NodeClass().description;
}

describe('the npm package', () => {
	let packed;

	before(() => {
		const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: PACKAGE_ROOT, encoding: 'utf8' });
		packed = JSON.parse(output)[0].files.map((file) => file.path);
	});

	it('holds a LICENSE, every shipped workflow and the partner guide, and every node and credential n8n loads', () => {
		const workflows = readdirSync(path.join(PACKAGE_ROOT, 'workflows')).filter((file) => file.endsWith('.json'));
		assert.ok(workflows.length >= 2);
		for (const file of ['LICENSE', 'README.md', 'workflows/README.md', ...workflows.map((file) => `workflows/${file}`), ...packageJson.n8n.nodes, ...packageJson.n8n.credentials]) {
			assert.ok(packed.includes(file), `${file} is in the package`);
		}
		assert.match(readFileSync(path.join(PACKAGE_ROOT, 'LICENSE'), 'utf8'), /^MIT License/);
	});

	it('ships no source maps, and no shipped script points to one', () => {
		assert.deepEqual(packed.filter((file) => file.endsWith('.map')), []);
		const pointing = packed.filter((file) => file.endsWith('.js') && readFileSync(path.join(PACKAGE_ROOT, file), 'utf8').includes('sourceMappingURL'));
		assert.deepEqual(pointing, []);
	});

	it('has no "main" that points to a missing file, and names the project, where it lives and where issues go', () => {
		if (packageJson.main !== undefined) assert.ok(existsSync(path.join(PACKAGE_ROOT, packageJson.main)), `main ${packageJson.main} exists`);
		for (const value of [packageJson.author?.email, packageJson.author?.url, packageJson.repository?.url, packageJson.bugs?.url]) {
			assert.ok(value, 'set');
			assert.doesNotMatch(value, /\.invalid\b|example\.|<\.\.\.>/, `${value} is no placeholder`);
		}
		assert.match(readFileSync(path.join(PACKAGE_ROOT, 'README.md'), 'utf8'), new RegExp(packageJson.bugs?.url));
	});

	it("is linted by n8n's own command, honestly not strict (its eslint config differs from the default)", () => {
		assert.equal(packageJson.scripts.lint, 'n8n-node lint');
		assert.equal(packageJson.n8n.strict, false);
	});
});

describe("each node, as n8n's node panel shows it", () => {
	const partnerGuideAnchors = anchorsOf('workflows/README.md');
	const expected = { contracting: 'Visma Contracting', crm: 'Visma CRM', watermark: 'Sync Watermark' };

	for (const nodeFile of packageJson.n8n.nodes) {
		const description = descriptionOf(nodeFile);
		const codexFile = path.join(PACKAGE_ROOT, nodeFile.replace(/\.js$/, '.json'));

		it(`${description.name}: named "${expected[description.name]}", found by Visma, SQL Server, MSSQL, sync and watermark under Data & Storage`, () => {
			assert.equal(description.displayName, expected[description.name]);
			assert.ok(existsSync(codexFile), `${path.relative(PACKAGE_ROOT, codexFile)} is built next to the node`);
			const codex = JSON.parse(readFileSync(codexFile, 'utf8'));
			assert.equal(codex.node, `n8n-nodes-contracting-crm.${description.name}`);
			assert.ok(codex.categories.includes('Data & Storage'));
			for (const alias of ['Visma', 'SQL Server', 'MSSQL', 'sync', 'watermark']) assert.ok(codex.alias.includes(alias), `alias ${alias}`);
			const links = [...codex.resources.primaryDocumentation, ...codex.resources.credentialDocumentation].map(({ url }) => url);
			for (const url of links) {
				const [page, anchor] = url.split('#');
				assert.match(page, /\/blob\/main\/workflows\/README\.md$/);
				assert.ok(partnerGuideAnchors.has(anchor), `${url} lands on a heading of the partner guide`);
			}
		});

		it(`${description.name}: an icon of its own, light and dark, and not offered to AI agents`, () => {
			const icon = description.icon;
			const files = [icon.light, icon.dark].map((file) => path.resolve(path.dirname(path.join(PACKAGE_ROOT, nodeFile)), file.replace(/^file:/, '')));
			for (const file of files) assert.ok(existsSync(file), `${file} exists`);
			assert.notEqual(readFileSync(files[0], 'utf8'), readFileSync(files[1], 'utf8'));
			assert.ok(!('usableAsTool' in description) || !description.usableAsTool);
		});
	}

	it('no two nodes share an icon', () => {
		const icons = packageJson.n8n.nodes.map((nodeFile) => descriptionOf(nodeFile).icon.light);
		assert.equal(new Set(icons).size, icons.length);
	});
});
