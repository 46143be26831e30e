import { createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { Session } from 'node:inspector';

/**
 * What each bench server answers the runner (IPC):
 * - 'memory': its peak RSS; 'usage': its process.memoryUsage();
 * - { rawVerify: { jwk, tokens } }: µs of its own CPU per raw RS256 `crypto.verify` with a parsed
 *   key, run in this process while it serves nothing (the same figure as the idle verify process,
 *   but with this server's heap and caches);
 * - 'profile-start' / 'profile-stop': a V8 CPU profile of the steady state only (between the two);
 * - 'gc': a full garbage collection (with --expose-gc), answered 'collected';
 * - { rawLoad: { jwk, tokens } } then 'rawRun': one raw RS256 verify per token, the tokens parsed
 *   on load so that the run does nothing else (for instruction counts), answered 'loaded' / 'ran';
 * - 'exit': a clean exit.
 */
export function reportMemoryOnRequest(): void {
  let session: Session | undefined;
  let rawBatch: { key: KeyObject; parts: Buffer[][] } | undefined;
  process.on('message', (message: unknown) => {
    if (message === 'memory') {
      process.send?.({ maxRssBytes: process.resourceUsage().maxRSS * 1024 });
    } else if (message === 'usage') {
      process.send?.({ usage: process.memoryUsage() });
    } else if (message === 'profile-start') {
      session ??= new Session();
      session.connect();
      session.post('Profiler.enable', () =>
        session!.post('Profiler.setSamplingInterval', { interval: 100 }, () =>
          session!.post('Profiler.start', () => process.send?.('profiling')),
        ),
      );
    } else if (message === 'profile-stop') {
      session?.post('Profiler.stop', (error, result) => {
        session?.disconnect();
        process.send?.({ profile: error ? null : result.profile });
      });
    } else if (message === 'gc') {
      (globalThis as { gc?: () => void }).gc?.();
      process.send?.('collected');
    } else if (typeof message === 'object' && message && 'rawLoad' in message) {
      const { jwk, tokens } = (message as { rawLoad: { jwk: JsonWebKey; tokens: string[] } })
        .rawLoad;
      rawBatch = { key: createPublicKey({ key: jwk, format: 'jwk' }), parts: tokens.map(split) };
      process.send?.('loaded');
    } else if (message === 'rawRun' && rawBatch) {
      for (const [data, signature] of rawBatch.parts) {
        if (!verify('sha256', data, rawBatch.key, signature)) throw new Error('raw verify failed');
      }
      process.send?.('ran');
    } else if (typeof message === 'object' && message && 'rawVerify' in message) {
      const { jwk, tokens } = (message as { rawVerify: { jwk: JsonWebKey; tokens: string[] } })
        .rawVerify;
      process.send?.({ rawVerifyMicros: rawVerifyMicros(jwk, tokens) });
    }
    // A clean exit, so that --cpu-prof can write its profile.
    if (message === 'exit') process.exit(0);
  });
}

/**
 * CPU µs of this process per raw RS256 `crypto.verify` with a key parsed once: the limit (ES256
 * for an EC key: a DPoP proof's check). Median of three passes over `tokens` (after one pass of
 * warm-up).
 */
export function rawVerifyMicros(jwk: JsonWebKey, tokens: string[]): number {
  const parsed = createPublicKey({ key: jwk, format: 'jwk' });
  // A JWS ECDSA signature is r || s (IEEE P1363), not DER.
  const key = jwk.kty === 'EC' ? { key: parsed, dsaEncoding: 'ieee-p1363' as const } : parsed;
  const parts = tokens.map(split);
  const passes: number[] = [];
  for (let pass = 0; pass < 4; pass++) {
    const before = process.cpuUsage();
    for (const [data, signature] of parts) {
      if (!verify('sha256', data, key, signature)) throw new Error('raw verify failed');
    }
    const used = process.cpuUsage(before);
    if (pass > 0) passes.push((used.user + used.system) / parts.length);
  }
  return passes.sort((a, b) => a - b)[1];
}

/** A JWT's signing input and signature. */
function split(token: string): Buffer[] {
  const dot = token.lastIndexOf('.');
  return [Buffer.from(token.slice(0, dot)), Buffer.from(token.slice(dot + 1), 'base64url')];
}

/** Issuer, audience and port from the runner. */
export function benchEnv(): { issuer: string; audience: string; port: number } {
  const { BENCH_ISSUER, BENCH_AUDIENCE, BENCH_PORT } = process.env;
  if (!BENCH_ISSUER || !BENCH_AUDIENCE || !BENCH_PORT) throw new Error('bench env missing');
  return { issuer: BENCH_ISSUER, audience: BENCH_AUDIENCE, port: Number(BENCH_PORT) };
}
