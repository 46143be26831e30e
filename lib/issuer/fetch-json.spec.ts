import { nestingDepth } from './fetch-json';

describe('nestingDepth', () => {
  it.each([
    [1, 0],
    [{}, 1],
    [{ a: [1, { b: null }] }, 3],
  ])('measures %j as %i', (value, depth) => {
    expect(nestingDepth(value, 32)).toBe(depth);
  });

  it('stops counting past the limit, without recursion, on 100000 levels', () => {
    let deep: unknown = 0;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(nestingDepth(deep, 32)).toBe(33);
  });
});
