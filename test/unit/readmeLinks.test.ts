/**
 * The three guides (README.md, workflows/README.md, nodes/README.md) and the credentials' documentation links:
 * every relative link leads to a file that exists, and every #anchor to a heading that exists, as GitHub names it.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { ContractingSqlServerApi } from '../../credentials/ContractingSqlServerApi.credentials';
import { CrmSqlServerApi } from '../../credentials/CrmSqlServerApi.credentials';
import { PACKAGE_ROOT } from '../support/workflowRunner';

const GUIDES = ['README.md', 'workflows/README.md', 'nodes/README.md'];
/** Where this repository's files are published; a documentation link there must point at a heading here. */
const PUBLISHED_AT = 'https://github.com/contracting-crm/n8n-nodes-contracting-crm/blob/main/';

/** GitHub's anchor for a heading: lower case, punctuation dropped, each space a hyphen; repeats get -1, -2, ... */
export function githubAnchors(markdown: string): Set<string> {
	const anchors = new Set<string>();
	const seen = new Map<string, number>();
	for (const [, heading] of withoutCode(markdown).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
		const base = heading
			.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
			.toLowerCase()
			.replace(/[^\p{L}\p{N}\s_-]/gu, '')
			.replace(/\s/g, '-');
		const count = seen.get(base) ?? 0;
		anchors.add(count === 0 ? base : `${base}-${count}`);
		seen.set(base, count + 1);
	}
	return anchors;
}

function withoutCode(markdown: string): string {
	return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, (code) => code.replace(/[[\]()]/g, ''));
}

function linksOf(markdown: string): string[] {
	return [...withoutCode(markdown).matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map(([, target]) => target);
}

/** What is wrong with a link from `fromFile` (relative to the repository), or undefined when it resolves. */
function brokenLink(fromFile: string, target: string): string | undefined {
	if (/^(https?:|mailto:)/.test(target)) return undefined;
	const [file, anchor] = target.split('#') as [string, string | undefined];
	const resolved = file === '' ? fromFile : path.normalize(path.join(path.dirname(fromFile), decodeURIComponent(file)));
	if (resolved.startsWith('..') || !existsSync(path.join(PACKAGE_ROOT, resolved))) return `${target}: ${resolved} does not exist`;
	if (anchor === undefined) return undefined;
	if (!resolved.endsWith('.md')) return `${target}: an anchor into a file that is not Markdown`;
	const anchors = githubAnchors(readFileSync(path.join(PACKAGE_ROOT, resolved), 'utf8'));
	return anchors.has(anchor) ? undefined : `${target}: ${resolved} has no heading #${anchor}`;
}

describe('the guides link only to what exists', () => {
	it('GitHub anchors are computed as GitHub does', () => {
		assert.deepEqual(
			[...githubAnchors('# Partner guide\n## 2. Connect the credentials\n## `npm start` in detail\n### Contracting — Read, Count\n## Notes\n## Notes\n```\n# not a heading\n```')],
			['partner-guide', '2-connect-the-credentials', 'npm-start-in-detail', 'contracting--read-count', 'notes', 'notes-1'],
		);
	});

	for (const guide of GUIDES) {
		it(`${guide}: every relative link and anchor resolves`, () => {
			const markdown = readFileSync(path.join(PACKAGE_ROOT, guide), 'utf8');
			const links = linksOf(markdown);
			assert.ok(links.length > 0, `${guide} has links`);
			assert.deepEqual(links.map((target) => brokenLink(guide, target)).filter(Boolean), []);
		});
	}

	it("the credentials' documentation links point at a heading of the partner guide", () => {
		for (const credential of [new ContractingSqlServerApi(), new CrmSqlServerApi()]) {
			assert.ok(credential.documentationUrl.startsWith(PUBLISHED_AT), credential.documentationUrl);
			assert.equal(brokenLink('README.md', credential.documentationUrl.slice(PUBLISHED_AT.length)), undefined, credential.documentationUrl);
		}
	});
});
