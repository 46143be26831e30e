/**
 * `node dist/bench/soak.js`: resident memory of this library's server under a soak of new tokens,
 * each used about ten times (a window of 1000 live tokens, each sent ten times, spread out), the
 * server pinned to CPU 0 and autocannon to CPU 1. Every second: RSS from /proc/<pid>/status and the
 * server's own process.memoryUsage(). Issue 12's soak: at 60% of the time the issuer rotates its
 * key under load (a second key published beside the first, and the tokens from then on signed with
 * it), at 80% its JWKS endpoint fails (500) until the end.
 *
 * Environment: BENCH_SOAK_SECONDS (300), BENCH_SOAK_TOKENS (distinct tokens, 60000),
 * BENCH_CONNECTIONS (32), BENCH_NO_CACHE (passed to the server).
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { generateKey, KeyServer } from '../test/support/key-server';
import { startPinnedServer } from './pinned';

const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 300);
const TOKENS = Number(process.env.BENCH_SOAK_TOKENS ?? 60_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const WINDOW = 1000;
const USES = 10;

const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

function ask<T>(child: ChildProcess, message: unknown): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', resolve as never);
    child.send(message as never);
  });
}

async function main() {
  spawnSync('taskset', ['-apc', '1', String(process.pid)], { stdio: 'ignore' });
  const ks = await KeyServer.start();
  const expiry = Math.floor(Date.now() / 1000) + 3600;
  console.log(`Minting ${TOKENS} RS256 tokens...`);
  // The first 60% of the tokens with the first key, the rest with the key published at rotation.
  const rotated = generateKey('RS256');
  const firstKey = Math.floor(TOKENS * 0.6);
  const minted = Array.from({ length: TOKENS }, (_, i) =>
    ks.token({ jti: `s-${i}`, exp: expiry }, {}, i < firstKey ? ks.key : rotated),
  );
  let used = 0;
  const port = 43198;
  const child = await startPinnedServer(ks, port);
  const pid = child.pid!;
  const samples: string[] = [];
  const sample = async (second: number) => {
    const usage = await ask<{ usage: NodeJS.MemoryUsage }>(child, 'usage');
    const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
    samples.push(
      `| ${second} | ${rssMiB(pid).toFixed(0)} | ${mib(usage.usage.heapTotal)} | ${mib(usage.usage.heapUsed)} | ` +
        `${mib(usage.usage.external)} | ${mib(usage.usage.arrayBuffers)} |`,
    );
  };
  await sample(0);
  let request = 0;
  let second = 0;
  const events: string[] = [];
  const timer = setInterval(() => {
    void sample(++second);
    if (second === Math.round(SECONDS * 0.6)) {
      ks.keys.push(rotated);
      events.push(
        `${second} s: key rotation (a second key published; tokens signed with it from now on)`,
      );
    }
    if (second === Math.round(SECONDS * 0.8)) {
      ks.mode = 'error500';
      events.push(`${second} s: JWKS and discovery answer 500 until the end`);
    }
  }, 1000);
  const token = () => {
    const k = request++;
    const base = Math.floor(k / (WINDOW * USES)) * WINDOW;
    // Before the rotation, tokens of the first key only; after it, of the second only.
    const span = ks.keys.length > 1 ? TOKENS - firstKey : firstKey;
    const offset = ks.keys.length > 1 ? firstKey : 0;
    const index = offset + ((base + (k % WINDOW)) % span);
    used = Math.max(used, index + 1);
    return minted[index];
  };
  const result = await autocannon({
    url: `http://127.0.0.1:${port}/private`,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        setupRequest: (req) => ({
          ...req,
          headers: { ...req.headers, authorization: `Bearer ${token()}` },
        }),
      },
    ],
  });
  clearInterval(timer);
  await sample(++second);
  child.send('exit');
  await ks.stop();
  const lines = [
    `Soak: ${SECONDS} s, ${result.requests.total} requests (${result['2xx']} 2xx, ${result.non2xx} other, ${result.errors} errors), ` +
      `tokens sent ${USES} times each (window of ${WINDOW}), ${TOKENS} minted (highest used: ${used})` +
      (request > TOKENS * USES ? ', the token lists wrapped around' : '') +
      `${process.env.BENCH_NO_CACHE ? ', verified-token cache off' : ''}.`,
    '',
    ...events.map((event) => `- ${event}`),
    '',
    '| s | RSS MiB | V8 heap total | heap used | external | array buffers |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    ...samples.filter((_, i) => i % 5 === 0 || i === samples.length - 1),
  ];
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
