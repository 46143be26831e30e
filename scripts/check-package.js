#!/usr/bin/env node
// What `npm pack` would publish (`npm run check:package`, after `npm run build`): the compiled
// code and declarations of lib/, their source maps with the sources they point to, README,
// LICENSE, CHANGELOG, SECURITY, CONTRIBUTING and the pages of docs/ (docs/*.md, which the README
// links to); nothing else (no specs, tests, sample, bench, screenshots or stale output).
// Every entry point of package.json is shipped, every map's sources are, and every relative link
// of a shipped Markdown file leads to a shipped file.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const manifest = require(path.join(root, 'package.json'));

const packed = JSON.parse(
  execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }),
);
const files = new Set(packed[0].files.map((file) => file.path));
const problems = [];

// What a user needs, and what may be shipped at all.
const required = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/lib/index.js'];
// Every page of docs/ is shipped: the README and the pages link to one another.
for (const name of fs.readdirSync(path.join(root, 'docs'))) {
  if (name.endsWith('.md')) required.push(`docs/${name}`);
}
const allowed = [
  /^(package\.json|README\.md|LICENSE|CHANGELOG\.md|SECURITY\.md|CONTRIBUTING\.md)$/,
  /^docs\/[\w-]+\.md$/,
  /^dist\/lib\/.+\.(js|d\.ts|js\.map)$/,
  /^lib\/.+\.ts$/,
];
const forbidden = [
  /\.(spec|e2e-spec|test)\.[cm]?[jt]s(\.map)?$/,
  /\.d\.ts\.map$/,
  /(^|\/)(test|tests|sample|bench|compat|scripts|coverage|node_modules)\//,
];

for (const file of required) {
  if (!files.has(file)) problems.push(`${file} is missing from the package.`);
}
for (const file of files) {
  if (!allowed.some((pattern) => pattern.test(file)) || forbidden.some((p) => p.test(file))) {
    problems.push(`${file} does not belong in the package.`);
  }
}

// Every target of main, types and the exports map (conditions and subpaths) is shipped.
function targets(value) {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(targets);
  return [];
}
for (const target of [manifest.main, manifest.types, ...targets(manifest.exports)]) {
  const file = path.posix.normalize(target);
  if (!files.has(file)) problems.push(`${target} (an entry point in package.json) is not shipped.`);
}
for (const [subpath, declarations] of Object.entries(manifest.typesVersions?.['*'] ?? {})) {
  for (const file of declarations) {
    if (!files.has(path.posix.normalize(file))) {
      problems.push(`typesVersions "${subpath}": ${file} is not shipped.`);
    }
  }
}

// Compiled code: its source (a stale file of a deleted source would be published), and a map
// whose sources are shipped too, so that a debugger or a stack trace leads somewhere real.
for (const file of files) {
  const compiled = /^dist\/(lib\/.+)\.(js|d\.ts)$/.exec(file);
  if (compiled && !fs.existsSync(path.join(root, `${compiled[1]}.ts`))) {
    problems.push(
      `${file} has no source ${compiled[1]}.ts: stale output? (rm -rf dist; npm run build)`,
    );
  }
  if (!file.endsWith('.js')) continue;
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(text)?.[1];
  if (url === undefined) continue;
  const mapFile = path.posix.join(path.posix.dirname(file), url);
  if (!files.has(mapFile)) {
    problems.push(`${file} points to ${mapFile}, which is not shipped.`);
    continue;
  }
  const map = JSON.parse(fs.readFileSync(path.join(root, mapFile), 'utf8'));
  for (const source of map.sources) {
    const shipped = path.posix.join(path.posix.dirname(mapFile), map.sourceRoot ?? '', source);
    if (!files.has(shipped))
      problems.push(`${mapFile} points to ${shipped}, which is not shipped.`);
  }
}

// Relative links of shipped Markdown files (README, CHANGELOG, SECURITY, CONTRIBUTING, docs/*.md)
// stay inside the package.
for (const file of files) {
  if (!file.endsWith('.md')) continue;
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  for (const [, target] of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    if (/^([a-z][a-z0-9+.-]*:|#)/i.test(target)) continue;
    const linked = path.posix.normalize(
      path.posix.join(path.posix.dirname(file), decodeURIComponent(target.split('#')[0])),
    );
    // Screenshots in docs/ are for the repository's view of the pages (npm shows a README's
    // images from the repository, never from the tarball): kept out of the package.
    if (/^docs\/[\w-]+\.png$/.test(linked) && fs.existsSync(path.join(root, linked))) continue;
    if (!files.has(linked)) problems.push(`${file} links to ${target}, which is not shipped.`);
  }
}

// The declarations of each entry point, and those they import, name only packages its users have,
// with types of their own (TS2307 or TS7016 with skipLibCheck off otherwise): dependencies and
// required peers; a subpath (`/socket.io`, `/ws`, ...) may also name the optional peers it is for.
const { builtinModules } = require('node:module');
const optionalPeers = new Set(
  Object.keys(manifest.peerDependenciesMeta ?? {}).filter(
    (name) => manifest.peerDependenciesMeta[name].optional,
  ),
);
const installedFor = new Set([
  ...Object.keys(manifest.dependencies ?? {}),
  ...Object.keys(manifest.peerDependencies ?? {}).filter((name) => !optionalPeers.has(name)),
]);

function shipsTypes(name) {
  const dir = path.join(root, 'node_modules', name);
  const own = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  return Boolean(
    own.types ||
    own.typings ||
    JSON.stringify(own.exports ?? {}).includes('"types"') ||
    fs.existsSync(path.join(dir, 'index.d.ts')),
  );
}

function importedPackages(entry) {
  const seen = new Set();
  const packages = new Map();
  const pending = [path.posix.normalize(entry)];
  while (pending.length > 0) {
    const file = pending.pop();
    if (seen.has(file) || !files.has(file)) continue;
    seen.add(file);
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    const specifiers = text.matchAll(
      /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*|types=)["']([^"']+)["']/g,
    );
    for (const [, specifier] of specifiers) {
      if (specifier.startsWith('.')) {
        const base = path.posix.join(path.posix.dirname(file), specifier.replace(/\.js$/, ''));
        pending.push(`${base}.d.ts`, `${base}/index.d.ts`);
        continue;
      }
      const name = specifier.startsWith('@')
        ? specifier.split('/').slice(0, 2).join('/')
        : specifier.split('/')[0];
      if (!packages.has(name)) packages.set(name, file);
    }
  }
  return packages;
}

for (const [subpath, target] of Object.entries(manifest.exports)) {
  const types = typeof target === 'object' ? target.types : undefined;
  if (types === undefined) continue;
  for (const [name, file] of importedPackages(types)) {
    if (name.startsWith('node:') || builtinModules.includes(name)) continue;
    const available = installedFor.has(name) || (subpath !== '.' && optionalPeers.has(name));
    if (!available) {
      problems.push(
        `"${subpath}": ${file} imports ${name}, which its users need not have installed.`,
      );
    } else if (!shipsTypes(name)) {
      problems.push(
        `"${subpath}": ${file} imports ${name}, which has no types of its own (TS7016).`,
      );
    }
  }
}

if (problems.length > 0) {
  console.error(`The package is not what users should get:\n- ${problems.join('\n- ')}`);
  process.exitCode = 1;
} else {
  console.log(`The package holds ${files.size} files, each one a user needs.`);
}
