/**
 * DPoP at scale (issue 24, item 5): what a DPoP request (ES256 proof, RS256 token bound to its key
 * with `cnf.jkt`) costs the server above a bearer request, with `dpop: { mode: 'required' }` and
 * the replay records in a real redis-server shared through cache-manager and @keyv/redis (as
 * sample/app.module.ts wires it), at offered loads of 10, 50, 90 and 100 % of the open route's
 * saturated throughput, with one instance and with two instances sharing one Redis.
 *
 * Method: every server pinned to CPU 0, this runner (autocannon) and redis-server to CPU 1. Server
 * CPU per request: the sum over the server's threads of /proc/<pid>/task/<tid>/schedstat (ns) over
 * a slice, divided by its 2xx answers (any other answer fails the run). DPoP is required on the
 * DPoP servers, so bearer requests go to servers of the same app without `dpop.mode` set; each kind
 * is measured above its own servers' open route, sent in the same round at the same offered rate.
 * Redis's INFO stats before and after each DPoP slice give its reads (round trips, as the server
 * sees them) and commands.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import type { JsonWebKey } from 'node:crypto';
import { join } from 'node:path';
import { DpopKey } from '../test/support/dpop-proofs';
import { freePort } from '../test/support/free-port';
import { KeyServer } from '../test/support/key-server';
import { RedisServer } from '../test/support/redis-server';
import {
  ask,
  canPin,
  cpuNanos,
  fmt,
  load,
  median,
  offeredLoad,
  pinSelf,
  startChild,
  turnTotals,
  type LoadResult,
} from './harness';

export interface DpopScaleOptions {
  /** Rounds, each one slice of every scenario at every load level and instance count. */
  rounds: number;
  /** The length of a slice, ms. */
  sliceMs: number;
  /** autocannon's connections (split between the servers with two instances). */
  connections: number;
  /** Offered loads, shares of the open route's saturated throughput (1: saturated); all four by default. */
  levels?: readonly number[];
  /** Instance counts, [1, 2] by default. */
  instances?: readonly number[];
}

/** The URL clients call (a balancer's): every proof's `htu` is this + /private. */
const PUBLIC_URL = 'https://api.bench.local';
const LEVELS = [0.1, 0.5, 0.9, 1] as const;
/**
 * `cache.storeTimeoutMs` of the Redis-backed servers. The default, 150 ms, failed a run: with two
 * instances saturating one core shared with other work, 9 DPoP requests of a 2 s slice were
 * refused 503 (fail-closed) in its third round. This measures CPU, not that.
 */
const STORE_TIMEOUT_MS = 1000;
const INSTANCES = [1, 2] as const;
/**
 * Bearer, DPoP, and DPoP with the replay records in process (no Redis: what Redis costs), each
 * with the open route of its servers; and the floor (bench/servers/floor.ts: the least checks a
 * DPoP request needs, hand-written in the same Nest app shape) with its records in Redis and in
 * process. All but the first two pairs with one instance only.
 */
type Scenario =
  | 'open-bearer'
  | 'bearer'
  | 'open-dpop'
  | 'dpop'
  | 'open-local'
  | 'dpop-local'
  | 'open-floor'
  | 'floor'
  | 'floor-local';
/**
 * The scenarios by the servers they run on, each group measured back to back: a server left idle
 * for a few seconds (while others are measured, or while the runner mints a round's tokens) can
 * have all its optimised code dropped by a garbage collection ("weak objects" in `--log-deopt`), and
 * its next seconds of load then cost two to three times as much (bench/RESULTS.md). Each group is
 * preceded by an unmeasured warm-up on its servers, and its own slices follow one another.
 */
const GROUPS: Scenario[][] = [
  ['open-bearer', 'bearer'],
  ['open-dpop', 'dpop'],
];
const groupsFor = (instances: number): Scenario[][] =>
  instances === 1
    ? [...GROUPS, ['open-local', 'dpop-local'], ['open-floor', 'floor', 'floor-local']]
    : GROUPS;
const scenariosFor = (instances: number): Scenario[] => groupsFor(instances).flat();
/** Requests of a group's warm-up, sent as fast as they are answered (about a second of DPoP). */
const WARM_REQUESTS = 2500;
const openRouteOf = (scenario: Scenario): Scenario =>
  scenario.endsWith('bearer')
    ? 'open-bearer'
    : scenario.startsWith('floor') || scenario === 'open-floor'
      ? 'open-floor'
      : scenario.endsWith('local')
        ? 'open-local'
        : 'open-dpop';

/** Preloaded into every server: requests per event-loop turn (see bench/servers/load-probe.ts). */
const LOAD_PROBE = join(__dirname, 'servers', 'load-probe.js');
/**
 * BENCH_DPOP_REDIS_CPU: the CPU redis-server is pinned to, 1 (beside the load generator) by
 * default; 0 puts it beside the servers instead, so that it takes no time from the load generator.
 */
const REDIS_CPU = process.env.BENCH_DPOP_REDIS_CPU ?? '1';
/**
 * BENCH_DPOP_NODE_ARGS: node flags for every server of this section, space-separated, for example
 * `--log-deopt --logfile=/tmp/v8-%p.log` to see whether one server's code was deoptimised; each
 * server's pid is then printed with its role.
 */
const NODE_ARGS = process.env.BENCH_DPOP_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
/** BENCH_DPOP_SLICES=1: every slice's CPU per request and rate printed as it is measured. */
const PRINT_SLICES = process.env.BENCH_DPOP_SLICES === '1';

/** A pinned bench server. */
interface Server {
  child: ChildProcess;
  url: string;
}

/** Request headers handed out once each (a new token, and a new proof, per request). */
class HeaderPool {
  private items: Array<Record<string, string>> = [];
  private cursor = 0;
  /** Headers minted during a slice because the pool ran dry (the load generator slowed). */
  mintedLate = 0;
  private serial = 0;

  constructor(private readonly mint: (i: number) => Record<string, string>) {}

  /** Replaces the pool with `size` fresh headers (tokens and proofs with `iat` now). */
  refill(size: number): void {
    this.items = Array.from({ length: size }, () => this.mint(this.serial++));
    this.cursor = 0;
  }

  next(): Record<string, string> {
    if (this.cursor < this.items.length) return this.items[this.cursor++];
    this.mintedLate++;
    return this.mint(this.serial++);
  }
}

interface SliceResult {
  answers: number;
  /** 2xx answers a second, from the slice's start to its last answer. */
  rate: number;
  cpuMicrosPerRequest: number;
  p50: number;
  p99: number;
  /** Redis reads and commands during the slice, the probe's own excluded. */
  reads: number;
  commands: number;
  /** Requests per event-loop turn of the servers over the slice: mean. */
  perTurn: number;
}

/** Per (instances, level, scenario): one figure per round. */
interface Series {
  cpu: number[];
  above: number[];
  p50: number[];
  p99: number[];
  readsPerRequest: number[];
  commandsPerRead: number[];
  rate: number[];
  perTurn: number[];
}
const emptySeries = (): Series => ({
  cpu: [],
  above: [],
  p50: [],
  p99: [],
  readsPerRequest: [],
  commandsPerRead: [],
  rate: [],
  perTurn: [],
});

/** Redis's counters of socket reads (round trips) and commands processed. */
async function redisCounters(redis: RedisServer): Promise<{ reads: number; commands: number }> {
  const stats = await redis.info('stats');
  const field = (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(stats)![1]);
  return { reads: field('total_reads_processed'), commands: field('total_commands_processed') };
}

/**
 * One slice: `path` on every server at once for `sliceMs`, at `rate` requests a second in all
 * (split evenly; none: as fast as answered), with `headers()` on each request. Throws on any
 * answer that is not 2xx.
 */
async function slice(
  servers: Server[],
  path: string,
  rate: number | undefined,
  options: DpopScaleOptions,
  redis: RedisServer,
  probe: { reads: number; commands: number },
  headers?: () => Record<string, string>,
): Promise<SliceResult> {
  const pids = servers.map((server) => server.child.pid!);
  // Emptied before the slice: the histograms count the slice's turns only.
  await Promise.all(servers.map((server) => ask(server.child, 'batches', 'batches')));
  const redisBefore = await redisCounters(redis);
  const cpuBefore = pids.reduce((sum, pid) => sum + cpuNanos(pid), 0);
  // Each server its share of the connections and of the rate; any answer not 2xx fails the run.
  const connections = Math.max(1, Math.ceil(options.connections / servers.length));
  const results: LoadResult[] = await Promise.all(
    servers.map((server) =>
      rate === undefined
        ? load(`${server.url}${path}`, { connections, durationMs: options.sliceMs, headers })
        : offeredLoad(`${server.url}${path}`, {
            connections,
            durationMs: options.sliceMs,
            rate: rate / servers.length,
            headers,
          }),
    ),
  );
  const cpuNs = pids.reduce((sum, pid) => sum + cpuNanos(pid), 0) - cpuBefore;
  const redisAfter = await redisCounters(redis);
  const batches = await Promise.all(
    servers.map((server) =>
      ask<{ batches: Array<[number, number]> }>(server.child, 'batches', 'batches'),
    ),
  );
  const { requests: arrivals, turns } = turnTotals(batches.map((answer) => answer.batches));
  const answers = results.reduce((sum, result) => sum + result.answered, 0);
  if (answers === 0) throw new Error(`${path}: no answer in ${options.sliceMs} ms`);
  return {
    answers,
    rate: results.reduce((sum, result) => sum + result.rate, 0),
    cpuMicrosPerRequest: cpuNs / 1000 / answers,
    // Of the servers' latencies, the worst: one server's p99 is no better for its callers.
    p50: Math.max(...results.map((result) => result.p50)),
    p99: Math.max(...results.map((result) => result.p99)),
    reads: redisAfter.reads - redisBefore.reads - probe.reads,
    commands: redisAfter.commands - redisBefore.commands - probe.commands,
    perTurn: turns > 0 ? arrivals / turns : 0,
  };
}

/** Sends DPoP requests one at a time until one is accepted (at most 10 s). */
async function untilAccepted(server: Server, pool: HeaderPool): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const answer = await fetch(`${server.url}/private`, { headers: pool.next() });
    await answer.arrayBuffer();
    if (answer.ok) return;
    if (Date.now() > deadline) throw new Error(`DPoP server never ready: ${answer.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Measures DPoP at scale and returns the markdown lines of its section of bench/RESULTS.md: a
 * heading, the method, the table, and the target line.
 */
export async function measureDpopScale(options: DpopScaleOptions): Promise<string[]> {
  pinSelf(1);
  const ks = await KeyServer.start();
  const redis = await RedisServer.start();
  const children: ChildProcess[] = [];
  try {
    const redisPid = /process_id:(\d+)/.exec(await redis.info('server'))![1];
    if (canPin) spawnSync('taskset', ['-apc', REDIS_CPU, redisPid], { stdio: 'ignore' });
    // What two INFO probes with nothing between cost Redis itself (their reads and commands).
    const first = await redisCounters(redis);
    const second = await redisCounters(redis);
    const probe = { reads: second.reads - first.reads, commands: second.commands - first.commands };

    const start = async (
      role: string,
      env: Record<string, string>,
      script = 'ours.js',
    ): Promise<Server> => {
      const port = await freePort();
      const args = [...NODE_ARGS, '-r', LOAD_PROBE, join(__dirname, 'servers', script)];
      const child = await startChild(args, 0, {
        BENCH_ISSUER: ks.issuer,
        BENCH_AUDIENCE: ks.audience,
        BENCH_PORT: String(port),
        BENCH_REDIS_URL: redis.url,
        BENCH_STORE_TIMEOUT_MS: String(STORE_TIMEOUT_MS),
        // The replay store's warnings (a timeout, an error) reach stderr.
        BENCH_LOG: '1',
        ...env,
      });
      children.push(child);
      if (NODE_ARGS.length) console.log(`DPoP at scale: ${role} is pid ${child.pid}`);
      return { child, url: `http://127.0.0.1:${port}` };
    };
    const dpopEnv = { BENCH_DPOP: 'required', BENCH_PUBLIC_URL: PUBLIC_URL };
    const dpopServers = [await start('DPoP 1', dpopEnv), await start('DPoP 2', dpopEnv)];
    const bearerServers = [await start('bearer 1', {}), await start('bearer 2', {})];
    const localServers = [await start('DPoP in process', { ...dpopEnv, BENCH_REDIS_URL: '' })];
    const floorServers = [await start('floor', {}, 'floor.js')];
    const verifier = await startChild([join(__dirname, 'raw-verify.js')], 1);
    children.push(verifier);

    const client = new DpopKey('ES256');
    const dpopPool = new HeaderPool((i) => {
      const token = ks.token({ jti: `dpop-${i}`, cnf: { jkt: client.jkt } });
      return {
        authorization: `DPoP ${token}`,
        dpop: client.proof('GET', `${PUBLIC_URL}/private`, token),
      };
    });
    const bearerPool = new HeaderPool((i) => ({
      authorization: `Bearer ${ks.token({ jti: `bearer-${i}` })}`,
    }));
    const serversOf = (scenario: Scenario, instances: number): Server[] =>
      (scenario.endsWith('bearer')
        ? bearerServers
        : openRouteOf(scenario) === 'open-floor'
          ? floorServers
          : scenario.endsWith('local')
            ? localServers
            : dpopServers
      ).slice(0, instances);
    /** What `scenario` sends: its path, and each request's headers (none on an open route). */
    const requestsOf = (
      scenario: Scenario,
    ): { path: string; headers?: () => Record<string, string> } =>
      scenario === 'bearer'
        ? { path: '/private', headers: () => bearerPool.next() }
        : scenario === 'dpop' || scenario === 'dpop-local' || scenario === 'floor'
          ? { path: '/private', headers: () => dpopPool.next() }
          : scenario === 'floor-local'
            ? { path: '/private-local', headers: () => dpopPool.next() }
            : { path: '/public' };
    /** An unmeasured warm-up of `scenario`'s servers, with `scenario`'s requests. */
    const warm = async (scenario: Scenario, instances: number): Promise<void> => {
      const targets = serversOf(scenario, instances);
      const { path, headers } = requestsOf(scenario);
      const connections = Math.max(1, Math.ceil(options.connections / targets.length));
      const amount = Math.ceil(WARM_REQUESTS / targets.length);
      await Promise.all(
        targets.map((server) => load(`${server.url}${path}`, { connections, amount, headers })),
      );
    };
    const run = (
      servers: Server[],
      scenario: Scenario,
      rate: number | undefined,
    ): Promise<SliceResult> => {
      const { path, headers } = requestsOf(scenario);
      const targets = serversOf(scenario, servers.length);
      return slice(targets, path, rate, options, redis, probe, headers);
    };

    // Ready: each DPoP server has its Redis connection (@keyv/redis connects on first use, and
    // with the sample's disableOfflineQueue a command sent before that fails: a 503).
    for (const server of [...dpopServers, ...localServers]) await untilAccepted(server, dpopPool);
    // Warm-up: keys fetched, JIT warm (headers minted as they go).
    const warmPool = Math.round(options.connections * 20);
    dpopPool.refill(warmPool);
    bearerPool.refill(warmPool);
    for (const scenario of scenariosFor(1)) await run(dpopServers, scenario, undefined);
    // The open route's saturated throughput (one instance): what the load levels are shares of.
    const saturated: number[] = [];
    for (let i = 0; i < 2; i++) {
      saturated.push((await run(dpopServers.slice(0, 1), 'open-dpop', undefined)).rate);
    }
    const openRate = Math.max(...saturated);
    dpopPool.mintedLate = 0;
    bearerPool.mintedLate = 0;
    // A slice lasts up to one sampling tick (100 ms) longer than asked.
    const seconds = (options.sliceMs + 100) / 1000;
    // Requests a slice may send at `level`: autocannon's quota is per connection and per second
    // from the connection's start, each second's quota sent as soon as it can be.
    const budget = (level: number) =>
      level < 1
        ? Math.ceil(level * openRate * Math.ceil(seconds)) + options.connections
        : Math.ceil(openRate * seconds * 1.25) + options.connections;
    // Per round: DPoP with one and two instances, and in process; bearer with one and two.
    const levels = options.levels ?? LEVELS;
    const perConfiguration = levels.reduce((sum, level) => sum + budget(level), 0);

    const results = new Map<string, Series>();
    const series = (instances: number, level: number, scenario: Scenario) => {
      const key = `${instances} ${level} ${scenario}`;
      if (!results.has(key)) results.set(key, emptySeries());
      return results.get(key)!;
    };
    const rawEs: number[] = [];
    const rawRs: number[] = [];
    const instanceCounts = options.instances ?? INSTANCES;
    const cells = instanceCounts.flatMap((instances) =>
      levels.map((level) => ({ instances, level })),
    );
    for (let round = 0; round < options.rounds; round++) {
      // Fresh tokens and proofs, `iat` now: well inside the 300 s window for the round. Per level,
      // DPoP headers for five slices and four warm-ups, bearer tokens for two of each.
      dpopPool.refill(5 * perConfiguration + 4 * WARM_REQUESTS * levels.length);
      bearerPool.refill(2 * perConfiguration + 2 * WARM_REQUESTS * levels.length);
      await new Promise((resolve) => setTimeout(resolve, 200));
      // The raw checks, in the idle verify process (CPU 1) while nothing else runs.
      const sampleProofs = Array.from({ length: 500 }, () =>
        client.proof('GET', `${PUBLIC_URL}/private`, undefined),
      );
      const sampleTokens = Array.from({ length: 500 }, (_, i) => ks.token({ jti: `raw-${i}` }));
      rawEs.push(
        (
          await ask<{ rawVerifyMicros: number }>(verifier, {
            jwk: client.publicJwk as JsonWebKey,
            tokens: sampleProofs,
          })
        ).rawVerifyMicros,
      );
      rawRs.push(
        (
          await ask<{ rawVerifyMicros: number }>(verifier, {
            jwk: ks.key.publicJwk as JsonWebKey,
            tokens: sampleTokens,
          })
        ).rawVerifyMicros,
      );
      console.log(
        `DPoP at scale: round ${round + 1}/${options.rounds} (open route ${Math.round(openRate)} req/s saturated; ` +
          `raw ES256 ${rawEs.at(-1)!.toFixed(1)} µs, RS256 ${rawRs.at(-1)!.toFixed(1)} µs)`,
      );
      for (let c = 0; c < cells.length; c++) {
        const k = (c + round) % cells.length;
        const { instances, level } = cells[k];
        const rate = level < 1 ? level * openRate : undefined;
        const servers = dpopServers.slice(0, instances);
        const measured = new Map<Scenario, SliceResult>();
        const scenarios = scenariosFor(instances);
        // Groups, and the slices within each, in an order that turns with the round (for every
        // cell: the cell's own index is fixed).
        const groups = groupsFor(instances);
        const order = groups
          .map((_, g) => groups[(g + round + k) % groups.length])
          .flatMap((group) => group.map((_, i) => group[(i + round) % group.length]));
        for (let s = 0; s < order.length; s++) {
          const scenario = order[s];
          const group = groups.find((candidate) => candidate.includes(scenario))!;
          if (s === 0 || !group.includes(order[s - 1])) await warm(group[1], instances);
          const result = await run(servers, scenario, rate);
          measured.set(scenario, result);
          if (PRINT_SLICES) {
            console.log(
              `DPoP at scale: round ${round + 1}, ${instances} instance(s), ${level * 100} %, ${scenario}: ` +
                `${result.cpuMicrosPerRequest.toFixed(1)} µs a request, ${Math.round(result.rate)} req/s`,
            );
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        for (const scenario of scenarios) {
          const result = measured.get(scenario)!;
          const open = measured.get(openRouteOf(scenario))!;
          const figures = series(instances, level, scenario);
          figures.cpu.push(result.cpuMicrosPerRequest);
          figures.above.push(result.cpuMicrosPerRequest - open.cpuMicrosPerRequest);
          figures.p50.push(result.p50);
          figures.p99.push(result.p99);
          figures.rate.push(result.rate);
          figures.perTurn.push(result.perTurn);
          figures.readsPerRequest.push(result.reads / result.answers);
          figures.commandsPerRead.push(result.reads > 0 ? result.commands / result.reads : 0);
        }
      }
    }
    verifier.send('exit');

    const lateMinted = dpopPool.mintedLate + bearerPool.mintedLate;
    const rows: string[] = [];
    for (const instances of instanceCounts) {
      for (const level of levels) {
        const bearer = series(instances, level, 'bearer');
        const dpop = series(instances, level, 'dpop');
        const difference = dpop.above.map((above, i) => above - bearer.above[i]);
        rows.push(
          `| ${instances} | ${level < 1 ? `${level * 100} % (${Math.round(level * openRate)}/s)` : '100 % (no limit)'} | ` +
            `${fmt(bearer.above, 1)} | ${fmt(dpop.above, 1)} | ${fmt(difference, 1)} | ` +
            `${fmt(series(instances, level, 'dpop-local').above, 1)} | ` +
            `${instances === 1 ? `${fmt(series(1, level, 'floor').above, 1)} | ${fmt(series(1, level, 'floor-local').above, 1)}` : '— | —'} | ` +
            `${fmt(dpop.readsPerRequest, 3)} | ${fmt(dpop.commandsPerRead, 2)} | ` +
            `${fmt(bearer.p50, 2)} / ${fmt(bearer.p99, 2)} | ${fmt(dpop.p50, 2)} / ${fmt(dpop.p99, 2)} | ` +
            `${fmt(series(instances, level, 'open-dpop').cpu, 0)} | ${fmt(dpop.rate, 0)} | ` +
            `${fmt(bearer.perTurn, 1)} / ${fmt(dpop.perTurn, 1)} / ${instances === 1 ? `${fmt(series(1, level, 'dpop-local').perTurn, 1)} / ${fmt(series(1, level, 'floor').perTurn, 1)}` : '— / —'} |`,
        );
      }
    }
    const limit = median(rawEs) + median(rawRs) + 20;
    const target = (instances: number) => {
      const above = median(series(instances, 1, 'dpop').above);
      return (
        `- DPoP at saturation ≤ raw ES256 verify + raw RS256 verify + 20 µs above the open route ` +
        `(${instances === 1 ? 'one instance' : 'two instances'}): ${above.toFixed(1)} µs vs ` +
        `${limit.toFixed(1)} µs (${median(rawEs).toFixed(1)} + ${median(rawRs).toFixed(1)} + 20): ` +
        `${above <= limit ? '**met**' : '**not met**'}.`
      );
    };
    // The floor's figures at saturation: what the least work costs, beside the target.
    const floor = (scenario: Scenario) => median(series(1, 1, scenario).above);
    const floorLine = levels.includes(1)
      ? `- The floor at saturation (bench/servers/floor.ts, one instance): ` +
        `${floor('floor').toFixed(1)} µs above its open route with the \`jti\` in Redis, ` +
        `${floor('floor-local').toFixed(1)} µs in process; the target is ` +
        `${floor('floor') > limit ? '**out of reach with Redis even for the floor**' : 'within the floor’s reach with Redis'}, and ` +
        `${floor('floor-local') > limit ? '**out of reach in process even for the floor**' : 'within its reach in process'}.`
      : '';
    // Paired by round (one instance, saturated): the library against the floor in the same round,
    // and each against the target from that round's raw checks, so that a slow phase of the
    // machine, which moves every figure of a round together, cancels out.
    const pairedLines: string[] = [];
    if (levels.includes(1) && instanceCounts.includes(1)) {
      const at = (scenario: Scenario) => series(1, 1, scenario).above;
      const minus = (a: number[], b: number[]) => a.map((value, i) => value - b[i]);
      const limits = rawEs.map((es, i) => es + rawRs[i] + 20);
      const margin = (scenario: Scenario) => minus(limits, at(scenario));
      const met = (scenario: Scenario) => margin(scenario).filter((m) => m >= 0).length;
      pairedLines.push(
        `- Paired by round (one instance, saturated; ${options.rounds} rounds): DPoP − floor, both with the \`jti\` in Redis: ` +
          `${fmt(minus(at('dpop'), at('floor')), 1)} µs; in process: ${fmt(minus(at('dpop-local'), at('floor-local')), 1)} µs. ` +
          `The target minus the cost, with each round's own raw checks (≥ 0: met in that round): DPoP ` +
          `${fmt(margin('dpop'), 1)} µs (met in ${met('dpop')} rounds), floor ${fmt(margin('floor'), 1)} µs ` +
          `(${met('floor')} rounds); in process: DPoP ${fmt(margin('dpop-local'), 1)} µs (${met('dpop-local')} rounds), ` +
          `floor ${fmt(margin('floor-local'), 1)} µs (${met('floor-local')} rounds).`,
      );
    }
    return [
      '## DPoP at scale',
      '',
      `${options.rounds} rounds of ${options.sliceMs} ms slices, ${options.connections} connections ` +
        `(split between the servers with two instances). A DPoP request: a new RS256 token bound to ` +
        "the client's ES256 key (`cnf.jkt`) and a new proof (`htm` GET, `htu` the public URL, `iat` " +
        "now, a new `jti`) each time, to servers with `dpop: { mode: 'required' }`; a bearer request: " +
        'a new RS256 token each time, to servers of the same app without `dpop.mode` (DPoP required ' +
        'refuses bearer tokens). Every server is `bench/servers/ours.ts` with the replay records in ' +
        'one redis-server, wired as `sample/app.module.ts` does (cache-manager, Keyv, `@keyv/redis`), ' +
        'except one more DPoP server (one instance only) that keeps them in process: what Redis costs. ' +
        'The floor (one instance only): `bench/servers/floor.ts`, the same Nest app with a hand-written guard that makes the least checks ' +
        "(both signatures, `cnf.jkt`, `ath`, the `jti` recorded with `SET NX PX` through `@keyv/redis`'s client, or in process): " +
        'the least checks, made one request at a time: a target it meets is within reach in this app. ' +
        `\`cache.storeTimeoutMs\` is ${STORE_TIMEOUT_MS} ms (the default 150 ms had a run fail with 503s at saturation on two instances). ` +
        (canPin
          ? `Servers pinned to CPU 0, the load generator (autocannon, in the runner) to CPU 1, redis-server to CPU ${REDIS_CPU} (BENCH_DPOP_REDIS_CPU). `
          : '**Not pinned** (no taskset or one CPU). ') +
        "Server CPU per request: the sum of the server's threads' schedstat run time over the slice " +
        '(both servers with two instances, each sent half of the load), divided by the 2xx answers; ' +
        'above the open route: minus the open route of the same servers in the same round at the same offered rate. ' +
        `Offered rates: shares of the open route's saturated throughput (${Math.round(openRate)} req/s, one instance), ` +
        "set with autocannon's `overallRate` spread over 20 instances started 50 ms apart (one instance " +
        "sends each connection's quota for a second at the start of that second: a saturating burst). Redis reads (round trips, as Redis counts " +
        'its socket reads) and commands from `INFO stats` around each DPoP slice. Medians over rounds, ' +
        'quartiles in brackets; load levels, and the servers within each, in rotating order. Each ' +
        "server's slices run back to back, after an unmeasured warm-up of 2,500 requests: a server " +
        'left idle for seconds loses its optimised code, and its next second of load costs two to ' +
        'three times as much.' +
        (lateMinted > 0
          ? ` ${lateMinted} requests had their token minted during a slice (the pool ran dry).`
          : ''),
      '',
      '| instances | offered load | bearer µs above open | DPoP µs above open | DPoP − bearer, µs | DPoP, replay records in process (no Redis), µs above open | floor, Redis, µs above open | floor, in process, µs above open | Redis reads / DPoP request | commands / read | bearer p50 / p99, ms | DPoP p50 / p99, ms | open route CPU µs | DPoP req/s | requests per turn: bearer / DPoP / DPoP in process / floor, Redis |',
      '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
      `Raw checks in the idle verify process (CPU 1): ES256 ${fmt(rawEs, 1)} µs, RS256 ${fmt(rawRs, 1)} µs.`,
      '',
      ...instanceCounts.map(target),
      floorLine,
      ...pairedLines,
    ];
  } finally {
    for (const child of children) child.kill();
    await redis.stop();
    await ks.stop();
  }
}
