import * as fc from 'fast-check';
import { nestingDepth } from './json-depth';

/** Runs per property, stopped after 3 s (a success if nothing failed so far) to bound CI time. */
const bounded = (numRuns: number) => ({ numRuns, plugins: [fc.interruptAfterTimeLimit(3000)] });

/** The obvious recursive definition: a scalar is 0 deep, a container one more than its deepest. */
function referenceDepth(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  return 1 + Math.max(0, ...Object.values(value).map(referenceDepth));
}

/**
 * `depth` levels of arrays and objects, in the order `kinds` cycles through; a `wide` level has
 * shallower siblings (`{ b: null }`, one level deep, like the innermost `[]`).
 */
function nested(depth: number, kinds: Array<'array' | 'object' | 'wide'>): unknown {
  let value: unknown = [];
  for (let level = 1; level < depth; level++) {
    const kind = kinds[level % kinds.length];
    value = kind === 'array' ? [value] : kind === 'object' ? { a: value } : [1, { b: null }, value];
  }
  return value;
}

describe('nestingDepth (properties)', () => {
  it('measures up to 100000 levels without recursion, and stops just past the limit', () => {
    const property = fc.property(
      fc.integer({ min: 1, max: 100_000 }),
      fc.array(fc.constantFrom('array' as const, 'object' as const, 'wide' as const), {
        minLength: 1,
        maxLength: 4,
      }),
      fc.integer({ min: 0, max: 200_000 }),
      (depth, kinds, limit) => {
        const value = nested(depth, kinds);
        return (
          nestingDepth(value, Infinity) === depth &&
          nestingDepth(value, limit) === Math.min(depth, limit + 1)
        );
      },
    );
    expect(() => fc.assert(property, bounded(10))).not.toThrow();
  });

  it('equals the recursive definition on any JSON value, capped at limit + 1', () => {
    const property = fc.property(
      fc.jsonValue({ maxDepth: 6 }),
      fc.integer({ min: 0, max: 8 }),
      (value, limit) => {
        const depth = referenceDepth(value);
        return (
          nestingDepth(value, Infinity) === depth &&
          nestingDepth(value, limit) === Math.min(depth, limit + 1)
        );
      },
    );
    expect(() => fc.assert(property, bounded(10_000))).not.toThrow();
  });
});
