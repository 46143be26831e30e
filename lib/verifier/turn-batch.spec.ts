import { FAKE_TIMERS as FAKES, settlesWithin } from '../../test/support/fake-timers';
import { MAX_TURN_BATCH, turnBatch } from './turn-batch';

/** Resolves after the check phase of the loop turn in which it is called. */
const afterThisTurn = () => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));

/** turn-batch loaded afresh: as a suite imports it after its setup file installed fake timers. */
function loadAfresh(): typeof import('./turn-batch') {
  let loaded!: typeof import('./turn-batch');
  jest.isolateModules(() => {
    loaded = jest.requireActual('./turn-batch');
  });
  return loaded;
}

describe('turnBatch', () => {
  it('lets the callers of one turn go on together, in the check phase, before later immediates', async () => {
    const order: string[] = [];
    setImmediate(() => order.push('immediate queued before'));
    const first = turnBatch().then(() => order.push('first'));
    // Queued after the batch's own immediate: runs after the whole batch, not between its callers.
    setImmediate(() => order.push('immediate queued between'));
    const second = turnBatch().then(() => order.push('second'));
    order.push('synchronous');
    await Promise.all([first, second]);
    await afterThisTurn();
    expect(order).toEqual([
      'synchronous',
      'immediate queued before',
      'first',
      'second',
      'immediate queued between',
    ]);
  });

  it('starts a new batch in the next turn', async () => {
    await turnBatch();
    const order: string[] = [];
    const next = turnBatch().then(() => order.push('next batch'));
    order.push('synchronous');
    await next;
    expect(order).toEqual(['synchronous', 'next batch']);
  });

  it('lets callers past MAX_TURN_BATCH go on at once, so that the list stays bounded', async () => {
    const order: string[] = [];
    const batched = Array.from({ length: MAX_TURN_BATCH }, () => turnBatch());
    void Promise.all(batched).then(() => order.push('batch'));
    const overflow = turnBatch().then(() => order.push('overflow'));
    await Promise.resolve();
    await Promise.resolve();
    expect(order).toEqual(['overflow']);
    await overflow;
    await afterThisTurn();
    expect(order).toEqual(['overflow', 'batch']);
  });

  it.each(FAKES)(
    'is not held back by fake timers (%s) installed after it loaded',
    async (_, install) => {
      const uninstall = install();
      try {
        await expect(settlesWithin(turnBatch())).resolves.toBe('settled');
      } finally {
        uninstall();
      }
      await expectBatching(turnBatch);
    },
  );

  it.each(FAKES)(
    'is not held back by fake timers (%s) installed before it loaded',
    async (_, install) => {
      const uninstall = install();
      let loaded: typeof import('./turn-batch');
      try {
        loaded = loadAfresh();
        await expect(settlesWithin(loaded.turnBatch())).resolves.toBe('settled');
      } finally {
        uninstall();
      }
      // And batches once they are gone.
      await expectBatching(loaded.turnBatch);
    },
  );
});

/** `batch` resolves in the check phase, not at once: it batches. */
async function expectBatching(batch: () => Promise<void>): Promise<void> {
  const order: string[] = [];
  const next = batch().then(() => order.push('batch'));
  await Promise.resolve();
  order.push('microtasks done');
  await next;
  expect(order).toEqual(['microtasks done', 'batch']);
}
