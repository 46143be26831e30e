/**
 * What every bench script shares: pinning (`taskset`), a server's CPU time from /proc, child
 * servers spoken to over IPC, autocannon loads (a fixed amount, or an offered rate for a time), and
 * medians with quartiles.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import autocannon from 'autocannon';
import { freePort } from '../test/support/free-port';
import { bearerRequests } from './pinned';

/** Pinning: possible with taskset and at least two CPUs. */
export const canPin =
  cpus().length >= 2 && spawnSync('taskset', ['-p', String(process.pid)]).status === 0;

/** The command that starts node with `args` pinned to `cpu` (or unpinned when pinning is impossible). */
export const pinned = (cpu: number, args: string[]): [string, string[]] =>
  canPin ? ['taskset', ['-c', String(cpu), process.execPath, ...args]] : [process.execPath, args];

/** Pins this process (the runner, which runs autocannon) to `cpu`. */
export function pinSelf(cpu: number): void {
  if (canPin) spawnSync('taskset', ['-apc', String(cpu), String(process.pid)], { stdio: 'ignore' });
}

/** CPU ns used so far by every thread of `pid` (schedstat's first field), or from stat in ticks. */
export function cpuNanos(pid: number): number {
  let total = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    }
    if (total > 0) return total;
  } catch {
    // no schedstat: fall back to utime + stime
  }
  return statTicks(pid) * 1e7;
}

/** utime + stime of `pid`, in clock ticks (100 a second): what /proc/<pid>/stat counts. */
function statTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * CPU ns of every process in process group `pgid`, from /proc/<pid>/stat's utime + stime (10 ms
 * ticks): how a harness that watches `npm run sample` from outside counts (npm, sh and node).
 */
export function groupStatNanos(pgid: number): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ');
      if (Number(fields[2]) === pgid) ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks * 1e7;
}

export const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** Starts node with `args` pinned to `cpu`; resolves on the child's first IPC message. */
export function startChild(
  args: string[],
  cpu: number,
  env: Record<string, string> = {},
): Promise<ChildProcess> {
  const [command, commandArgs] = pinned(cpu, args);
  const child = spawn(command, commandArgs, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise<ChildProcess>((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

/**
 * Sends `message` to `child` and resolves with its next message, or with its next message that has
 * `key` (or is `key`) when given: a server may send other messages meanwhile.
 */
export function ask<T>(child: ChildProcess, message: unknown, key?: string): Promise<T> {
  return new Promise((resolve) => {
    const listen = (answer: unknown) => {
      const matches =
        key === undefined ||
        answer === key ||
        (typeof answer === 'object' && answer !== null && key in answer);
      if (!matches) return;
      child.off('message', listen);
      resolve(answer as T);
    };
    child.on('message', listen);
    child.send(message as never);
  });
}

export interface LoadResult {
  /** 2xx answers per second, from the first request to the last answer. */
  rate: number;
  answered: number;
  /** autocannon's latency percentiles, ms. */
  p50: number;
  p99: number;
}

export interface LoadOptions {
  connections: number;
  /** A fixed number of requests, sent as fast as they are answered. */
  amount?: number;
  /** Or a time, ms (with `rate`, requests a second over all connections; without, saturated). */
  durationMs?: number;
  rate?: number;
  /** Each request's bearer token, when given. */
  token?: () => string;
  /** Each request's headers, when given (instead of `token`). */
  headers?: () => Record<string, string>;
}

/** autocannon's requests: `options.headers()` on each, or else `Bearer <options.token()>`. */
function requestsOf(options: Pick<LoadOptions, 'token' | 'headers'>): autocannon.Request[] {
  const { headers } = options;
  if (!headers) return bearerRequests(options.token);
  return [
    {
      setupRequest: (request) => {
        request.headers = { ...request.headers, ...headers() };
        return request;
      },
    },
  ];
}

/** The error of a run whose answers were not all 2xx (the only way a bench fails), or undefined. */
function notAll2xx(url: string, result: autocannon.Result): Error | undefined {
  const ok = result['2xx'];
  if (ok === result.requests.total && result.errors === 0 && result.timeouts === 0)
    return undefined;
  return new Error(
    `${url}: ${ok} of ${result.requests.total} answers were 2xx (${result.errors} errors, ` +
      `${result.timeouts} timeouts, ${result.non2xx} non-2xx)`,
  );
}

/** A load on `url`; fails unless every answer is 2xx. */
export function load(url: string, options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    // Timed here: autocannon ends runs on its next sampling tick, which would count idle time.
    const started = performance.now();
    let lastAnswer = started;
    const requests = requestsOf(options);
    const instance = autocannon(
      {
        url,
        connections: options.connections,
        ...(options.amount !== undefined ? { amount: options.amount } : {}),
        ...(options.durationMs !== undefined ? { duration: options.durationMs / 1000 } : {}),
        ...(options.rate !== undefined ? { overallRate: options.rate } : {}),
        // autocannon ends a run on its next sampling tick: 100 ms, not the default second.
        sampleInt: 100,
        requests,
      },
      (error, result) => {
        if (error) return reject(error);
        const refused = notAll2xx(url, result);
        if (refused) return reject(refused);
        const ok = result['2xx'];
        resolve({
          rate: ok / ((lastAnswer - started) / 1000),
          answered: ok,
          p50: result.latency.p50,
          p99: result.latency.p99,
        });
      },
    );
    instance.on('response', () => {
      lastAnswer = performance.now();
    });
    instance.on('error', reject);
  });
}

/**
 * An offered load of `rate` requests a second for `durationMs` (whole seconds), with autocannon's
 * rate limit spread over the second: autocannon lets each connection send its quota at the start of
 * each second, as fast as answers come, so one instance at 10 % is a saturating burst then idle.
 * Here `spread` instances, each with `rate / spread` over its share of `connections`, start
 * `1000 / spread` ms apart, so that the bursts are small and even. Latencies are every answer's.
 */
export async function offeredLoad(
  url: string,
  options: { rate: number; durationMs: number; connections: number; spread?: number } & Pick<
    LoadOptions,
    'token' | 'headers'
  >,
): Promise<LoadResult> {
  const spread = Math.min(options.spread ?? 20, options.connections);
  const latencies: number[] = [];
  const runs = Array.from({ length: spread }, (_, i) =>
    pause((i * 1000) / spread).then(
      () =>
        new Promise<number>((resolve, reject) => {
          const requests = requestsOf(options);
          const instance = autocannon(
            {
              url,
              connections: Math.max(1, Math.floor(options.connections / spread)),
              duration: Math.max(1, Math.round(options.durationMs / 1000)),
              overallRate: Math.max(1, options.rate / spread),
              requests,
            },
            (error, result) => {
              if (error) return reject(error);
              const refused = notAll2xx(url, result);
              if (refused) return reject(refused);
              resolve(result['2xx']);
            },
          );
          instance.on('response', (_client, _status, _bytes, responseTime: number) => {
            latencies.push(responseTime);
          });
          instance.on('error', reject);
        }),
    ),
  );
  const answered = (await Promise.all(runs)).reduce((a, b) => a + b, 0);
  return {
    rate: answered / Math.max(1, Math.round(options.durationMs / 1000)),
    answered,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
  };
}

/**
 * Resolves once `url` answers 2xx (a server started without IPC, such as the sample). With
 * `child`, a child that exits first fails the wait at once, with the tail of what it wrote to
 * stderr when `stderrTail` gives it, rather than after the whole timeout.
 */
export async function waitForHttp(
  url: string,
  timeoutMs = 60_000,
  child?: ChildProcess,
  stderrTail: () => string = () => '',
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      const tail = stderrTail().trim();
      throw new Error(
        `the server for ${url} exited with ${child.exitCode ?? child.signalCode} before answering` +
          (tail ? `; its stderr ended: ${tail}` : ''),
      );
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Runs `start` with a port that was free a moment ago, and again with another when it fails: the
 * port may be taken between the check and the server's listen (the bench once used fixed ports in
 * Linux's ephemeral range, where a load generator's outbound socket can hold one). `start` stops
 * whatever it started before it throws.
 */
export async function onFreePort<T>(
  start: (port: number) => Promise<T>,
  attempts = 3,
): Promise<{ value: T; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return { value: await start(port), port };
    } catch (error) {
      if (attempt >= attempts) throw error;
      console.error(`start on port ${port} failed (${(error as Error).message}); another port`);
    }
  }
}

/**
 * Starts a server that has no IPC (`spawnOn(port)`, its stderr piped) on a free port and resolves
 * once `path` answers; one that fails to answer is stopped with `stop` and started again on another
 * port (see {@link onFreePort}).
 */
export function startAnswering(
  spawnOn: (port: number) => ChildProcess,
  path: string,
  stop: (child: ChildProcess) => void = (child) => child.kill(),
): Promise<{ value: ChildProcess; port: number }> {
  return onFreePort(async (port) => {
    const child = spawnOn(port);
    const stderr = keepStderrTail(child);
    try {
      await waitForHttp(`http://127.0.0.1:${port}${path}`, 60_000, child, stderr);
    } catch (error) {
      stop(child);
      throw error;
    }
    return child;
  });
}

/** The last `max` characters a child writes to stderr, kept as it writes (the pipe is drained). */
function keepStderrTail(child: ChildProcess, max = 2000): () => string {
  let tail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-max);
  });
  return () => tail;
}

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  return sorted[low] + (sorted[Math.ceil(at)] - sorted[low]) * (at - low);
};
export const median = (values: number[]) => quantile(values, 0.5);
/** "median (q1 to q3)", or "—" without values. */
export const fmt = (values: number[], digits: number) =>
  values.length === 0
    ? '—'
    : `${median(values).toFixed(digits)} (${quantile(values, 0.25).toFixed(digits)} to ${quantile(values, 0.75).toFixed(digits)})`;

/**
 * The requests and event-loop turns of histograms from bench/servers/load-probe.ts (batch size →
 * turns), summed.
 */
export function turnTotals(histograms: Iterable<Iterable<[number, number]>>): {
  requests: number;
  turns: number;
} {
  let requests = 0;
  let turns = 0;
  for (const histogram of histograms) {
    for (const [size, count] of histogram) {
      requests += size * count;
      turns += count;
    }
  }
  return { requests, turns };
}
