// The README's code examples are real code: each ```js block is written to a
// temporary module that imports the built package, run with Node, and must
// finish without error. (`npm test` builds first.)
import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
const built = pathToFileURL(join(root, 'build/segloss.js')).href;

describe('README examples', () => {
  it('has examples', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(3);
  });
  blocks.forEach((code, i) => {
    it(`example ${i + 1} runs`, () => {
      expect(code).toMatch(/from 'segloss'/);
      const dir = mkdtempSync(join(tmpdir(), 'segloss-readme-'));
      const file = join(dir, `example${i + 1}.mjs`);
      writeFileSync(file, code.replaceAll(`from 'segloss'`, `from '${built}'`));
      const out = execFileSync(process.execPath, [file], { encoding: 'utf8' });
      expect(out).not.toMatch(/NaN|Infinity/);
    });
  });
});

// Links within the README (its contents list) point at headings, with
// GitHub's anchors: lower case, punctuation other than '-' and '_' dropped,
// spaces turned into '-'.
describe('README links', () => {
  const anchors = new Set(readme.split('\n').filter((l) => /^#{1,6} /.test(l))
    .map((l) => l.replace(/^#+ /, '').toLowerCase().replace(/[^\p{L}\p{N}_\- ]/gu, '').replaceAll(' ', '-')));
  const links = [...readme.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!);
  it('has a contents list', () => {
    expect(links.length).toBeGreaterThanOrEqual(10);
  });
  it('every #anchor names a heading', () => {
    expect(links.filter((a) => !anchors.has(a))).toEqual([]);
  });
});
