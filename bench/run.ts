/**
 * `npm run bench`: what a protected route costs the server, for this library and its two peers,
 * measured in one run on loopback with autocannon. Writes bench/RESULTS.md.
 *
 * Method (issue 12): on a 2-core machine, the server and the load generator pinned to different
 * cores (`taskset`: every server on CPU 0; this runner, which runs autocannon, on CPU 1), and the
 * figure is the server's own CPU time per request: the sum over its threads of
 * /proc/<pid>/task/<tid>/schedstat (ns), before and after a slice, divided by the requests it
 * answered in that slice. Each round runs one slice of every scenario of every app (open route
 * included), in an order that rotates; the overhead of a scenario is its CPU per request minus
 * the open route's in the same round, and every figure is the median over rounds with quartiles.
 * Between rounds, an idle process pinned to CPU 1 measures a raw RS256 `crypto.verify` with a
 * parsed key (the limit), so that the overhead is also a multiple of the limit from the same run.
 * Throughput ratios (protected / open route, paired within a round) are reported beside it.
 *
 * Environment: BENCH_ROUNDS (rounds, 15), BENCH_SLICE (requests per slice, 2000),
 * BENCH_CONNECTIONS (32), BENCH_OUT (bench/RESULTS.md), BENCH_IN_PROCESS (0 skips the in-process
 * per-path costs and the cache memory figure).
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { KeyServer } from '../test/support/key-server';
import {
  ask,
  canPin,
  cpuNanos,
  fmt,
  load as loadWith,
  median,
  pinSelf,
  rssMiB,
  onFreePort,
  startChild,
} from './harness';
import { measureCacheMemory } from './cache-memory';
import { measureDpopScale } from './dpop-scale';
import {
  CURVE_APPS as ALL_CURVE_APPS,
  LEVELS,
  measureLoadCurve,
  measureSecondHarness,
  type Level,
} from './load-curve';
import { measureVerifyPaths } from './verify-paths';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const SLICE = Number(process.env.BENCH_SLICE ?? 2000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const OUT = process.env.BENCH_OUT ?? join(__dirname, '..', '..', 'bench', 'RESULTS.md');
const IN_PROCESS = process.env.BENCH_IN_PROCESS !== '0';
/** The load curve: BENCH_CURVE_APPS (indexes of CURVE_APPS, 'none' skips it), _LEVELS, _ROUNDS, _SLICE_MS. */
const CURVE_APPS = pick(ALL_CURVE_APPS, process.env.BENCH_CURVE_APPS);
const CURVE_LEVELS = process.env.BENCH_CURVE_LEVELS
  ? (process.env.BENCH_CURVE_LEVELS.split(',').map(Number) as Level[])
  : [...LEVELS];
const CURVE_ROUNDS = Number(process.env.BENCH_CURVE_ROUNDS ?? 3);
const CURVE_SLICE_MS = Number(process.env.BENCH_CURVE_SLICE_MS ?? 2000);
/** The second harness: BENCH_SECOND_HARNESS=0 skips it; _ROUNDS (5) of _SLICE_MS (3000). */
const SECOND_HARNESS = process.env.BENCH_SECOND_HARNESS !== '0';
const SECOND_ROUNDS = Number(process.env.BENCH_SECOND_ROUNDS ?? 5);
const SECOND_SLICE_MS = Number(process.env.BENCH_SECOND_SLICE_MS ?? 3000);
/**
 * DPoP at scale: BENCH_DPOP=0 skips it; BENCH_DPOP_ROUNDS (3) of BENCH_DPOP_SLICE_MS (2000);
 * BENCH_DPOP_LEVELS (shares of saturation, e.g. 0.5,1; all four by default).
 */
const DPOP = process.env.BENCH_DPOP !== '0';
const DPOP_ROUNDS = Number(process.env.BENCH_DPOP_ROUNDS ?? 3);
const DPOP_SLICE_MS = Number(process.env.BENCH_DPOP_SLICE_MS ?? 2000);

/** The items of `all` that `list` names by index (comma-separated; 'none': none; unset: all). */
function pick<T>(all: T[], list: string | undefined): T[] {
  if (list === undefined) return all;
  if (list === 'none') return [];
  return list.split(',').map((n) => {
    const item = all[Number(n)];
    if (item === undefined) throw new Error(`no item ${n} (0 to ${all.length - 1})`);
    return item;
  });
}

/** What a slice sends: the open route, with or without new-token headers, or the protected route. */
type Scenario = 'public' | 'public-with-token' | 'repeated' | 'new' | 'opaque';
interface App {
  name: string;
  script: string;
  scenarios: Scenario[];
  env?: Record<string, string>;
}

const OURS = 'nest-oauth2-bearer';
const PEERS = [
  'express-oauth2-jwt-bearer 1.10 (Express)',
  'passport-jwt + jwks-rsa (Auth0 Nest sample)',
];
const ALL_APPS: App[] = [
  {
    name: OURS,
    script: 'ours.js',
    scenarios: ['public', 'public-with-token', 'repeated', 'new', 'opaque'],
  },
  { name: PEERS[0], script: 'peer-express.js', scenarios: ['public', 'repeated', 'new'] },
  { name: PEERS[1], script: 'peer-passport.js', scenarios: ['public', 'repeated', 'new'] },
];
/** BENCH_APPS: a comma-separated list of app numbers (0: this library, 1 and 2: the peers), for a shorter run. */
const APPS = process.env.BENCH_APPS
  ? process.env.BENCH_APPS.split(',').map((n) => {
      const app = ALL_APPS[Number(n)];
      if (!app) throw new Error(`BENCH_APPS: no app ${n} (0 to ${ALL_APPS.length - 1})`);
      return app;
    })
  : ALL_APPS;

/** One scenario of one app over the rounds. */
interface Series {
  /** Server CPU µs per request, each round. */
  cpu: number[];
  /** Requests per second, each round. */
  rate: number[];
  /** CPU µs per request above the open route of the same round. */
  overhead: number[];
  /** Requests per second / the open route's in the same round. */
  ratio: number[];
  /** Overhead / the raw verify measured before the round. */
  timesLimit: number[];
  /** open CPU / (open CPU + raw verify) of the same round: the best ratio a verifying route can have. */
  limitRatio: number[];
  /**
   * CPU µs per request above the open route sent the same header bytes (public-with-token) in the
   * same round, where the app has that scenario: the guard's own work, without the HTTP parsing of
   * a 1 KiB header that any route pays for the token it is sent.
   */
  aboveCarrying: number[];
  /** autocannon's median and 99th percentile latency of the slice, ms, each round. */
  p50: number[];
  p99: number[];
}

const emptySeries = (): Series => ({
  cpu: [],
  rate: [],
  overhead: [],
  ratio: [],
  timesLimit: [],
  limitRatio: [],
  aboveCarrying: [],
  p50: [],
  p99: [],
});

/** `amount` requests as fast as they are answered, with `token` when given. */
const load = (url: string, amount: number, token?: () => string) =>
  loadWith(url, { connections: CONNECTIONS, amount, token });

async function main() {
  pinSelf(1);
  const ks = await KeyServer.start();
  const newTokens = ROUNDS * SLICE + SLICE;
  console.log(`Minting ${newTokens} RS256 tokens...`);
  const expiry = Math.floor(Date.now() / 1000) + 3600;
  const minted = Array.from({ length: newTokens }, (_, i) =>
    ks.token({ jti: `t-${i}`, exp: expiry }),
  );
  const repeated = ks.token({ jti: 'repeated', exp: expiry });
  const opaque = 'opaque-bench-token-0123456789abcdefghijklmnop';
  ks.profiles.set(opaque, { sub: 'auth0|bench', email: 'bench@example.com' });
  const rawVerifyJob = { jwk: ks.key.publicJwk, tokens: minted.slice(0, 500) };

  // Per-token costs in process (this runner, CPU 1), before the servers start.
  const costs = IN_PROCESS ? await measureVerifyPaths(ks, minted.slice(0, 2000)) : undefined;

  const verifier = await startChild([join(__dirname, 'raw-verify.js')], 1);
  const results = new Map<string, Map<Scenario, Series>>();
  const servers: Array<{
    app: App;
    child: ChildProcess;
    url: string;
    cursor: number;
    headerCursor: number;
  }> = [];
  const peakRss = new Map<string, number>();
  for (const app of APPS) {
    const { value: child, port } = await onFreePort((tryPort) =>
      startChild([join(__dirname, 'servers', app.script)], 0, {
        ...app.env,
        BENCH_ISSUER: ks.issuer,
        BENCH_AUDIENCE: ks.audience,
        BENCH_PORT: String(tryPort),
      }),
    );
    servers.push({ app, child, url: `http://127.0.0.1:${port}`, cursor: 0, headerCursor: 0 });
    results.set(app.name, new Map());
  }
  const slice = (server: (typeof servers)[number], scenario: Scenario) => {
    switch (scenario) {
      case 'public':
        return load(`${server.url}/public`, SLICE);
      case 'public-with-token':
        // The open route, sent the new-token headers: what carrying the token costs.
        return load(
          `${server.url}/public`,
          SLICE,
          () => minted[server.headerCursor++ % minted.length],
        );
      case 'repeated':
        return load(`${server.url}/private`, SLICE, () => repeated);
      case 'opaque':
        return load(`${server.url}/private`, SLICE, () => opaque);
      case 'new':
        return load(`${server.url}/private`, SLICE, () => minted[server.cursor++]);
    }
  };
  // Warm-up: keys fetched, JIT warm, caches filled where they would be. The first SLICE tokens
  // warm the new-token path; the rounds use the others.
  for (const server of servers) {
    await load(`${server.url}/public`, SLICE);
    await load(`${server.url}/private`, SLICE, () => repeated);
    if (server.app.scenarios.includes('opaque')) {
      await load(`${server.url}/private`, 200, () => opaque);
    }
    await load(`${server.url}/private`, SLICE, () => minted[server.cursor++]);
  }
  const raws: number[] = [];
  const serverRaws = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    // The limit, measured while nothing else runs: in the idle verify process (CPU 1), then in
    // each idle server (CPU 0), with its heap and caches.
    // A pause first, so that the last slice's sockets have closed on both cores.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { rawVerifyMicros: raw } = await ask<{ rawVerifyMicros: number }>(verifier, rawVerifyJob);
    raws.push(raw);
    for (const server of servers) {
      const { rawVerifyMicros } = await ask<{ rawVerifyMicros: number }>(server.child, {
        rawVerify: rawVerifyJob,
      });
      serverRaws.set(server.app.name, [
        ...(serverRaws.get(server.app.name) ?? []),
        rawVerifyMicros,
      ]);
    }
    console.log(`round ${round + 1}/${ROUNDS} (raw verify ${raw.toFixed(1)} µs)`);
    // Apps take turns, and scenarios within an app, in orders that rotate.
    const order = servers.map((_, i) => servers[(i + round) % servers.length]);
    for (const server of order) {
      const { scenarios } = server.app;
      const cpuPerRequest = new Map<Scenario, number>();
      const rates = new Map<Scenario, number>();
      const latencies = new Map<Scenario, [number, number]>();
      for (let i = 0; i < scenarios.length; i++) {
        const scenario = scenarios[(i + round) % scenarios.length];
        const pid = server.child.pid!;
        const before = cpuNanos(pid);
        const { rate, answered, p50, p99 } = await slice(server, scenario);
        cpuPerRequest.set(scenario, (cpuNanos(pid) - before) / 1000 / answered);
        rates.set(scenario, rate);
        latencies.set(scenario, [p50, p99]);
        peakRss.set(server.app.name, Math.max(peakRss.get(server.app.name) ?? 0, rssMiB(pid)));
      }
      const openCpu = cpuPerRequest.get('public')!;
      const openRate = rates.get('public')!;
      for (const scenario of scenarios) {
        const byScenario = results.get(server.app.name)!;
        const series = byScenario.get(scenario) ?? emptySeries();
        const cpu = cpuPerRequest.get(scenario)!;
        series.cpu.push(cpu);
        series.rate.push(rates.get(scenario)!);
        series.p50.push(latencies.get(scenario)![0]);
        series.p99.push(latencies.get(scenario)![1]);
        series.limitRatio.push(openCpu / (openCpu + raw));
        if (scenario !== 'public') {
          series.overhead.push(cpu - openCpu);
          series.ratio.push(rates.get(scenario)! / openRate);
          series.timesLimit.push((cpu - openCpu) / raw);
        }
        const carryingCpu = cpuPerRequest.get('public-with-token');
        if (carryingCpu !== undefined && (scenario === 'repeated' || scenario === 'new')) {
          series.aboveCarrying.push(cpu - carryingCpu);
        }
        byScenario.set(scenario, series);
      }
    }
  }
  for (const server of servers) {
    const { maxRssBytes } = await ask<{ maxRssBytes: number }>(server.child, 'memory');
    peakRss.set(server.app.name, maxRssBytes / 2 ** 20);
    server.child.kill();
  }
  // The load curve (issue 24) and the second harness reproduced, with the same key server and idle
  // verify process; then DPoP at scale.
  const rawVerify = async () =>
    (await ask<{ rawVerifyMicros: number }>(verifier, rawVerifyJob)).rawVerifyMicros;
  const second = SECOND_HARNESS
    ? await measureSecondHarness({
        ks,
        rounds: SECOND_ROUNDS,
        sliceMs: SECOND_SLICE_MS,
        connections: CONNECTIONS,
        rawVerify,
      })
    : [];
  const curve = CURVE_APPS.length
    ? (
        await measureLoadCurve({
          ks,
          rounds: CURVE_ROUNDS,
          sliceMs: CURVE_SLICE_MS,
          connections: CONNECTIONS,
          apps: CURVE_APPS,
          levels: CURVE_LEVELS,
          rawVerify,
        })
      ).lines
    : [];
  verifier.kill();
  await ks.stop();
  const dpop = DPOP
    ? await measureDpopScale({
        rounds: DPOP_ROUNDS,
        sliceMs: DPOP_SLICE_MS,
        connections: CONNECTIONS,
        levels: process.env.BENCH_DPOP_LEVELS?.split(',').map(Number),
      })
    : [];

  const cacheMemory = IN_PROCESS ? measureCacheMemory(1_000_000) : undefined;
  const none = emptySeries();
  // An app or scenario left out of the run (BENCH_APPS) has no figures: its lines read "—".
  const get = (app: string, scenario: Scenario) => results.get(app)?.get(scenario) ?? none;
  const rawMedian = median(raws);
  const oursNew = get(OURS, 'new');
  const oursRepeated = get(OURS, 'repeated');
  const peerBest = (scenario: 'new' | 'repeated') =>
    Math.max(...PEERS.map((peer) => median(get(peer, scenario).ratio) || 0));
  const verdict = (met: boolean) => (met ? '**met**' : '**not met**');
  const lines: string[] = [
    '# Benchmark results',
    '',
    `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} × ${cpus()[0]?.model.trim()}, ` +
      `${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, loopback, autocannon with ${CONNECTIONS} connections. ` +
      (canPin
        ? 'Every server pinned to CPU 0, the load generator (autocannon, in the runner) to CPU 1 (`taskset`). '
        : '**Not pinned** (no taskset or one CPU): figures are not comparable with pinned runs. ') +
      "Server CPU per request: the sum of the server's threads' `/proc/<pid>/task/<tid>/schedstat` run time (ns) over a slice, " +
      'divided by its answers (all 2xx, or the run fails). ' +
      '"The limit": a raw RS256 `crypto.verify` with a parsed key, in an idle process pinned to CPU 1 (CPU time, median of 3 passes over 500 tokens). ' +
      'Figures are medians over rounds, quartiles in brackets. "New token": a token never seen by that app on every request (RS256, 2048-bit).',
    '',
    ...curve,
    '',
    ...dpop,
    '',
    ...second,
    '',
    '## Saturated, in short slices (the first harness)',
    '',
    `${ROUNDS} rounds; in each, one slice of ${SLICE} requests as fast as they are answered (saturated) of every scenario of every app, ` +
      'apps and scenarios in rotating order. Overhead: CPU per request minus the open route of the same app in the same round. ' +
      'The limit measured before each round. Targets of issue 12:',
    '',
    `The limit in this run: ${fmt(raws, 1)} µs.`,
    '',
    `- A new token at most 1.5 × the limit above the open route: ${fmt(oursNew.overhead, 1)} µs = ${fmt(oursNew.timesLimit, 2)} × the limit: ${verdict(median(oursNew.timesLimit) <= 1.5)}.`,
    `- A repeated token at most 5 µs above the open route: ${fmt(oursRepeated.overhead, 1)} µs: ${verdict(median(oursRepeated.overhead) <= 5)}. ` +
      `Of it, the open route sent the same header bytes costs ${fmt(get(OURS, 'public-with-token').overhead, 1)} µs; ` +
      `the repeated token above that route (paired in each round): ${fmt(oursRepeated.aboveCarrying, 1)} µs, ` +
      `a new token ${fmt(oursNew.aboveCarrying, 1)} µs.`,
    `- Throughput ratios ahead of both peers by at least 0.15: repeated ${median(oursRepeated.ratio).toFixed(2)} vs best peer ${peerBest('repeated').toFixed(2)}, ` +
      `new ${median(oursNew.ratio).toFixed(2)} vs best peer ${peerBest('new').toFixed(2)}: ` +
      verdict(
        median(oursRepeated.ratio) - peerBest('repeated') >= 0.15 &&
          median(oursNew.ratio) - peerBest('new') >= 0.15,
      ) +
      '.',
    `- One repeated token at least 0.95 of the open route's throughput: ${fmt(oursRepeated.ratio, 2)}: ${verdict(median(oursRepeated.ratio) >= 0.95)}.`,
    `- A new token at least 0.90 of the limit ratio (open CPU / (open CPU + the limit) = ${fmt(oursNew.limitRatio, 2)}): ` +
      `${fmt(oursNew.ratio, 2)}, ${(median(oursNew.ratio) / median(oursNew.limitRatio)).toFixed(2)} of it: ` +
      `${verdict(median(oursNew.ratio) >= 0.9 * median(oursNew.limitRatio))}.`,
    '',
    '## Server CPU per request',
    '',
    '| App | scenario | CPU µs / request | above the open route, µs | × the limit | throughput req/s | / open route | latency p50 / p99, ms |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const app of APPS) {
    for (const scenario of app.scenarios) {
      const series = get(app.name, scenario);
      lines.push(
        `| ${app.name} | ${scenario} | ${fmt(series.cpu, 0)} | ${fmt(series.overhead, 1)} | ${fmt(series.timesLimit, 2)} | ` +
          `${Math.round(median(series.rate))} | ${fmt(series.ratio, 2)} | ` +
          `${median(series.p50).toFixed(0)} / ${median(series.p99).toFixed(0)} |`,
      );
    }
  }
  lines.push(
    '',
    '"public-with-token": the open route, sent the new-token headers but checking nothing. "opaque": a token the provider\'s userinfo answers (cached). ' +
      "Latency: autocannon's median and 99th percentile of each slice (whole milliseconds, 32 connections), medians over rounds.",
    '',
    "The limit measured inside each idle server (CPU 0, that server's heap and caches), µs: " +
      APPS.map((app) => `${app.name} ${fmt(serverRaws.get(app.name)!, 1)}`).join('; ') +
      '.',
    '',
    `Peak RSS: ${APPS.map((app) => `${app.name} ${Math.round(peakRss.get(app.name)!)} MiB`).join('; ')}.`,
  );
  if (costs) {
    lines.push(
      '',
      '## Per-token cost in process',
      '',
      '2000 distinct RS256 tokens, in the runner (CPU 1), median of three passes. Wall time, except for ' +
        "this library's verifier, whose checks wait for the event loop's turn: for it, the event loop's " +
        'busy time per token with 64 checks in flight (so batched as on a busy server). Both are CPU-bound, ' +
        'so the two measure the same thing: CPU time per token on one thread.',
      '',
      '| Path | µs per token | × the limit |',
      '| --- | ---: | ---: |',
      ...(
        [
          ['raw `crypto.verify` with a parsed key (the limit)', costs.rawParsedKey],
          [
            'raw `crypto.verify` parsing the PEM each time (what jwks-rsa hands passport-jwt)',
            costs.rawPemEachTime,
          ],
          ['`jsonwebtoken.verify` with a parsed key (signature only)', costs.jsonwebtoken],
          ['this library, the verifier (all checks, cache off)', costs.directPath],
          [
            'this library, Passport path (passport-jwt + jsonwebtoken, all checks, cache off)',
            costs.passportPath,
          ],
          [
            'this library, the verifier, a repeated token (verified-token cache)',
            costs.cachedToken,
          ],
        ] as const
      ).map(
        ([name, us]) => `| ${name} | ${us.toFixed(1)} | ${(us / costs.rawParsedKey).toFixed(2)} |`,
      ),
    );
  }
  if (cacheMemory) {
    lines.push(
      '',
      '## Memory',
      '',
      `Verified-token cache: ${cacheMemory.entries.toLocaleString('en')} distinct entries offered to the cache with its default bounds ` +
        `grew the V8 heap by ${cacheMemory.heapGrowthMiB.toFixed(1)} MiB (its index is typed arrays, outside it); its store is ` +
        `${cacheMemory.storeMiB.toFixed(1)} MiB (the rest of maxBytes, resident as written); the cache kept ` +
        `${cacheMemory.kept.toLocaleString('en')} entries (the store holds the users of the most recent).`,
    );
  }
  lines.push(
    '',
    '## Raw figures',
    '',
    'Per round, in order: server CPU µs per request (requests per second).',
    '',
  );
  lines.push(
    `- the limit (idle process, CPU 1), µs: ${raws.map((r) => r.toFixed(1)).join(', ')}; median ${rawMedian.toFixed(1)}`,
  );
  for (const app of APPS) {
    for (const scenario of app.scenarios) {
      const series = get(app.name, scenario);
      lines.push(
        `- ${app.name}, ${scenario}: ` +
          series.cpu
            .map((cpu, i) => `${cpu.toFixed(0)} (${Math.round(series.rate[i])})`)
            .join(', '),
      );
    }
  }
  // The accounting below this marker is written by hand from `npm run bench:profile`: kept.
  let kept = '';
  try {
    const previous = readFileSync(OUT, 'utf8');
    const at = previous.indexOf(KEPT);
    if (at !== -1) kept = `\n${previous.slice(at)}`;
  } catch {
    // first run
  }
  writeFileSync(OUT, `${lines.join('\n')}\n${kept}`);
  console.log(lines.join('\n'));
}

/** Where the hand-written part of RESULTS.md starts (the profile and the accounting). */
const KEPT =
  '<!-- Below: the profile (npm run bench:profile) and the accounting; npm run bench keeps it. -->';

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
