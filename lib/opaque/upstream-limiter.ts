import { IssuerUnavailableError } from '../errors/auth-error';

/**
 * Bounds the calls made to the identity provider on behalf of opaque tokens, so that a flood of
 * random tokens cannot exhaust the provider's rate limit for every real user of the API: at most
 * `maxConcurrent` at once and `maxPerSecond` started in any sliding second; beyond, 503 at once.
 * Hand-written (a ring of start times): the limiters on npm queue callers instead of refusing them.
 */
export class UpstreamLimiter {
  private active = 0;
  /** Start times of the last `maxPerSecond` calls, oldest at `next`. */
  private readonly starts: number[];
  private next = 0;

  constructor(
    private readonly maxConcurrent: number,
    maxPerSecond: number,
  ) {
    this.starts = new Array<number>(maxPerSecond).fill(-Infinity);
  }

  async run<T>(call: () => Promise<T>): Promise<T> {
    const now = Date.now();
    if (this.active >= this.maxConcurrent || now - this.starts[this.next] < 1000) {
      throw new IssuerUnavailableError(
        'Too many tokens are being checked with the identity provider right now; try again shortly.',
        1,
      );
    }
    this.starts[this.next] = now;
    this.next = (this.next + 1) % this.starts.length;
    this.active++;
    try {
      return await call();
    } finally {
      this.active--;
    }
  }
}
