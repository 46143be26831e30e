// The README is a newcomer's doorway (issue 21, part 6): short, with an options table that names
// every option and an error table that names every reason; the recipes live in docs/. These
// checks read the Markdown and the library's source as text: nothing is compiled or started.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';

const root = join(__dirname, '..', '..');
const read = (file: string): string => readFileSync(join(root, file), 'utf8');

/** Every `.ts` file under lib/ (no specs), so that a file moved inside lib/ is still found. */
function libSources(dir = join(root, 'lib')): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return libSources(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** The source text that declares `declaration` (such as `export type AuthErrorReason =`). */
function sourceDeclaring(declaration: string): string {
  const found = libSources()
    .map((path) => readFileSync(path, 'utf8'))
    .filter((text) => text.includes(declaration));
  if (found.length !== 1) throw new Error(`${found.length} files of lib/ declare ${declaration}`);
  return found[0];
}

/** The members of the `AuthErrorReason` union, read from its source. */
function errorReasons(): string[] {
  const text = sourceDeclaring('export type AuthErrorReason =');
  const union = text.slice(text.indexOf('export type AuthErrorReason ='));
  return [...union.slice(0, union.indexOf(';')).matchAll(/\|\s*'([a-z0-9_]+)'/g)].map((m) => m[1]);
}

/** The top-level member names of the `AuthModuleOptions` interface, read from its source. */
function optionNames(): string[] {
  const text = sourceDeclaring('export interface AuthModuleOptions {');
  const body = text.slice(text.indexOf('export interface AuthModuleOptions {'));
  const members = body.slice(0, body.indexOf('\n}'));
  return [...members.matchAll(/^ {2}(?:readonly\s+)?([A-Za-z_$][\w$]*)\??:/gm)].map((m) => m[1]);
}

/** The lines of a Markdown file outside fenced code blocks. */
function proseLines(text: string): string[] {
  let fenced = false;
  return text.split('\n').filter((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return false;
    }
    return !fenced;
  });
}

/** The table rows of the `## ` section whose title matches `title`. */
function sectionTable(text: string, title: RegExp): string[] {
  const lines = proseLines(text);
  const start = lines.findIndex((line) => /^##\s/.test(line) && title.test(line.slice(2).trim()));
  if (start === -1) return [];
  const end = lines.findIndex((line, i) => i > start && /^##\s/.test(line));
  return lines.slice(start + 1, end === -1 ? undefined : end).filter((l) => l.startsWith('|'));
}

/** GitHub's anchor of a heading: lower case, punctuation but `-` and `_` dropped, spaces to `-`. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown file's headings, duplicates numbered as GitHub numbers them. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const line of proseLines(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1]);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** Relative link and image targets of a Markdown file (inline, reference-style and `<img src>`). */
function relativeLinks(text: string): string[] {
  const prose = proseLines(text)
    .join('\n')
    .replace(/`[^`\n]*`/g, '');
  const targets = [
    ...[...prose.matchAll(/\]\(<?([^)\s>]+)>?(?:\s+"[^"]*")?\)/g)].map((m) => m[1]),
    ...[...prose.matchAll(/^\s*\[[^\]]+\]:\s+<?([^\s>]+)>?/gm)].map((m) => m[1]),
    ...[...prose.matchAll(/<img\s[^>]*src="([^"]+)"/g)].map((m) => m[1]),
  ];
  return targets.filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

const readme = read('README.md');
const markdownFiles = [
  'README.md',
  'CONTRIBUTING.md',
  'SECURITY.md',
  'CHANGELOG.md',
  ...(existsSync(join(root, 'docs'))
    ? readdirSync(join(root, 'docs'))
        .filter((name) => name.endsWith('.md'))
        .map((name) => `docs/${name}`)
    : []),
];

describe('README.md', () => {
  it('is at most 320 lines', () => {
    expect(readme.replace(/\n$/, '').split('\n').length).toBeLessThanOrEqual(320);
  });

  it('names every AuthErrorReason, backticked, in its error table (## Errors)', () => {
    const reasons = errorReasons();
    expect(reasons.length).toBeGreaterThan(40);
    const table = sectionTable(readme, /^Errors\b/).join('\n');
    const named = new Set([...table.matchAll(/`([a-z0-9_]+)`/g)].map((m) => m[1]));
    expect(reasons.filter((reason) => !named.has(reason))).toEqual([]);
  });

  it('names every top-level option of AuthModuleOptions in its options table', () => {
    const options = optionNames();
    expect(options).toEqual(expect.arrayContaining(['issuerUrl', 'audience', 'dpop', 'mtls']));
    const rows = sectionTable(readme, /^(Options|Configuration)\b/);
    const named = new Set(rows.map((row) => /^\|\s*`([\w$]+)`/.exec(row)?.[1]));
    expect(options.filter((option) => !named.has(option))).toEqual([]);
  });
});

describe('relative links of the Markdown files', () => {
  it.each(markdownFiles)('%s: each one leads to a file, and an #anchor to a heading', (file) => {
    expect(existsSync(join(root, file))).toBe(true);
    const broken: string[] = [];
    for (const target of relativeLinks(read(file))) {
      const [path, anchor] = decodeURIComponent(target).split('#');
      const linked = path === '' ? file : posix.normalize(posix.join(posix.dirname(file), path));
      if (linked.startsWith('..') || !existsSync(join(root, linked))) {
        broken.push(`${target}: no file ${linked}`);
      } else if (
        anchor !== undefined &&
        linked.endsWith('.md') &&
        !anchors(read(linked)).has(anchor)
      ) {
        broken.push(`${target}: no heading #${anchor} in ${linked}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('the slug rule is GitHub’s', () => {
    expect([
      ...anchors("## Passport's AuthGuard\n## DPoP (RFC 9449)\n## A_b - c\n## DPoP (RFC 9449)"),
    ]).toEqual(['passports-authguard', 'dpop-rfc-9449', 'a_b---c', 'dpop-rfc-9449-1']);
  });
});
