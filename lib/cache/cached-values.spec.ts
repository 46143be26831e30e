import { tokenHash } from '../token/token-hash';
import { checkCachedProfile, checkCachedUser } from './cached-values';

const TOKEN = 'opaque-token-abc123';

/** A user as the opaque verifier caches it for a token checked through userinfo. */
const userinfoUser = () => ({
  sub: 'auth0|user-1',
  scopes: [],
  tokenType: 'opaque',
  tokenHash: tokenHash(TOKEN),
  claims: { sub: 'auth0|user-1', email: 'ada@example.com' },
  profile: { sub: 'auth0|user-1', email: 'ada@example.com' },
});

/** A user as the opaque verifier caches it for a token checked through introspection. */
const introspectedUser = () => ({
  sub: 'auth0|user-1',
  scopes: ['read:messages', 'write:messages'],
  tokenType: 'opaque',
  tokenHash: tokenHash(TOKEN),
  claims: { active: true, sub: 'auth0|user-1', scope: 'read:messages write:messages', exp: 2e9 },
});

const without = <V extends object>(value: V, name: keyof V) => {
  const copy = { ...value };
  delete copy[name];
  return copy;
};

describe('checkCachedUser', () => {
  it.each([
    ['a userinfo user', userinfoUser()],
    ['an introspected user', introspectedUser()],
    ['an introspected user whose claims have no exp', { ...introspectedUser(), claims: {} }],
    ['a user with members this version does not know', { ...userinfoUser(), extra: 1 }],
  ])('accepts %s', (_, user) => {
    expect(checkCachedUser(user, TOKEN)).toBeUndefined();
  });

  it.each([
    ['a string', 'corrupted', /not an object/],
    ['null', null, /not an object/],
    ['an array', [userinfoUser()], /not an object/],
    ['sub a number', { ...userinfoUser(), sub: 42 }, /sub/],
    ['sub empty', { ...userinfoUser(), sub: '' }, /sub/],
    ['sub null', { ...userinfoUser(), sub: null }, /sub/],
    ['scopes missing', without(introspectedUser(), 'scopes'), /scopes/],
    ['scopes a string', { ...introspectedUser(), scopes: 'read:messages' }, /scopes/],
    ['scopes with a number', { ...introspectedUser(), scopes: ['read:messages', 1] }, /scopes/],
    ['scopes with a space', { ...introspectedUser(), scopes: ['read messages'] }, /scopes/],
    ['scopes with a quote', { ...introspectedUser(), scopes: ['read"'] }, /scopes/],
    ['scopes with an empty string', { ...introspectedUser(), scopes: [''] }, /scopes/],
    ['tokenType jwt', { ...userinfoUser(), tokenType: 'jwt' }, /tokenType/],
    ['tokenType missing', without(userinfoUser(), 'tokenType'), /tokenType/],
    [
      'tokenHash of another token',
      { ...userinfoUser(), tokenHash: tokenHash('other') },
      /tokenHash/,
    ],
    ['tokenHash missing', without(userinfoUser(), 'tokenHash'), /tokenHash/],
    ['tokenHash the full SHA-256', { ...userinfoUser(), tokenHash: 'a'.repeat(64) }, /tokenHash/],
    ['claims an array', { ...userinfoUser(), claims: [] }, /claims/],
    ['claims null', { ...userinfoUser(), claims: null }, /claims/],
    ['claims missing', without(userinfoUser(), 'claims'), /claims/],
    ['claims.exp a string', { ...introspectedUser(), claims: { exp: '2000000000' } }, /exp/],
    ['claims.exp NaN', { ...introspectedUser(), claims: { exp: NaN } }, /exp/],
    [
      'claims.permissions a string',
      { ...introspectedUser(), claims: { permissions: 'admin' } },
      /claims\.permissions is not an array of strings/,
    ],
    ['claims.scp a number', { ...introspectedUser(), claims: { scp: 42 } }, /claims\.scp/],
    ['profile without sub', { ...userinfoUser(), profile: { email: 'x@example.com' } }, /profile/],
    ['profile with a numeric sub', { ...userinfoUser(), profile: { sub: 1 } }, /profile/],
    ['profile null', { ...userinfoUser(), profile: null }, /profile/],
    ['profile an array', { ...userinfoUser(), profile: [] }, /profile/],
  ])('refuses a user with %s, naming the member', (_, user, problem) => {
    expect(checkCachedUser(user, TOKEN)).toMatch(problem);
  });

  it('never puts the token or a cached value into the problem it describes', () => {
    const user = { ...userinfoUser(), sub: { token: TOKEN } };
    expect(checkCachedUser(user, TOKEN)).not.toContain(TOKEN);
  });
});

describe('checkCachedProfile', () => {
  it.each([
    ['a profile', { sub: 'auth0|user-1', email: 'ada@example.com' }],
    ['a profile with only a sub', { sub: 'auth0|user-1' }],
  ])('accepts %s', (_, profile) => {
    expect(checkCachedProfile(profile)).toBeUndefined();
  });

  it.each([
    ['a string', 'corrupted', /not an object/],
    ['null', null, /not an object/],
    ['an array', [{ sub: 'auth0|user-1' }], /not an object/],
    ['no sub', { email: 'ada@example.com' }, /sub/],
    ['an empty sub', { sub: '' }, /sub/],
    ['a numeric sub', { sub: 1 }, /sub/],
    ['a scope that is not a string', { sub: 'auth0|user-1', scope: ['admin'] }, /scope is not/],
  ])('refuses %s', (_, profile, problem) => {
    expect(checkCachedProfile(profile)).toMatch(problem);
  });
});
