/**
 * `npm run bench:profile`: where a request's server CPU goes, by module and by function, for this
 * library's open route, a new token on every request and one repeated token. The server runs pinned
 * to CPU 0 and autocannon (this process) to CPU 1, as in `npm run bench`; the V8 CPU profiler
 * (100 µs sampling) runs only during each measured slice, after warm-up (the steady state), and
 * scenarios are interleaved over rounds. Prints a Markdown section (and writes BENCH_PROFILE_OUT,
 * dist/bench-profile.md by default).
 *
 * Environment: BENCH_ROUNDS (8), BENCH_SLICE (requests per slice, 2000), BENCH_CONNECTIONS (32),
 * BENCH_NO_CACHE (passed to the server).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { KeyServer } from '../test/support/key-server';
import { bearerRequests, startPinnedServer } from './pinned';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const SLICE = Number(process.env.BENCH_SLICE ?? 2000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const OUT = process.env.BENCH_PROFILE_OUT ?? join(__dirname, '..', 'bench-profile.md');
const SCENARIOS = ['public', 'new', 'repeated'] as const;
type Scenario = (typeof SCENARIOS)[number];

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The module a frame belongs to: a package, a file of this library, a Node module, or V8. */
function moduleOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : `(native) ${functionName}`;
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inPackage) return inPackage[1];
  const ours = /\/dist\/(lib|bench)\/(.+)\.js$/.exec(url);
  if (ours) return `ours: ${ours[1]}/${ours[2]}`;
  if (url.startsWith('node:')) return url;
  return url;
}

/** Self time in µs by key, over a profile. */
function selfTime(profile: Profile, keyOf: (node: ProfileNode) => string): Map<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    // A sample's time is the delta to the next sample.
    const delta = profile.timeDeltas[i + 1] ?? 0;
    const key = keyOf(byId.get(profile.samples[i])!);
    totals.set(key, (totals.get(key) ?? 0) + delta);
  }
  return totals;
}

const cpuNanos = (pid: number) =>
  readdirSync(`/proc/${pid}/task`).reduce(
    (sum, tid) =>
      sum + Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]),
    0,
  );

function ask<T>(child: ChildProcess, message: unknown): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', resolve as never);
    child.send(message as never);
  });
}

function load(url: string, amount: number, token?: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections: CONNECTIONS,
        amount,
        sampleInt: 100,
        requests: bearerRequests(token),
      },
      (error, result) => {
        if (error) return reject(error);
        if (result['2xx'] !== result.requests.total) {
          return reject(new Error(`${url}: ${result['2xx']} of ${result.requests.total} were 2xx`));
        }
        resolve(result['2xx']);
      },
    );
  });
}

async function main() {
  spawnSync('taskset', ['-apc', '1', String(process.pid)], { stdio: 'ignore' });
  const ks = await KeyServer.start();
  const expiry = Math.floor(Date.now() / 1000) + 3600;
  const count = (ROUNDS + 1) * SLICE + 500;
  console.log(`Minting ${count} RS256 tokens...`);
  const minted = Array.from({ length: count }, (_, i) => ks.token({ jti: `p-${i}`, exp: expiry }));
  const repeated = ks.token({ jti: 'repeated', exp: expiry });
  const port = 43199;
  const child = await startPinnedServer(ks, port);
  const url = `http://127.0.0.1:${port}`;
  let cursor = 0;
  const send = (scenario: Scenario, amount: number) =>
    scenario === 'public'
      ? load(`${url}/public`, amount)
      : scenario === 'repeated'
        ? load(`${url}/private`, amount, () => repeated)
        : load(`${url}/private`, amount, () => minted[cursor++]);
  for (const scenario of SCENARIOS) await send(scenario, SLICE);

  /** Per round and scenario: µs per request by group, and the sums by module and function. */
  const groups = new Map<Scenario, Array<Map<string, number>>>();
  const byModule = new Map<Scenario, Map<string, number>>();
  const byFunction = new Map<Scenario, Map<string, number>>();
  const requests = new Map<Scenario, number>();
  const serverRaw: number[] = [];
  const add = (
    into: Map<Scenario, Map<string, number>>,
    scenario: Scenario,
    from: Map<string, number>,
  ) => {
    const totals = into.get(scenario) ?? new Map<string, number>();
    for (const [key, us] of from) totals.set(key, (totals.get(key) ?? 0) + us);
    into.set(scenario, totals);
  };
  const rawJob = { jwk: ks.key.publicJwk, tokens: minted.slice(0, 500) };
  for (let round = 0; round < ROUNDS; round++) {
    const { rawVerifyMicros } = await ask<{ rawVerifyMicros: number }>(child, {
      rawVerify: rawJob,
    });
    serverRaw.push(rawVerifyMicros);
    console.log(
      `round ${round + 1}/${ROUNDS}: raw verify in the idle server ${rawVerifyMicros.toFixed(1)} µs`,
    );
    for (let i = 0; i < SCENARIOS.length; i++) {
      const scenario = SCENARIOS[(i + round) % SCENARIOS.length];
      await ask(child, 'profile-start');
      const before = cpuNanos(child.pid!);
      const answered = await send(scenario, SLICE);
      const cpu = (cpuNanos(child.pid!) - before) / 1000 / answered;
      const { profile } = await ask<{ profile: Profile }>(child, 'profile-stop');
      requests.set(scenario, (requests.get(scenario) ?? 0) + answered);
      const modules = selfTime(profile, (node) => moduleOf(node.callFrame));
      add(byModule, scenario, modules);
      add(
        byFunction,
        scenario,
        selfTime(
          profile,
          (node) =>
            `${node.callFrame.functionName || '(anonymous)'} ${moduleOf(node.callFrame)}:${node.callFrame.lineNumber + 1}`,
        ),
      );
      const grouped = new Map<string, number>([['server CPU, all threads (schedstat)', cpu]]);
      for (const [module, us] of modules) {
        const group = groupOf(module);
        grouped.set(group, (grouped.get(group) ?? 0) + us / answered);
      }
      groups.set(scenario, [...(groups.get(scenario) ?? []), grouped]);
    }
  }
  child.send('exit');
  await ks.stop();

  const quantile = (values: number[], q: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (sorted.length - 1) * q;
    const low = Math.floor(at);
    return sorted[low] + (sorted[Math.ceil(at)] - sorted[low]) * (at - low);
  };
  const fmt = (values: number[]) =>
    `${quantile(values, 0.5).toFixed(1)} (${quantile(values, 0.25).toFixed(1)} to ${quantile(values, 0.75).toFixed(1)})`;
  const perRound = (scenario: Scenario, group: string) =>
    groups.get(scenario)!.map((round) => round.get(group) ?? 0);
  const paired = (scenario: Scenario, group: string) => {
    const open = perRound('public', group);
    return perRound(scenario, group).map((us, round) => us - open[round]);
  };
  const groupNames = ['server CPU, all threads (schedstat)', ...GROUPS.map(([name]) => name)];
  const perRequest = (scenario: Scenario, totals: Map<string, number>, key: string) =>
    (totals.get(key) ?? 0) / requests.get(scenario)!;
  const table = (title: string, into: Map<Scenario, Map<string, number>>, top: number) => {
    const keys = new Set(SCENARIOS.flatMap((s) => [...into.get(s)!.keys()]));
    const rows = [...keys].map((key) => {
      const [open, fresh, again] = SCENARIOS.map((s) => perRequest(s, into.get(s)!, key));
      return { key, open, fresh, again };
    });
    rows.sort((a, b) => Math.abs(b.fresh - b.open) - Math.abs(a.fresh - a.open));
    return [
      `| ${title} | open route µs | new token µs | new − open | repeated token µs | repeated − open |`,
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...rows
        .slice(0, top)
        .map(
          (r) =>
            `| ${r.key.replace(/\|/g, '\\|')} | ${r.open.toFixed(1)} | ${r.fresh.toFixed(1)} | ${(r.fresh - r.open).toFixed(1)} | ${r.again.toFixed(1)} | ${(r.again - r.open).toFixed(1)} |`,
        ),
    ];
  };
  const lines = [
    `Profiled: ${ROUNDS} rounds, in each one slice of ${SLICE} requests per scenario (rotating order), ${CONNECTIONS} connections, ` +
      'server pinned to CPU 0, autocannon to CPU 1; the V8 profiler (100 µs sampling) on only during the measured slices (after warm-up), ' +
      `main thread only. Raw verify in the idle server before each round: ${fmt(serverRaw)} µs.`,
    '',
    'Groups, µs per request, medians over rounds (quartiles); differences paired within a round:',
    '',
    '| Group | open route | new token | new − open | repeated token | repeated − open |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...groupNames.map(
      (group) =>
        `| ${group} | ${fmt(perRound('public', group))} | ${fmt(perRound('new', group))} | ${fmt(paired('new', group))} | ` +
        `${fmt(perRound('repeated', group))} | ${fmt(paired('repeated', group))} |`,
    ),
    '',
    'All rounds summed, µs per request:',
    '',
    ...table('Module (self time)', byModule, 25),
    '',
    ...table('Function (self time)', byFunction, 30),
  ];
  writeFileSync(OUT, `${lines.join('\n')}\n`);
  console.log(lines.join('\n'));
}

/** Groups of modules, in order; the first whose test matches a module takes it. */
const GROUPS: Array<[string, (module: string) => boolean]> = [
  [
    'RSA verify (node:crypto: the native job and its JS)',
    (m) => m === '(native) run' || m === '(native) SignJob' || m.startsWith('node:internal/crypto'),
  ],
  ['this library (JS)', (m) => m.startsWith('ours: lib/')],
  [
    "natives this library calls (tokenHash's SHA-256, base64url decoding)",
    (m) => m === '(native) oneShotDigest' || m === '(native) base64urlWrite',
  ],
  ['lru-cache', (m) => m === 'lru-cache'],
  ['garbage collector', (m) => m === '(garbage collector)'],
  [
    'HTTP stack (node:http/net/streams/events, express, router, @nestjs, writev...)',
    (m) => !['(idle)', '(program)', '(root)'].includes(m),
  ],
  ['(program)', (m) => m === '(program)'],
  ['(idle)', (m) => m === '(idle)'],
];
const groupOf = (module: string) => GROUPS.find(([, test]) => test(module))![0];

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
