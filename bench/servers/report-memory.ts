/** Each bench server reports its peak memory to the runner when asked (IPC). */
export function reportMemoryOnRequest(): void {
  process.on('message', (message) => {
    if (message === 'memory') {
      process.send?.({ maxRssBytes: process.resourceUsage().maxRSS * 1024 });
    }
    // A clean exit, so that --cpu-prof can write its profile.
    if (message === 'exit') process.exit(0);
  });
}

/** Issuer, audience and port from the runner. */
export function benchEnv(): { issuer: string; audience: string; port: number } {
  const { BENCH_ISSUER, BENCH_AUDIENCE, BENCH_PORT } = process.env;
  if (!BENCH_ISSUER || !BENCH_AUDIENCE || !BENCH_PORT) throw new Error('bench env missing');
  return { issuer: BENCH_ISSUER, audience: BENCH_AUDIENCE, port: Number(BENCH_PORT) };
}
