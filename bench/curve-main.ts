/**
 * `npm run bench:curve`: the load curve and the second harness alone (bench/load-curve.ts),
 * printed. BENCH_ROUNDS (3), BENCH_SLICE_MS (1500), BENCH_CONNECTIONS (32), BENCH_CURVE_APPS
 * (comma-separated indexes of CURVE_APPS; all by default), BENCH_CURVE_LEVELS (e.g. 10,100),
 * BENCH_CURVE_SCENARIOS (comma-separated, e.g. open+token,repeated; the open route always runs),
 * BENCH_SECOND_HARNESS (0 skips it), BENCH_CURVE_COMPARE (another build's dist/: see below).
 */
import { join, relative } from 'node:path';
import { KeyServer } from '../test/support/key-server';
import { ask, pinSelf, startChild } from './harness';
import {
  CURVE_APPS,
  LEVELS,
  measureLoadCurve,
  type Level,
  measureSecondHarness,
} from './load-curve';

async function main() {
  pinSelf(1);
  const ks = await KeyServer.start();
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const sliceMs = Number(process.env.BENCH_SLICE_MS ?? 1500);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
  const apps =
    process.env.BENCH_CURVE_APPS === 'none'
      ? []
      : process.env.BENCH_CURVE_APPS
        ? process.env.BENCH_CURVE_APPS.split(',').map((n) => CURVE_APPS[Number(n)])
        : [...CURVE_APPS];
  const only = process.env.BENCH_CURVE_SCENARIOS?.split(',');
  if (only) {
    for (const [i, app] of apps.entries()) {
      const scenarios = app.scenarios.filter((s) => s === 'open' || only.includes(s));
      apps[i] = { ...app, scenarios };
    }
  }
  // BENCH_CURVE_COMPARE: another build's dist/ folder. Each chosen app of this library runs a second
  // time from that build, in the same interleaved rounds (an A/B of a library change).
  const compare = process.env.BENCH_CURVE_COMPARE;
  if (compare) {
    for (const app of apps.filter((a) => a.ours)) {
      apps.push({
        ...app,
        name: `${app.name}, ${compare}`,
        script: relative(__dirname, join(compare, 'bench', app.script)),
      });
    }
  }
  const verifier = await startChild([join(__dirname, 'raw-verify.js')], 1);
  const rawTokens = Array.from({ length: 500 }, (_, i) => ks.token({ jti: `raw-${i}` }));
  const rawVerify = async () =>
    (
      await ask<{ rawVerifyMicros: number }>(verifier, {
        jwk: ks.key.publicJwk,
        tokens: rawTokens,
      })
    ).rawVerifyMicros;
  const lines: string[] = [];
  if (process.env.BENCH_SECOND_HARNESS !== '0') {
    lines.push(
      ...(await measureSecondHarness({
        ks,
        rounds: 5,
        sliceMs: 3000,
        connections,
        rawVerify,
      })),
      '',
    );
  }
  if (apps.length > 0) {
    const curve = await measureLoadCurve({
      ks,
      rounds,
      sliceMs,
      connections,
      apps,
      rawVerify,
      levels: process.env.BENCH_CURVE_LEVELS
        ? (process.env.BENCH_CURVE_LEVELS.split(',').map(Number) as Level[])
        : [...LEVELS],
    });
    lines.push(...curve.lines);
  }
  verifier.kill();
  await ks.stop();
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
