/**
 * `npm run bench`: requests per second of this library and of its two peers, each against its own
 * open route, measured in one run on loopback with autocannon. Writes bench/RESULTS.md.
 *
 * This machine is noisy: two runs of the same open route a few seconds apart differ by up to 40%.
 * So every ratio is measured in pairs: a short slice of the open route and a short slice of the
 * protected route, back to back (in alternating order), and the reported ratio is the median of
 * the pairs' ratios. Slow drifts of the machine cancel within a pair; the median drops outliers.
 *
 * Environment: BENCH_PAIRS (pairs per measurement, 21), BENCH_SLICE (requests per slice, 1000),
 * BENCH_CONNECTIONS (10), BENCH_OUT (bench/RESULTS.md).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { KeyServer } from '../test/support/key-server';
import { measureCacheMemory } from './cache-memory';
import { measureVerifyPaths } from './verify-paths';

const PAIRS = Number(process.env.BENCH_PAIRS ?? 21);
const SLICE = Number(process.env.BENCH_SLICE ?? 1000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const OUT = process.env.BENCH_OUT ?? join(__dirname, '..', '..', 'bench', 'RESULTS.md');

/** What a slice sends: the open route, with or without new-token headers, or the protected route. */
type Scenario = 'public-with-token' | 'repeated' | 'new' | 'opaque';
interface App {
  name: string;
  script: string;
  scenarios: Scenario[];
  env?: Record<string, string>;
}

const OURS = 'nest-oauth2-bearer';
const APPS: App[] = [
  { name: OURS, script: 'ours.js', scenarios: ['repeated', 'new', 'opaque', 'public-with-token'] },
  {
    name: `${OURS}, signatureChecks: 'thread-pool'`,
    script: 'ours.js',
    scenarios: ['new'],
    env: { BENCH_THREAD_POOL: '1' },
  },
  {
    name: `${OURS}, verified-token cache off`,
    script: 'ours.js',
    scenarios: ['repeated', 'new'],
    env: { BENCH_NO_CACHE: '1' },
  },
  {
    name: 'express-oauth2-jwt-bearer 1.10 (Express)',
    script: 'peer-express.js',
    scenarios: ['repeated', 'new'],
  },
  {
    name: 'passport-jwt + jwks-rsa (Auth0 Nest sample)',
    script: 'peer-passport.js',
    scenarios: ['repeated', 'new'],
  },
];

/** One scenario of one app: the pairs' ratios and both sides' rates. */
interface Series {
  ratios: number[];
  open: number[];
  protected: number[];
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  return sorted[low] + (sorted[Math.ceil(at)] - sorted[low]) * (at - low);
};
const median = (values: number[]) => quantile(values, 0.5);

async function startServer(app: App, ks: KeyServer, port: number): Promise<ChildProcess> {
  const child = fork(join(__dirname, 'servers', app.script), {
    env: {
      ...process.env,
      ...app.env,
      BENCH_ISSUER: ks.issuer,
      BENCH_AUDIENCE: ks.audience,
      BENCH_PORT: String(port),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`${app.script} exited with ${code}`)));
  });
  return child;
}

/** Requests per second of `amount` requests, from the first request to the last answer. */
function load(url: string, amount: number, token?: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    // Timed here: autocannon ends runs of a fixed number of requests on its next one-second tick,
    // which would count idle time.
    const started = performance.now();
    let lastAnswer = started;
    const instance = autocannon(
      {
        url,
        connections: CONNECTIONS,
        amount,
        requests: [
          {
            setupRequest: (request) => {
              if (token) {
                request.headers = { ...request.headers, authorization: `Bearer ${token()}` };
              }
              return request;
            },
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        const ok = result['2xx'];
        if (ok < result.requests.total * 0.99) {
          return reject(
            new Error(`${url}: only ${ok} of ${result.requests.total} answers were 2xx`),
          );
        }
        resolve(ok / ((lastAnswer - started) / 1000));
      },
    );
    instance.on('response', () => {
      lastAnswer = performance.now();
    });
    instance.on('error', reject);
  });
}

async function main() {
  const ks = await KeyServer.start();
  // Each app gets every token once. Apps run in separate processes and share no cache, so the
  // same list serves all of them.
  const count = PAIRS * SLICE + SLICE;
  console.log(`Minting ${count} RS256 tokens...`);
  const expiry = Math.floor(Date.now() / 1000) + 3600;
  const minted = Array.from({ length: count }, (_, i) => ks.token({ jti: `t-${i}`, exp: expiry }));
  const repeated = ks.token({ jti: 'repeated', exp: expiry });
  const opaque = 'opaque-bench-token-0123456789abcdefghijklmnop';
  ks.profiles.set(opaque, { sub: 'auth0|bench', email: 'bench@example.com' });

  // Per-token costs in process, before the servers start: the limit and each path.
  const costs = await measureVerifyPaths(ks, minted.slice(0, 2000));

  const results = new Map<string, Map<Scenario, Series>>();
  const memory = new Map<string, number>();
  const servers: Array<{
    app: App;
    child: ChildProcess;
    url: string;
    cursor: number;
    headerCursor: number;
  }> = [];
  let port = 43100;
  for (const app of APPS) {
    const child = await startServer(app, ks, ++port);
    servers.push({ app, child, url: `http://127.0.0.1:${port}`, cursor: 0, headerCursor: 0 });
    results.set(app.name, new Map());
  }
  // Warm-up: keys fetched, JIT warm, caches filled where they would be. The first SLICE tokens
  // warm the new-token path; the pairs use the others.
  for (const server of servers) {
    await load(`${server.url}/public`, 2000);
    await load(`${server.url}/private`, 2000, () => repeated);
    await load(`${server.url}/private`, SLICE, () => minted[server.cursor++]);
  }
  const slice = (server: (typeof servers)[number], scenario: Scenario | 'public') => {
    const fresh = () => minted[server.cursor++];
    // Tokens sent to the open route are never verified, so they may come round again.
    const header = () => minted[server.headerCursor++ % minted.length];
    switch (scenario) {
      case 'public':
        return load(`${server.url}/public`, SLICE);
      case 'public-with-token':
        // The open route, sent the new-token headers: what carrying the token costs.
        return load(`${server.url}/public`, SLICE, header);
      case 'repeated':
        return load(`${server.url}/private`, SLICE, () => repeated);
      case 'opaque':
        return load(`${server.url}/private`, SLICE, () => opaque);
      case 'new':
        return load(`${server.url}/private`, SLICE, fresh);
    }
  };
  for (let pair = 0; pair < PAIRS; pair++) {
    console.log(`pair ${pair + 1}/${PAIRS}`);
    // Apps take turns, in an order that rotates, so that no app always follows the same one.
    const order = servers.map((_, i) => servers[(i + pair) % servers.length]);
    for (const server of order) {
      for (const scenario of server.app.scenarios) {
        const protectedFirst = pair % 2 === 1;
        const first = await slice(server, protectedFirst ? scenario : 'public');
        const second = await slice(server, protectedFirst ? 'public' : scenario);
        const [open, other] = protectedFirst ? [second, first] : [first, second];
        const byScenario = results.get(server.app.name)!;
        const series = byScenario.get(scenario) ?? { ratios: [], open: [], protected: [] };
        series.ratios.push(other / open);
        series.open.push(open);
        series.protected.push(other);
        byScenario.set(scenario, series);
      }
    }
  }
  for (const server of servers) {
    server.child.send('memory');
    const reply = await new Promise<{ maxRssBytes: number }>((resolve) =>
      server.child.once('message', resolve as never),
    );
    memory.set(server.app.name, reply.maxRssBytes);
    server.child.kill();
  }
  await ks.stop();

  const cacheMemory = measureCacheMemory(1_000_000);
  const ours = results.get(OURS)!;
  const ratio = (app: string, scenario: Scenario) =>
    median(results.get(app)!.get(scenario)!.ratios);
  const peers = APPS.slice(3).map((app) => app.name);
  const best = (scenario: Scenario) => Math.max(...peers.map((peer) => ratio(peer, scenario)));
  const target = (scenario: Scenario, goal: number, what: string) => {
    const got = ratio(OURS, scenario);
    const met = got >= goal && got > best(scenario);
    return `- ${what}: ${got.toFixed(2)} of the open route (target ${goal.toFixed(2)}; best peer ${best(scenario).toFixed(2)}): **${met ? 'met' : 'not met'}**.`;
  };
  const cell = (series: Series | undefined) =>
    series
      ? `${median(series.ratios).toFixed(2)} (${quantile(series.ratios, 0.25).toFixed(2)}–${quantile(series.ratios, 0.75).toFixed(2)})`
      : '—';
  const lines: string[] = [
    '# Benchmark results',
    '',
    `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} × ${cpus()[0]?.model.trim()}, ` +
      `${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, loopback, autocannon with ${CONNECTIONS} connections ` +
      '(the client shares the two cores with the server). Each app runs in its own process with an open and a protected route. ' +
      `Every ratio is the median of ${PAIRS} pairs of back-to-back slices of ${SLICE} requests (open route, then protected route, ` +
      'in alternating order, apps taking turns); in brackets the middle half of the pairs (quartiles). ' +
      '"New token" slices send a token never seen before by that app on every request (RS256, 2048-bit).',
    '',
    '## Targets',
    '',
    target('repeated', 0.95, 'One repeated token'),
    target('new', 0.8, 'A new token every request'),
    '',
    '## Protected route / open route',
    '',
    '| App | open route req/s | one repeated token | new token every request | opaque token (userinfo, cached) | peak RSS |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const app of APPS) {
    const byScenario = results.get(app.name)!;
    const open = median([...byScenario.values()].flatMap((series) => series.open));
    lines.push(
      `| ${app.name} | ${Math.round(open)} | ${cell(byScenario.get('repeated'))} | ${cell(byScenario.get('new'))} | ` +
        `${cell(byScenario.get('opaque'))} | ${Math.round(memory.get(app.name)! / 2 ** 20)} MiB |`,
    );
  }
  lines.push(
    '',
    `Carrying the token alone: ${OURS}'s open route, sent the same new-token headers but checking nothing, ` +
      `serves ${cell(ours.get('public-with-token'))} of its rate without them.`,
    '',
    '## Per-token cost in process',
    '',
    '2000 distinct RS256 tokens, median of three passes. "Event-loop time" is what a token costs the ' +
      'thread that serves requests: the thread-pool path runs the RSA arithmetic elsewhere (with 64 ' +
      "checks in flight), so its figure is the event loop's busy time per token.",
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
        [
          'this library, guard path, signatures on the event loop (all checks, cache off)',
          costs.directPath,
        ],
        [
          'this library, guard path, signatures in the thread pool: event-loop time (all checks, cache off)',
          costs.threadPoolEventLoop,
        ],
        [
          'this library, Passport path (passport-jwt + jsonwebtoken, all checks, cache off)',
          costs.passportPath,
        ],
        ['this library, a repeated token (verified-token cache)', costs.cachedToken],
      ] as const
    ).map(
      ([name, us]) => `| ${name} | ${us.toFixed(1)} | ${(us / costs.rawParsedKey).toFixed(2)} |`,
    ),
    '',
    '## Memory',
    '',
    `Verified-token cache: ${cacheMemory.entries.toLocaleString('en')} distinct entries offered to the cache with its default bounds ` +
      `grew the heap by ${cacheMemory.heapGrowthMiB.toFixed(1)} MiB (bound documented: 100 MiB); the cache kept ${cacheMemory.kept.toLocaleString('en')} entries.`,
    '',
    '## Raw pairs',
    '',
    'Ratio of each pair, in order (open route req/s → protected route req/s, medians):',
    '',
  );
  for (const app of APPS) {
    for (const [scenario, series] of results.get(app.name)!) {
      lines.push(
        `- ${app.name}, ${scenario} (${Math.round(median(series.open))} → ${Math.round(median(series.protected))}): ` +
          series.ratios.map((r) => r.toFixed(2)).join(', '),
      );
    }
  }
  writeFileSync(OUT, `${lines.join('\n')}\n`);
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
