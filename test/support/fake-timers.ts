import FakeTimers = require('@sinonjs/fake-timers');

/** Genuine: taken when this module loads, before any test fakes the timers. */
const realSetTimeout = setTimeout;

/**
 * `'settled'` (resolved or rejected), or `'held back'` when `promise` does not settle within `ms`
 * of real time.
 */
export function settlesWithin(promise: Promise<unknown>, ms = 500): Promise<unknown> {
  return Promise.race([
    promise.then(
      () => 'settled',
      () => 'settled',
    ),
    new Promise((resolve) => realSetTimeout(() => resolve('held back'), ms)),
  ]);
}

/**
 * The fake timers of the test runners users run, each built on @sinonjs/fake-timers: `[name,
 * install]`, where `install()` returns what puts the real timers back.
 */
export const FAKE_TIMERS: ReadonlyArray<readonly [string, () => () => void]> = [
  [
    // sinon.useFakeTimers() / FakeTimers.install(): the global functions and node:timers' own.
    'sinon',
    () => {
      const clock = FakeTimers.install();
      return () => clock.uninstall();
    },
  ],
  [
    // vi.useFakeTimers() as vitest's FakeTimers class makes it with its default config
    // (packages/vitest/src/integrations/mock/timers.ts): withGlobal(globalThis), every timer but
    // nextTick and queueMicrotask. Vitest's patched copy of fake-timers replaces node:timers'
    // functions too (through __vitest_required__: always in vitest 3, with
    // `fakeTimers.nodeBuiltins` in vitest 4), as the stock copy does here.
    'vitest',
    () => {
      const fakeTimers = FakeTimers.withGlobal(globalThis);
      const toFake = (Object.keys(fakeTimers.timers) as FakeTimers.FakeMethod[]).filter(
        (timer) => timer !== 'nextTick' && timer !== 'queueMicrotask',
      );
      const clock = fakeTimers.install({
        now: Date.now(),
        loopLimit: 10_000,
        shouldClearNativeTimers: true,
        toFake,
        ignoreMissingTimers: true,
      });
      return () => clock.uninstall();
    },
  ],
  [
    // jest.useFakeTimers() (modern, the default): the test environment's global functions only.
    'Jest',
    () => {
      jest.useFakeTimers();
      return () => jest.useRealTimers();
    },
  ],
];
