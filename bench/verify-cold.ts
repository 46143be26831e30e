/**
 * `node dist/bench/verify-cold.js`: why a raw RS256 verify costs more inside a loaded server than
 * in a tight loop. In one process pinned to CPU 1, µs per `crypto.verify` with a parsed key (wall
 * time of the verify call alone, medians of 2000):
 * - in a tight loop (how the limit is measured);
 * - each verify after the caches are evicted (a walk over 1, 8 or 64 MiB), as after a request's HTTP work;
 * - each verify after about 200 µs of JS work that allocates (JSON, strings, objects);
 * - in a tight loop while CPU 0 spins (both cores busy, as under load).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';

spawnSync('taskset', ['-apc', '1', String(process.pid)], { stdio: 'ignore' });
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const key = createPublicKey({ key: publicKey.export({ format: 'jwk' }), format: 'jwk' });
const inputs = Array.from({ length: 500 }, (_, i) => {
  const data = Buffer.from(`header.payload-${i}-${'x'.repeat(600)}`);
  return [data, sign('sha256', data, privateKey)] as const;
});
const polluter = new Uint8Array(64 * 2 ** 20);
let sink = 0;
const evict = (mib: number) => () => {
  for (let i = 0; i < mib * 2 ** 20; i += 64) sink += polluter[i]++;
};
const jsWork = () => {
  const started = process.hrtime.bigint();
  while (process.hrtime.bigint() - started < 200_000n) {
    const object = { a: 'x'.repeat(50), b: [1, 2, 3], c: { d: sink } };
    sink += JSON.parse(JSON.stringify(object)).b.length;
  }
};
function measure(before?: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < 2000; i++) {
    before?.();
    const [data, signature] = inputs[i % inputs.length];
    const started = process.hrtime.bigint();
    if (!verify('sha256', data, key, signature)) throw new Error('verify failed');
    times.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  return times.sort((a, b) => a - b)[times.length >> 1];
}

async function main() {
  measure();
  const rows: Array<[string, number]> = [];
  for (let pass = 0; pass < 3; pass++) {
    rows.push(['tight loop', measure()]);
    rows.push(['after a 1 MiB walk (L1, L2 evicted)', measure(evict(1))]);
    rows.push(['after an 8 MiB walk', measure(evict(8))]);
    rows.push(['after a 64 MiB walk (L3 evicted too)', measure(evict(64))]);
    rows.push(['after ~200 µs of allocating JS work', measure(jsWork)]);
    const spinner = spawn('taskset', ['-c', '0', process.execPath, '-e', 'for(;;){}']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    rows.push(['tight loop, CPU 0 busy', measure()]);
    rows.push(['after ~200 µs of allocating JS work, CPU 0 busy', measure(jsWork)]);
    spinner.kill();
    await new Promise((resolve) => spinner.once('exit', resolve));
  }
  const names = [...new Set(rows.map(([name]) => name))];
  for (const name of names) {
    const values = rows.filter(([n]) => n === name).map(([, us]) => us.toFixed(1));
    console.log(`| ${name} | ${values.join(', ')} |`);
  }
  if (sink === -1) console.log(sink);
}

void main();
