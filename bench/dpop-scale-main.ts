/**
 * `npm run bench:dpop`: the DPoP-at-scale section alone, printed. Environment: BENCH_ROUNDS (3),
 * BENCH_SLICE_MS (2000), BENCH_CONNECTIONS (32), BENCH_DPOP_LEVELS (0.1,0.5,0.9,1),
 * BENCH_DPOP_INSTANCES (1,2), BENCH_DPOP_SLICES (1: every slice printed), BENCH_DPOP_NODE_ARGS
 * (node flags for the servers); BENCH_ROUNDS=1 BENCH_SLICE_MS=1000 is a smoke (offered loads run
 * whole seconds).
 */
import { measureDpopScale } from './dpop-scale';

measureDpopScale({
  rounds: Number(process.env.BENCH_ROUNDS ?? 3),
  sliceMs: Number(process.env.BENCH_SLICE_MS ?? 2000),
  connections: Number(process.env.BENCH_CONNECTIONS ?? 32),
  levels: process.env.BENCH_DPOP_LEVELS?.split(',').map(Number),
  instances: process.env.BENCH_DPOP_INSTANCES?.split(',').map(Number),
}).then(
  (lines) => console.log(lines.join('\n')),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
