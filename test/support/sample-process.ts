import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './free-port';

export const SAMPLE_MAIN = join(__dirname, '..', '..', 'dist', 'sample', 'main.js');

/** The built sample, run in its own process as `npm run sample` runs it. */
export interface SampleProcess {
  child: ChildProcess;
  port: number;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  stop(): Promise<void>;
}

export async function startSample(env: NodeJS.ProcessEnv): Promise<SampleProcess> {
  if (!existsSync(SAMPLE_MAIN)) {
    throw new Error(`${SAMPLE_MAIN} is missing: run "npm run build" before the tests.`);
  }
  const port = await freePort();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), ...env };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete childEnv[name];
  const child = spawn(process.execPath, [SAMPLE_MAIN], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    child,
    port,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * The sample in development with no issuer or audience of its own, so that it starts its embedded
 * development identity provider; `env` adds to that (`SAMPLE_PLATFORM`, ...).
 */
export function startDevSample(env: NodeJS.ProcessEnv = {}): Promise<SampleProcess> {
  return startSample({
    NODE_ENV: 'development',
    AUTH_ISSUER_URL: undefined,
    AUTH_AUDIENCE: undefined,
    ...env,
  });
}

/** Waits until the sample prints a whole `export NAME=value` line, and returns the value. */
export async function printedExport(
  sample: SampleProcess,
  name: string,
  timeoutMs = 15000,
): Promise<string> {
  const pattern = new RegExp(`^export ${name}=(\\S+)\\n`, 'm');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = pattern.exec(sample.output())?.[1];
    if (value !== undefined) return value;
    if (Date.now() > deadline || sample.child.exitCode !== null) {
      throw new Error(`The sample did not print ${name}:\n${sample.output().slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits until the sample logs `API listening on ...`: it answers requests from then on. */
export async function untilListening(sample: SampleProcess, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!/API listening on /.test(sample.output())) {
    if (Date.now() > deadline || sample.child.exitCode !== null) {
      throw new Error(`The sample did not start listening:\n${sample.output().slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
