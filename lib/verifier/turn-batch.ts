import { setImmediate as onCheckPhase } from 'node:timers';

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
 *
 * `node:timers`' own `setImmediate`, not the global one, so that fake timers installed by a test
 * framework after this module loaded do not hold checks back.
 */
export function turnBatch(): Promise<void> {
  if (waiting.length >= MAX_TURN_BATCH) return Promise.resolve();
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
