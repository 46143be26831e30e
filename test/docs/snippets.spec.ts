// Every snippet a user may paste is compiled by a test: each ```ts block of README.md and docs/*.md
// becomes a file of a scratch project that imports `nest-oauth2-bearer` (mapped to lib/) and the
// repository's node_modules, and the repository's TypeScript compiles them all at once.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, sep } from 'node:path';

const root = join(__dirname, '..', '..');
const modules = join(root, 'node_modules');

/** A fenced ```ts block: where it starts in its Markdown file, and its skip marker if any. */
interface Snippet {
  /** The Markdown file, relative to the repository (`docs/dpop.md`). */
  markdown: string;
  /** The 1-based line, in the Markdown file, of the snippet's first line of code. */
  line: number;
  code: string;
  /** Set by `<!-- snippet: not-compiled (reason) -->` on the line before the fence ('' without a reason). */
  skipReason?: string;
  /** A `<!-- snippet: ... -->` marker on the line before the fence that this spec does not know. */
  unknownMarker?: string;
}

const SKIP_MARKER = /^<!--\s*snippet:\s*not-compiled\s*(?:\((.*)\))?\s*-->$/;
const ANY_MARKER = /^<!--\s*snippet:/;
const MAX_SKIPPED = 3;

/** README.md and docs/*.md, in a stable order. */
function markdownFiles(): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs];
}

/** The ```ts and ```typescript blocks of one Markdown file (other fences are stepped over). */
function extractSnippets(markdown: string): Snippet[] {
  const lines = readFileSync(join(root, markdown), 'utf8').split('\n');
  const snippets: Snippet[] = [];
  let fence: { marker: string; typescript: boolean; start: number } | undefined;
  lines.forEach((text, index) => {
    const opening = /^\s*(`{3,}|~{3,})\s*([\w-]*)/.exec(text);
    if (fence === undefined) {
      if (!opening) return;
      fence = {
        marker: opening[1],
        typescript: /^(ts|typescript)$/i.test(opening[2]),
        start: index,
      };
      return;
    }
    if (!(opening && opening[2] === '' && opening[1].startsWith(fence.marker))) return;
    if (fence.typescript) {
      const before = (lines[fence.start - 1] ?? '').trim();
      const skip = SKIP_MARKER.exec(before);
      snippets.push({
        markdown,
        line: fence.start + 2,
        code: lines.slice(fence.start + 1, index).join('\n'),
        ...(skip ? { skipReason: (skip[1] ?? '').trim() } : {}),
        ...(!skip && ANY_MARKER.test(before) ? { unknownMarker: before } : {}),
      });
    }
    fence = undefined;
  });
  return snippets;
}

const snippets = markdownFiles().flatMap(extractSnippets);
const skipped = snippets.filter((snippet) => snippet.skipReason !== undefined);
const compiled = snippets.filter((snippet) => snippet.skipReason === undefined);

/**
 * The package's entry points (package.json "exports") mapped to their sources, so that a snippet
 * imports what a user would, without a build.
 */
function packagePaths(): Record<string, string[]> {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    name: string;
    exports: Record<string, string | { types: string }>;
  };
  const paths: Record<string, string[]> = {};
  for (const [subpath, target] of Object.entries(manifest.exports)) {
    if (typeof target === 'string') continue; // ./package.json
    const source = target.types.replace(/^\.\/dist\//, '').replace(/\.d\.ts$/, '.ts');
    paths[join(manifest.name, subpath).replace(/\\/g, '/')] = [join(root, source)];
  }
  return paths;
}

/**
 * A snippet's file: `// app.module.ts` or `// src/app.module.ts` on its first line names it, or its
 * line does.
 */
function fileNameOf(snippet: Snippet): string {
  const named = /^\/\/\s*((?:[\w.-]+\/)*[\w.-]+\.ts)\b/.exec(snippet.code);
  return named ? named[1] : `snippet-line-${snippet.line}.ts`;
}

/** The directory of a Markdown file's snippets: `README`, `docs-dpop`. */
function directoryOf(markdown: string): string {
  return markdown.replace(/\.md$/, '').replace(/\//g, '-');
}

interface ScratchProject {
  dir: string;
  /** Each written snippet file, relative to `dir` with `/`, to its snippet. */
  files: Map<string, Snippet>;
  /** Relative imports that no snippet provides. */
  unresolved: string[];
}

/**
 * Writes the snippets to a fresh directory, one directory per Markdown file. A relative import
 * (`./app.module`) is the file a snippet of the same Markdown file names on its first line, or else
 * the README's quick start file of that name (the docs build on the quick start's AppModule).
 */
function writeScratchProject(): ScratchProject {
  const dir = mkdtempSync(join(tmpdir(), 'nest-oauth2-bearer-snippets-'));
  const files = new Map<string, Snippet>();
  const byDirectory = new Map<string, Map<string, Snippet>>();
  for (const snippet of compiled) {
    const directory = directoryOf(snippet.markdown);
    const name = fileNameOf(snippet);
    const inDirectory = byDirectory.get(directory) ?? new Map<string, Snippet>();
    if (inDirectory.has(name)) throw new Error(`${snippet.markdown}: two snippets named ${name}`);
    inDirectory.set(name, snippet);
    byDirectory.set(directory, inDirectory);
  }
  const readme = byDirectory.get(directoryOf('README.md')) ?? new Map<string, Snippet>();
  const unresolved: string[] = [];
  const stubs: string[] = [];
  for (const [directory, inDirectory] of byDirectory) {
    for (const [name, snippet] of inDirectory) {
      mkdirSync(dirname(join(dir, directory, name)), { recursive: true });
      // A snippet without import or export is a script; `export {}` keeps its names to itself.
      const isModule = /^\s*(import|export)\s/m.test(snippet.code);
      writeFileSync(
        join(dir, directory, name),
        `${snippet.code}\n${isModule ? '' : 'export {};\n'}`,
      );
      files.set(`${directory}/${name}`, snippet);
      for (const [, relative] of snippet.code.matchAll(/from\s+'(\.\.?\/[\w./-]+)'/g)) {
        // The file a snippet of the same Markdown file names, or else the README's of that name.
        const target = posix.join(posix.dirname(name), `${relative.replace(/\.js$/, '')}.ts`);
        if (inDirectory.has(target) || stubs.includes(`${directory}/${target}`)) continue;
        const fromReadme = [...readme.keys()].find(
          (file) => posix.basename(file) === posix.basename(target),
        );
        if (fromReadme && directory !== directoryOf('README.md')) {
          const from = posix.relative(
            posix.dirname(`${directory}/${target}`),
            `${directoryOf('README.md')}/${fromReadme.replace(/\.ts$/, '')}`,
          );
          mkdirSync(dirname(join(dir, directory, target)), { recursive: true });
          writeFileSync(join(dir, directory, target), `export * from '${from}';\n`);
          stubs.push(`${directory}/${target}`);
        } else {
          unresolved.push(`${snippet.markdown}:${snippet.line} imports ${relative}`);
        }
      }
    }
  }
  const tsconfig = {
    compilerOptions: {
      // As the repository's tsconfig.json, but nothing emitted and unused names allowed.
      target: 'es2023',
      lib: ['es2023'],
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      noUnusedLocals: false,
      noUnusedParameters: false,
      noImplicitOverride: true,
      noImplicitReturns: true,
      noFallthroughCasesInSwitch: true,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      isolatedModules: true,
      esModuleInterop: true,
      skipLibCheck: true,
      forceConsistentCasingInFileNames: true,
      noEmit: true,
      types: [join(modules, '@types', 'node'), join(modules, '@types', 'jest')],
      // The package from lib/; everything else from the repository's node_modules, its @types first.
      paths: {
        ...packagePaths(),
        // The MCP SDK's subpaths (`@modelcontextprotocol/sdk/server/mcp.js`) are in dist/, as its
        // "exports" say; `paths` would bypass them.
        '@modelcontextprotocol/sdk/*': [
          join(modules, '@modelcontextprotocol', 'sdk', 'dist', 'esm', '*'),
        ],
        '*': [join(modules, '@types', '*'), join(modules, '*')],
      },
    },
    files: [...files.keys(), ...stubs],
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  return { dir, files, unresolved };
}

/** The compiler's diagnostics, with a snippet's file and line replaced by its Markdown file and line. */
function mapDiagnostics(output: string, project: ScratchProject): string[] {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const at = /^(.+?)\((\d+),(\d+)\): (.*)$/.exec(line);
      const file = at?.[1].split(sep).join('/');
      const snippet = file === undefined ? undefined : project.files.get(file);
      if (!at || !snippet) return line;
      const markdownLine = snippet.line + Number(at[2]) - 1;
      return `${snippet.markdown}:${markdownLine}:${at[3]} (snippet of line ${snippet.line}): ${at[4]}`;
    });
}

describe('the TypeScript snippets of README.md and docs/*.md', () => {
  it(`finds at least 20 snippets to compile, skips at most ${MAX_SKIPPED}, each for a reason`, () => {
    expect(compiled.length).toBeGreaterThanOrEqual(20);
    expect(skipped.length).toBeLessThanOrEqual(MAX_SKIPPED);
    const listed = skipped.map((s) => `${s.markdown}:${s.line} (${s.skipReason})`);
    expect(listed.filter((entry) => entry.endsWith(' ()'))).toEqual([]);
    expect(snippets.filter((s) => s.unknownMarker).map((s) => s.unknownMarker)).toEqual([]);
  });

  for (const snippet of skipped) {
    it(`not compiled: ${snippet.markdown}:${snippet.line}, ${snippet.skipReason || '(no reason given)'}`, () => {
      expect(snippet.skipReason).not.toBe('');
    });
  }

  it('compile with the repository TypeScript, against lib/ and node_modules', () => {
    const project = writeScratchProject();
    try {
      expect(project.unresolved).toEqual([]);
      const tsc = spawnSync(
        join(modules, '.bin', 'tsc'),
        ['-p', join(project.dir, 'tsconfig.json'), '--pretty', 'false'],
        { cwd: project.dir, encoding: 'utf8', timeout: 120_000 },
      );
      const errors = mapDiagnostics(`${tsc.stdout ?? ''}${tsc.stderr ?? ''}`, project);
      expect({ exitCode: tsc.status, spawnError: tsc.error?.message, errors }).toEqual({
        exitCode: 0,
        spawnError: undefined,
        errors: [],
      });
    } finally {
      rmSync(project.dir, { recursive: true, force: true });
    }
  }, 130_000);
});
