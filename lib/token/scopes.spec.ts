import {
  requiredScopes,
  describeRequirement,
  grantedScopes,
  unmetRequirements,
  type ScopeRequirement,
} from './scopes';

describe('grantedScopes', () => {
  it.each([
    [{}, []],
    [{ scope: 'read:messages write:messages' }, ['read:messages', 'write:messages']],
    [{ scope: ' a  b ' }, ['a', 'b']],
    [{ scope: '' }, []],
    [{ scp: 'a b' }, ['a', 'b']],
    [{ scp: ['a', 'b'] }, ['a', 'b']],
    [{ permissions: ['read:messages', 'admin'] }, ['read:messages', 'admin']],
    [{ scope: 'a b', scp: ['b', 'c'], permissions: ['c', 'd'] }, ['a', 'b', 'c', 'd']],
  ])('reads %p as %p', (claims, scopes) => {
    expect(grantedScopes(claims)).toEqual(new Set(scopes));
  });
});

describe('unmetRequirements', () => {
  const all = (...scopes: string[]): ScopeRequirement => ({ mode: 'all', scopes });
  const any = (...scopes: string[]): ScopeRequirement => ({ mode: 'any', scopes });

  it.each([
    ['all of them granted', ['a', 'b', 'c'], all('a', 'b')],
    ['one of them granted for any', ['b'], any('a', 'b')],
  ])('is met with %s', (_, granted, requirement) => {
    expect(unmetRequirements(new Set(granted), [requirement])).toEqual([]);
  });

  it.each([
    ['one missing for all', ['a'], all('a', 'b')],
    ['none granted for any', ['c'], any('a', 'b')],
    ['only a prefix granted', ['read'], all('read:messages')],
    ['only a longer scope granted', ['read:messages'], all('read')],
    ['a different case granted', ['READ:MESSAGES'], any('read:messages')],
    ['nothing granted', [], all('a')],
  ])('is unmet with %s', (_, granted, requirement) => {
    expect(unmetRequirements(new Set(granted), [requirement])).toEqual([requirement]);
  });

  it('returns only the unmet requirements', () => {
    const met = all('a');
    const unmet = any('x', 'y');
    expect(unmetRequirements(new Set(['a']), [met, unmet])).toEqual([unmet]);
  });

  it('has nothing unmet without requirements', () => {
    expect(unmetRequirements(new Set(), [])).toEqual([]);
  });
});

describe('requiredScopes', () => {
  it('lists every scope the requirements name, once, in declaration order', () => {
    expect(
      requiredScopes([
        { mode: 'all', scopes: ['read:messages'] },
        { mode: 'any', scopes: ['admin', 'read:messages', 'owner'] },
      ]),
    ).toStrictEqual(['read:messages', 'admin', 'owner']);
    expect(requiredScopes([])).toStrictEqual([]);
  });
});

describe('describeRequirement', () => {
  it.each<[ScopeRequirement, string]>([
    [{ mode: 'all', scopes: ['read:messages'] }, 'the scope read:messages'],
    [{ mode: 'any', scopes: ['read:messages'] }, 'the scope read:messages'],
    [
      { mode: 'all', scopes: ['read:messages', 'write:messages'] },
      'the scopes read:messages and write:messages',
    ],
    [{ mode: 'any', scopes: ['read:messages', 'admin'] }, 'one of the scopes read:messages, admin'],
  ])('says %j as %p', (requirement, words) => {
    expect(describeRequirement(requirement)).toBe(words);
  });
});
