import timers = require('node:timers');
import { MAX_TURN_BATCH, turnBatch } from './turn-batch';

/** Resolves after the check phase of the loop turn in which it is called. */
const afterThisTurn = () => new Promise((resolve) => setImmediate(() => setImmediate(resolve)));

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

  it("is not held back by Jest's fake timers", async () => {
    jest.useFakeTimers();
    try {
      await expect(turnBatch()).resolves.toBeUndefined();
    } finally {
      jest.useRealTimers();
    }
  });

  it("goes on at once while node:timers' setImmediate is replaced (sinon's and vitest's fake timers)", async () => {
    // What @sinonjs/fake-timers' install() does: node:timers' own function replaced by one whose
    // callbacks run only when the fake clock is advanced (here: never).
    const real = timers.setImmediate;
    const held: Array<() => void> = [];
    (timers as { setImmediate: unknown }).setImmediate = (callback: () => void) => {
      held.push(callback);
    };
    try {
      await expect(turnBatch()).resolves.toBeUndefined();
      expect(held).toEqual([]);
    } finally {
      (timers as { setImmediate: unknown }).setImmediate = real;
    }
    // And batches as before once the fake is gone.
    const order: string[] = [];
    const next = turnBatch().then(() => order.push('batch'));
    order.push('synchronous');
    await next;
    expect(order).toEqual(['synchronous', 'batch']);
  });

  it('goes on at once after fake timers that were on when it loaded are gone', async () => {
    const real = timers.setImmediate;
    (timers as { setImmediate: unknown }).setImmediate = () => undefined;
    let loaded!: typeof import('./turn-batch');
    try {
      jest.isolateModules(() => {
        loaded = jest.requireActual('./turn-batch');
      });
    } finally {
      (timers as { setImmediate: unknown }).setImmediate = real;
    }
    const outcome = await Promise.race([
      loaded.turnBatch().then(() => 'resolved'),
      new Promise((resolve) => setTimeout(() => resolve('held back'), 500)),
    ]);
    expect(outcome).toBe('resolved');
  });
});
