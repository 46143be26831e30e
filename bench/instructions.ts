/**
 * `npm run bench:instructions`: instructions per request in this library's server, counted by
 * valgrind's callgrind, which counts the same for the same work whatever else the machine does.
 *
 * The server (bench/servers/ours.js, default options) runs under callgrind pinned to CPU 0, with
 * --single-threaded (V8's compiler and GC helper threads would add work to whichever batch they
 * land in), uninstrumented through a warm-up of every kind (so that V8's compilers and inline
 * caches settle), then instrumented. Each round sends one batch of BATCH requests of each kind, one
 * at a time on one keep-alive connection: the open route, one repeated token, a new token on every
 * request, and a raw RS256 `crypto.verify` per token in the same server (its tokens parsed
 * beforehand). The counters are zeroed before each batch (`callgrind_control -z`) and dumped after
 * it (`--dump`). Rounds interleave the kinds; medians and quartiles over rounds.
 *
 * No full collection is forced between batches by default (BENCH_FORCE_GC=1 does): measured, a
 * forced collection before each batch made V8 drop optimized code and compile it again in every
 * batch (300 k instructions per request of compiler work on the open route). Collections then
 * land where the allocations are, and the batches are long enough to hold several.
 *
 * Environment: BENCH_ROUNDS (7), BENCH_BATCH (400 requests), BENCH_WARMUP (3000 requests of each
 * kind, run uninstrumented), BENCH_OUT (markdown file to write),
 * BENCH_CALLGRIND_DIR (keep the dumps there, one per batch, named by kind).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyServer } from '../test/support/key-server';
import { GROUPS, groupInstructions, type Group } from './callgrind-groups';
import { startPinnedServer } from './pinned';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const BATCH = Number(process.env.BENCH_BATCH ?? 400);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3000);
const KINDS = ['open', 'repeated', 'new', 'raw verify'] as const;
type Kind = (typeof KINDS)[number];

function ask(child: ChildProcess, message: unknown, answer: string): Promise<void> {
  return new Promise((resolve) => {
    const listener = (reply: unknown) => {
      if (reply !== answer) return;
      child.off('message', listener);
      resolve();
    };
    child.on('message', listener);
    child.send(message as never);
  });
}

/**
 * Runs `callgrind_control <args> <pid>`. Callgrind reads its commands only while the program
 * runs, so the server is pinged (IPC) until the command is done; a ping costs a few thousand
 * instructions against the millions of a batch.
 */
async function control(child: ChildProcess, args: string[]): Promise<void> {
  const command = spawn('callgrind_control', [...args, String(child.pid)], { stdio: 'ignore' });
  const ping = setInterval(() => child.send('ping'), 20);
  await new Promise((resolve) => command.once('exit', resolve));
  clearInterval(ping);
}

async function main() {
  if (spawnSync('valgrind', ['--version']).status !== 0) throw new Error('valgrind is missing');
  spawnSync('taskset', ['-apc', '1', String(process.pid)], { stdio: 'ignore' });
  const ks = await KeyServer.start();
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const fresh = Array.from({ length: WARMUP + ROUNDS * BATCH }, (_, i) =>
    ks.token({ jti: `i-${i}`, exp }),
  );
  const repeated = ks.token({ jti: 'repeated', exp });
  const rawTokens = Array.from({ length: BATCH }, (_, i) => ks.token({ jti: `raw-${i}`, exp }));
  // BENCH_CALLGRIND_DIR keeps the dumps (for callgrind_annotate); a temporary folder otherwise.
  const keep = process.env.BENCH_CALLGRIND_DIR;
  if (keep) mkdirSync(keep, { recursive: true });
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'callgrind-'));
  const port = Number(process.env.BENCH_PORT ?? 43199);
  const child = await startPinnedServer(ks, port, {
    wrapper: [
      'valgrind',
      '--tool=callgrind',
      // Uninstrumented (several times faster) until the warm-up is done.
      '--instr-atstart=no',
      `--callgrind-out-file=${join(dir, 'cg.out')}`,
      '--dump-line=no',
      '--compress-strings=no',
    ],
    nodeFlags: ['--expose-gc', '--single-threaded'],
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const send = (path: string, token?: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path,
          agent,
          headers: token ? { authorization: `Bearer ${token}` } : {},
        },
        (res) => {
          res.resume();
          res.once('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.once('error', reject);
      req.end();
    });
  let nextFresh = 0;
  const batchOf = async (kind: Kind, size: number) => {
    for (let i = 0; i < size; i++) {
      const status =
        kind === 'open'
          ? await send('/public')
          : await send('/private', kind === 'repeated' ? repeated : fresh[nextFresh++]);
      if (status !== 200) throw new Error(`${kind}: answer ${status}`);
    }
  };
  console.log(`Warming up (${WARMUP} requests of each kind, under valgrind, uninstrumented)...`);
  await batchOf('open', WARMUP);
  await batchOf('repeated', WARMUP);
  await batchOf('new', WARMUP);
  await ask(child, { rawLoad: { jwk: ks.key.publicJwk, tokens: rawTokens } }, 'loaded');
  await ask(child, 'rawRun', 'ran');
  await control(child, ['-i', 'on']);

  const groups: Record<Kind, Record<Group, number>[]> = {
    open: [],
    repeated: [],
    new: [],
    'raw verify': [],
  };
  const counts: Record<Kind, number[]> = { open: [], repeated: [], new: [], 'raw verify': [] };
  let dumps = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of KINDS) {
      if (process.env.BENCH_FORCE_GC) await ask(child, 'gc', 'collected');
      await control(child, ['-z']);
      if (kind === 'raw verify') await ask(child, 'rawRun', 'ran');
      else await batchOf(kind, BATCH);
      await control(child, [`--dump=${kind}`]);
      dumps++;
      const file = readdirSync(dir)
        .filter((name) => name.startsWith('cg.out.'))
        .sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()))
        .at(-1);
      const text = readFileSync(join(dir, file!), 'utf8');
      const total = Number(/^(?:summary|totals):\s+(\d+)/m.exec(text)![1]);
      counts[kind].push(total / BATCH);
      groups[kind].push(groupInstructions(text));
      console.log(
        `round ${round + 1}, ${kind}: ${(total / BATCH / 1000).toFixed(0)} k per request`,
      );
    }
  }
  child.send('exit');
  await new Promise((resolve) => child.once('exit', resolve));
  agent.destroy();
  await ks.stop();
  if (!keep) rmSync(dir, { recursive: true, force: true });

  const quantile = (values: number[], q: number) => {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (sorted.length - 1) * q;
    const low = Math.floor(at);
    return sorted[low] + (sorted[Math.ceil(at)] - sorted[low]) * (at - low);
  };
  const k = (value: number) => (value / 1000).toFixed(0);
  const describe = (values: number[]) =>
    `${k(quantile(values, 0.5))} (${k(quantile(values, 0.25))} to ${k(quantile(values, 0.75))})`;
  // Paired within rounds: the difference of each round's batches.
  const above = (kind: Kind) => counts[kind].map((value, i) => value - counts.open[i]);
  const raw = counts['raw verify'];
  const ratio = (kind: Kind) => above(kind).map((value, i) => value / raw[i]);
  const lines = [
    `Instructions per request (callgrind, thousands; ${ROUNDS} rounds of ${BATCH} requests per kind, ${dumps} batches; medians, quartiles in brackets):`,
    '',
    '| kind | per request | above the open route | above it, × a raw verify |',
    '| --- | ---: | ---: | ---: |',
    `| open route | ${describe(counts.open)} | | |`,
    `| one repeated token | ${describe(counts.repeated)} | ${describe(above('repeated'))} | ${quantile(ratio('repeated'), 0.5).toFixed(2)} |`,
    `| a new token every request | ${describe(counts.new)} | ${describe(above('new'))} | ${quantile(ratio('new'), 0.5).toFixed(2)} (${quantile(ratio('new'), 0.25).toFixed(2)} to ${quantile(ratio('new'), 0.75).toFixed(2)}) |`,
    `| raw RS256 verify, parsed key (same server) | ${describe(raw)} | | 1 |`,
  ];
  // Where the instructions above the open route go, group by group (medians of paired rounds).
  const groupMedian = (kind: Kind, group: Group) =>
    quantile(
      groups[kind].map((byGroup, i) =>
        kind === 'raw verify'
          ? byGroup[group] / BATCH
          : (byGroup[group] - groups.open[i][group]) / BATCH,
      ),
      0.5,
    );
  lines.push(
    '',
    "Where they go (thousands per request, each function's own instructions by group; medians of the rounds, the new and repeated columns paired with the open route of the same round):",
    '',
    '| group | open route | repeated, above open | new, above open | raw verify |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...GROUPS.map(
      (group) =>
        `| ${group} | ${k(
          quantile(
            groups.open.map((byGroup) => byGroup[group] / BATCH),
            0.5,
          ),
        )} | ` +
        `${k(groupMedian('repeated', group))} | ${k(groupMedian('new', group))} | ${k(groupMedian('raw verify', group))} |`,
    ),
  );
  console.log(lines.join('\n'));
  if (process.env.BENCH_OUT) writeFileSync(process.env.BENCH_OUT, `${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
