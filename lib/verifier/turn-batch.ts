import timers = require('node:timers');

/**
 * At most this many callers wait for one turn's batch; past it, a caller goes on at once (and its
 * checks run unbatched), so that the list stays bounded whatever the load.
 */
export const MAX_TURN_BATCH = 1024;

/**
 * `node:timers`' `setImmediate` as it was when this module loaded. Fake timers (sinon's, vitest's)
 * replace the module's function; while they do, callers go on at once rather than wait for a
 * check phase that a fake clock may never reach.
 */
const onCheckPhase = timers.setImmediate;

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
  if (waiting.length >= MAX_TURN_BATCH || timers.setImmediate !== onCheckPhase) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    if (waiting.length === 0) onCheckPhase(release);
    waiting.push(resolve);
  });
}

function release(): void {
  const batch = waiting;
  waiting = [];
  for (const resolve of batch) resolve();
}
