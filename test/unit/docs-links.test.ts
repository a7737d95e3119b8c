// README.md and docs/*.md link into each other by file and heading: a moved or renamed section must not leave a link
// pointing nowhere. Anchors are the ones GitHub derives from headings.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const REPO = resolve(__dirname, '../../..');
const README_MAX_BYTES = 12 * 1024;

/** GitHub's heading anchor: lower case, punctuation other than '-' and '_' dropped, spaces to '-'. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Anchors of a Markdown text: its headings outside code fences, a repeated one with -1, -2, … as GitHub does. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = /^#{1,6} (.+)$/.exec(line);
    if (fenced || !m) continue;
    const base = slug(m[1] as string);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Relative links `[text](target)` outside code fences and code spans (external URLs are not checked). */
export function relativeLinks(markdown: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    if (fenced) continue;
    for (const m of line.replace(/`[^`]*`/g, '').matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1] as string;
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) out.push(target);
    }
  }
  return out;
}

/** Links in `text` (of `file`) whose file or anchor does not exist, as "file: target (why)". */
function brokenLinks(file: string, text = readFileSync(file, 'utf8')): string[] {
  const broken: string[] = [];
  for (const target of relativeLinks(text)) {
    const [path, anchor] = target.split('#', 2) as [string, string | undefined];
    const dest = path === '' ? file : resolve(dirname(file), path);
    const name = `${relative(REPO, file)}: ${target}`;
    if (!existsSync(dest)) {
      broken.push(`${name} (no such file)`);
      continue;
    }
    if (anchor === undefined) continue;
    if (statSync(dest).isDirectory() || !dest.endsWith('.md'))
      broken.push(`${name} (an anchor into a non-Markdown file)`);
    else if (!anchors(path === '' ? text : readFileSync(dest, 'utf8')).has(anchor))
      broken.push(`${name} (no such heading)`);
  }
  return broken;
}

function docFiles(): string[] {
  const docs = join(REPO, 'docs');
  return [
    join(REPO, 'README.md'),
    ...readdirSync(docs)
      .filter((f) => f.endsWith('.md'))
      .map((f) => join(docs, f)),
  ];
}

test('slug and anchors follow GitHub: punctuation dropped, code marks gone, repeats numbered, fences skipped', () => {
  assert.equal(slug('Address conflicts (RFC 5227)'), 'address-conflicts-rfc-5227');
  assert.equal(slug("DNS: where the server's DNS goes"), 'dns-where-the-servers-dns-goes');
  assert.equal(slug('`--json` field reference (stable)'), '--json-field-reference-stable');
  const md = '# A\n## Logs\n```sh\n# not a heading\n```\n## Logs\n';
  assert.deepEqual([...anchors(md)], ['a', 'logs', 'logs-1']);
});

test('relativeLinks finds relative targets, not URLs or links inside code', () => {
  const md = 'see [x](docs/a.md#b), [y](#c), [z](https://example.com/#d), `[q](nope.md)`\n```\n[w](nope2.md)\n```\n';
  assert.deepEqual(relativeLinks(md), ['docs/a.md#b', '#c']);
});

test('a link to a missing heading or file is reported', () => {
  // The checker itself must be able to fail: a text beside README.md with a made-up anchor, file and own heading.
  const text =
    '# Here\n[a](README.md#no-such-heading-here) [b](docs/no-such-file.md) [c](#here) [d](#gone) [e](docs#x)';
  assert.deepEqual(brokenLinks(join(REPO, 'README.md'), text), [
    'README.md: README.md#no-such-heading-here (no such heading)',
    'README.md: docs/no-such-file.md (no such file)',
    'README.md: #gone (no such heading)',
    'README.md: docs#x (an anchor into a non-Markdown file)',
  ]);
});

test('every relative link in README.md and docs/*.md names an existing file and heading', () => {
  assert.deepEqual(
    docFiles().flatMap((f) => brokenLinks(f)),
    [],
  );
});

test(`README.md stays a guide: at most ${README_MAX_BYTES} bytes, the reference lives in docs/`, () => {
  const size = statSync(join(REPO, 'README.md')).size;
  assert.ok(size <= README_MAX_BYTES, `README.md is ${size} bytes`);
});
