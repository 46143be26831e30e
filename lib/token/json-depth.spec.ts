import { InvalidTokenError } from '../errors/auth-error';
import { claimsTooDeep, nestingDepth } from './json-depth';

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

describe('claimsTooDeep', () => {
  it('is a 401 invalid_token refusal naming the limit', () => {
    const refusal = claimsTooDeep();
    expect(refusal).toBeInstanceOf(InvalidTokenError);
    expect(refusal).toMatchObject({ status: 401, reason: 'claims_too_deep' });
    expect(refusal.message).toMatch(/deeper than 32 levels/);
  });
});
