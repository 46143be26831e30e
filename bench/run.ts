/**
 * `npm run bench`: requests per second of this library and of its two peers, each against its own
 * open route, measured in one run on loopback with autocannon. Writes bench/RESULTS.md.
 *
 * Environment: BENCH_ROUNDS (3), BENCH_SECONDS (5), BENCH_NEW_TOKENS (requests per round with a new
 * token each, 10000), BENCH_CONNECTIONS (10), BENCH_OUT (bench/RESULTS.md).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { KeyServer } from '../test/support/key-server';
import { measureCacheMemory } from './cache-memory';
import { measureVerifyPaths } from './verify-paths';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const NEW_TOKENS = Number(process.env.BENCH_NEW_TOKENS ?? 10000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const OUT = process.env.BENCH_OUT ?? join(__dirname, '..', '..', 'bench', 'RESULTS.md');

type Scenario = 'public' | 'public-with-token' | 'repeated' | 'new' | 'opaque';
interface App {
  name: string;
  script: string;
  scenarios: Scenario[];
  env?: Record<string, string>;
}

const APPS: App[] = [
  {
    name: 'nest-oauth2-bearer',
    script: 'ours.js',
    scenarios: ['public', 'public-with-token', 'repeated', 'new', 'opaque'],
  },
  {
    name: 'nest-oauth2-bearer, verified-token cache off',
    script: 'ours.js',
    scenarios: ['public', 'repeated', 'new'],
    env: { BENCH_NO_CACHE: '1' },
  },
  {
    name: 'express-oauth2-jwt-bearer 1.10 (Express)',
    script: 'peer-express.js',
    scenarios: ['public', 'repeated', 'new'],
  },
  {
    name: 'passport-jwt + jwks-rsa (Auth0 Nest sample)',
    script: 'peer-passport.js',
    scenarios: ['public', 'repeated', 'new'],
  },
];

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

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

function load(url: string, options: { tokens?: () => string; amount?: number }): Promise<number> {
  return new Promise((resolve, reject) => {
    // Timed here, from the first request to the last answer: autocannon ends runs of a fixed
    // number of requests on its next one-second tick, which would count idle time.
    const started = performance.now();
    let lastAnswer = started;
    const instance = autocannon(
      {
        url,
        connections: CONNECTIONS,
        ...(options.amount ? { amount: options.amount } : { duration: SECONDS }),
        requests: [
          {
            setupRequest: (request) => {
              if (options.tokens) {
                request.headers = {
                  ...request.headers,
                  authorization: `Bearer ${options.tokens()}`,
                };
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
  const rounds = ROUNDS;
  console.log(`Minting ${NEW_TOKENS * rounds} RS256 tokens...`);
  const minted = Array.from({ length: NEW_TOKENS * rounds }, (_, i) => ks.token({ jti: `t-${i}` }));
  const repeated = ks.token({ jti: 'repeated' });
  const opaque = 'opaque-bench-token-0123456789abcdefghijklmnop';
  ks.profiles.set(opaque, { sub: 'auth0|bench', email: 'bench@example.com' });

  // Per-token costs in process, before the servers start: the limit and each path.
  const costs = await measureVerifyPaths(ks, minted.slice(0, 2000));

  const results = new Map<string, Map<Scenario, number[]>>();
  const memory = new Map<string, number>();
  const servers: Array<{ app: App; child: ChildProcess; url: string; cursor: number }> = [];
  let port = 43100;
  for (const app of APPS) {
    const child = await startServer(app, ks, ++port);
    servers.push({ app, child, url: `http://127.0.0.1:${port}`, cursor: 0 });
    results.set(app.name, new Map());
  }
  // Warm-up: keys fetched, JIT warm, caches filled where they would be.
  for (const server of servers) {
    await load(`${server.url}/public`, { amount: 2000 });
    await load(`${server.url}/private`, { amount: 2000, tokens: () => repeated });
  }
  for (let round = 0; round < rounds; round++) {
    for (const server of servers) {
      const byScenario = results.get(server.app.name)!;
      for (const scenario of server.app.scenarios) {
        console.log(`round ${round + 1}/${rounds}: ${server.app.name}: ${scenario}`);
        const offset = round * NEW_TOKENS;
        let next = 0;
        const rps =
          scenario === 'public'
            ? await load(`${server.url}/public`, {})
            : scenario === 'public-with-token'
              ? await load(`${server.url}/public`, {
                  amount: NEW_TOKENS,
                  tokens: () => minted[offset + next++],
                })
              : scenario === 'repeated'
                ? await load(`${server.url}/private`, { tokens: () => repeated })
                : scenario === 'opaque'
                  ? await load(`${server.url}/private`, { tokens: () => opaque })
                  : await load(`${server.url}/private`, {
                      amount: NEW_TOKENS,
                      tokens: () => minted[offset + next++],
                    });
        byScenario.set(scenario, [...(byScenario.get(scenario) ?? []), rps]);
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
  const lines: string[] = [
    '# Benchmark results',
    '',
    `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} × ${cpus()[0]?.model.trim()}, ` +
      `${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, loopback, autocannon with ${CONNECTIONS} connections. ` +
      `Each app runs in its own process with an open and a protected route; ${rounds} interleaved rounds, ` +
      `${SECONDS} s per timed measurement; "new token" rounds send ${NEW_TOKENS} requests, each with a token never seen before (RS256, 2048-bit). ` +
      "Figures are medians; ratios are to the same app's open route.",
    '',
    '| App | open route req/s | one repeated token | ratio | new token every request | ratio | opaque token (userinfo, cached) | ratio | peak RSS |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const app of APPS) {
    const byScenario = results.get(app.name)!;
    const base = median(byScenario.get('public')!);
    const cell = (scenario: Scenario) => {
      const values = byScenario.get(scenario);
      if (!values) return ['—', '—'];
      const m = median(values);
      return [Math.round(m).toString(), (m / base).toFixed(2)];
    };
    lines.push(
      `| ${app.name} | ${Math.round(base)} | ${cell('repeated').join(' | ')} | ${cell('new').join(' | ')} | ${cell('opaque').join(' | ')} | ${Math.round(memory.get(app.name)! / 2 ** 20)} MiB |`,
    );
  }
  const ours = results.get(APPS[0].name)!;
  const withHeader = median(ours.get('public-with-token')!);
  lines.push(
    '',
    `How much of a protected request is only carrying the token: ${APPS[0].name}'s open route, sent the ` +
      `same new-token headers but checking nothing, serves ${Math.round(withHeader)} req/s ` +
      `(${(withHeader / median(ours.get('public')!)).toFixed(2)} of the open route without a header).`,
  );
  lines.push(
    '',
    'Per-token verification cost in process (2000 distinct RS256 tokens, median of three passes):',
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
        ['this library, guard path `verifyToken` (all checks, cache off)', costs.directPath],
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
    `Verified-token cache memory: ${cacheMemory.entries.toLocaleString('en')} distinct entries offered to the cache with its default bounds ` +
      `grew the heap by ${cacheMemory.heapGrowthMiB.toFixed(1)} MiB (bound documented: 100 MiB); the cache kept ${cacheMemory.kept.toLocaleString('en')} entries.`,
    '',
    'Raw rounds (req/s):',
    '',
  );
  for (const app of APPS) {
    for (const [scenario, values] of results.get(app.name)!) {
      lines.push(`- ${app.name}, ${scenario}: ${values.map((v) => Math.round(v)).join(', ')}`);
    }
  }
  writeFileSync(OUT, `${lines.join('\n')}\n`);
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
