import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** What both consumer specs share: npm, and the packed package. */
export const run = promisify(execFile);
export const root = join(__dirname, '..', '..');
const npmFlags = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

/** Runs npm in `cwd` (with `env` when given), and says what npm printed when it fails. */
export async function npm(args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<void> {
  try {
    await run('npm', [...args, ...npmFlags], { cwd, env, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`npm ${args.join(' ')} failed in ${cwd}:\n${stdout}${stderr}`, {
      cause: error,
    });
  }
}

/** `npm pack` of the built package into `destination`; returns the tarball's path. */
export async function pack(destination: string): Promise<string> {
  if (!existsSync(join(root, 'dist', 'lib', 'index.js'))) {
    throw new Error('dist/lib is missing: run "npm run build" before the consumer test.');
  }
  mkdirSync(destination, { recursive: true });
  const { stdout } = await run(
    'npm',
    ['pack', '--json', '--ignore-scripts', '--pack-destination', destination],
    { cwd: root },
  );
  return join(destination, (JSON.parse(stdout) as Array<{ filename: string }>)[0].filename);
}
