#!/usr/bin/env node
// The published declarations (dist/lib/**/*.d.ts, from `npm run build`) must compile in a user's
// app on NestJS 12 and on NestJS 11. For each, this lays out a consumer as npm would (the package in
// node_modules, NestJS beside it), compiles compat/consumer/consumer.ts with skipLibCheck off, and
// checks from tsc's file list that the intended NestJS typings were the ones used.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist', 'lib');
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
// Each consumer's folder sits where Node's lookup (its node_modules, then its parents') finds the
// wanted NestJS: compat/ has none of its own, so the project's NestJS 12; compat/nest11 has 11.
const consumers = [
  { major: 12, dir: path.join(root, 'compat', '.consumer-nest12'), nestFrom: root },
  {
    major: 11,
    dir: path.join(root, 'compat', 'nest11', '.consumer-nest11'),
    nestFrom: path.join(root, 'compat', 'nest11'),
  },
];

if (!fs.existsSync(path.join(dist, 'index.d.ts'))) {
  throw new Error('dist/lib/index.d.ts is missing: run "npm run build" first.');
}

function copyDeclarations(from, to) {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    if (entry.isDirectory()) copyDeclarations(source, path.join(to, entry.name));
    else if (entry.name.endsWith('.d.ts')) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(source, path.join(to, entry.name));
    }
  }
}

for (const { nestFrom } of consumers) {
  if (!fs.existsSync(path.join(nestFrom, 'node_modules', '@nestjs', 'common'))) {
    throw new Error(`${nestFrom}/node_modules has no NestJS: run "npm ci --prefix ${nestFrom}".`);
  }
}

let failed = false;
for (const { major, dir, nestFrom } of consumers) {
  fs.rmSync(dir, { recursive: true, force: true });
  const installed = path.join(dir, 'node_modules', 'nest-oauth2-bearer');
  copyDeclarations(dist, path.join(installed, 'dist', 'lib'));
  const { name, version, main, types, exports, typesVersions } = require(
    path.join(root, 'package.json'),
  );
  fs.writeFileSync(
    path.join(installed, 'package.json'),
    JSON.stringify({ name, version, main, types, exports, typesVersions }, null, 2),
  );
  fs.copyFileSync(
    path.join(root, 'compat', 'consumer', 'consumer.ts'),
    path.join(dir, 'consumer.ts'),
  );
  fs.writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'es2023',
        lib: ['es2023'],
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
        typeRoots: [path.join(root, 'node_modules', '@types')],
      },
      files: ['consumer.ts'],
    }),
  );
  let output;
  try {
    output = execFileSync(process.execPath, [tsc, '-p', dir, '--listFiles'], { encoding: 'utf8' });
  } catch (error) {
    failed = true;
    // Without the file list that --listFiles interleaves: absolute paths alone on their line.
    const errors = `${error.stdout}${error.stderr}`
      .split('\n')
      .filter((line) => !/^\/\S+$/.test(line));
    console.error(`NestJS ${major}: the declarations do not compile\n${errors.join('\n')}`);
    continue;
  }
  // Every @nestjs/common typing tsc read must be the wanted major's, and none of the other's.
  const nestFiles = output.split('\n').filter((file) => file.includes('/@nestjs/common/'));
  const wanted = path.join(nestFrom, 'node_modules', '@nestjs', 'common') + path.sep;
  const stray = nestFiles.filter((file) => !path.resolve(file).startsWith(wanted));
  if (nestFiles.length === 0 || stray.length > 0) {
    failed = true;
    console.error(
      `NestJS ${major}: typings read from elsewhere than ${wanted}:\n${stray.join('\n')}`,
    );
    continue;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`NestJS ${major}: the published declarations compile (skipLibCheck off).`);
}
process.exitCode = failed ? 1 : 0;
