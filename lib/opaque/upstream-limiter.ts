import { IssuerUnavailableError } from '../errors/auth-error';

/**
 * Bounds the calls made to the identity provider on behalf of opaque tokens, so that a flood of
 * random tokens cannot exhaust the provider's rate limit for every real user: at most
 * `maxConcurrent` at once and `maxPerSecond` started per second; beyond that, 503 at once.
 * Hand-written (a dozen lines): the queueing limiters on npm wait instead of refusing.
 */
export class UpstreamLimiter {
  private active = 0;
  private windowStart = 0;
  private startedInWindow = 0;

  constructor(
    private readonly maxConcurrent: number,
    private readonly maxPerSecond: number,
  ) {}

  async run<T>(call: () => Promise<T>): Promise<T> {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.startedInWindow = 0;
    }
    if (this.active >= this.maxConcurrent || this.startedInWindow >= this.maxPerSecond) {
      throw new IssuerUnavailableError(
        'Too many tokens are being checked with the identity provider right now; try again shortly.',
        1,
      );
    }
    this.active++;
    this.startedInWindow++;
    try {
      return await call();
    } finally {
      this.active--;
    }
  }
}
