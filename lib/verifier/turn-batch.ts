// Hand-written (~20 lines; no npm package batches per event-loop turn with a bound and fake-timer
// safety): a new token measured 31-58 µs above the open route batched, 116-126 µs unbatched.
import timers = require('node:timers');

/**
 * At most this many callers wait for one turn's batch; past it, a caller goes on at once (and its
 * checks run unbatched), so that the list stays bounded whatever the load.
 */
export const MAX_TURN_BATCH = 1024;

let waiting: Array<() => void> = [];

/**
 * Resolves in the event loop's check phase of this turn, together with every other caller of the
 * same turn: the requests whose sockets the poll phase read then run their checks back to back,
 * and the rest of their work after that, instead of one request's checks between two other
 * requests' HTTP work. Measured in the running server (bench/RESULTS.md): a new token's RSA check
 * costs about 22 µs with OpenSSL's code and data in the CPU's caches and three times that after a
 * request's HTTP work has evicted them; in a batch only the first finds them cold.
 */
export function turnBatch(): Promise<void> {
  // Read at each call, whatever was in place when this module loaded.
  const onCheckPhase = timers.setImmediate;
  if (waiting.length >= MAX_TURN_BATCH || isFake(onCheckPhase)) return Promise.resolve();
  return new Promise((resolve) => {
    if (waiting.length === 0) onCheckPhase(release);
    waiting.push(resolve);
  });
}

/**
 * Whether `setImmediate` is a test's fake, whose callbacks run only when a fake clock is advanced
 * (so a caller waiting for it could wait forever): @sinonjs/fake-timers, which sinon, Jest's modern
 * timers and vitest all use, marks each function it installs with its `clock`; Jest's mocks (its
 * legacy timers, `jest.spyOn`) carry `_isMockFunction`. A wrapper that still calls the real one
 * (an APM's) carries neither, and batches.
 */
function isFake(setImmediate: object): boolean {
  return 'clock' in setImmediate || '_isMockFunction' in setImmediate;
}

function release(): void {
  const batch = waiting;
  waiting = [];
  for (const resolve of batch) resolve();
}
