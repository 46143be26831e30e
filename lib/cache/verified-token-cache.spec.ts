import { generateKeyPairSync } from 'node:crypto';
import type { AuthUser } from '../auth-user.interface';
import { tokenHash } from '../token/token-hash';
import { VerifiedTokenCache, type VerifiedToken } from './verified-token-cache';

const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const user = (sub: string, token = `token-of-${sub}`): AuthUser => ({
  sub,
  scopes: ['read:messages'],
  tokenType: 'jwt',
  tokenHash: tokenHash(token),
  claims: { iss: 'https://issuer/', aud: 'api', exp: 2_000_000_000, sub, nested: { list: [1] } },
});

/** Offers the token twice: the doorkeeper admits a token on its second use. */
function admit(cache: VerifiedTokenCache, token: string, entry: VerifiedToken): void {
  cache.set(token, entry);
  cache.set(token, entry);
}

describe('VerifiedTokenCache', () => {
  it('keeps a token from its second use on, not its first', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 10, maxBytes: 1_000_000 });
    const entry = { user: user('a', 't1'), key: publicKey, expiresAt: Infinity };
    expect(cache.set('t1', entry)).toBe(false);
    expect(cache.get('t1')).toBeUndefined();
    expect(Object.isFrozen(entry.user.claims)).toBe(false);
    expect(cache.set('t1', entry)).toBe(true);
    expect(cache.get('t1')?.user.sub).toBe('a');
  });

  it('never lets a flood of tokens used once into the cache', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 100_000, maxBytes: 64 * 1024 * 1024 });
    for (let i = 0; i < 20_000; i++) {
      const token = `once-${i}`;
      cache.set(token, { user: user(String(i), token), key: publicKey, expiresAt: Infinity });
    }
    // Only 16-bit slot and 32-bit fingerprint collisions could let one in.
    expect(cache.size).toBe(0);
  });

  it('forgets a first use once another token takes its slot', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 10, maxBytes: 1_000_000 });
    const first = { user: user('a', 't1'), key: publicKey, expiresAt: Infinity };
    const slot = first.user.tokenHash.slice(0, 4);
    let other = 0;
    while (tokenHash(`t-${other}`).slice(0, 4) !== slot) other++;
    const rival = { user: user('b', `t-${other}`), key: publicKey, expiresAt: Infinity };
    cache.set('t1', first);
    cache.set(`t-${other}`, rival);
    expect(cache.set('t1', first)).toBe(false);
    expect(cache.set('t1', first)).toBe(true);
  });

  it('answers until expiresAt, then forgets the entry', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 10, maxBytes: 1_000_000 });
    admit(cache, 't1', { user: user('a'), key: publicKey, expiresAt: 2000 });
    expect(cache.get('t1', 1999)?.user.sub).toBe('a');
    expect(cache.get('t1', 2000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('is bounded by entries and by bytes', () => {
    const byEntries = new VerifiedTokenCache({ maxEntries: 3, maxBytes: 1_000_000 });
    const byBytes = new VerifiedTokenCache({
      maxEntries: 1000,
      maxBytes: 4 * 1000 + 512 * 2 + 100,
    });
    for (let i = 0; i < 50; i++) {
      const token = `${'x'.repeat(1000 - String(i).length)}${i}`;
      const entry = { user: user(String(i), token), key: publicKey, expiresAt: Infinity };
      admit(byEntries, token, entry);
      admit(byBytes, token, entry);
    }
    expect(byEntries.size).toBe(3);
    expect(byBytes.size).toBeLessThanOrEqual(2);
  });

  it('freezes what it keeps, so that no request can change the next one', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 10, maxBytes: 1_000_000 });
    const kept = user('a');
    admit(cache, 't', { user: kept, key: publicKey, expiresAt: Infinity });
    expect(Object.isFrozen(kept.claims)).toBe(true);
    expect(Object.isFrozen(kept.claims.nested)).toBe(true);
    expect(Object.isFrozen(kept.scopes)).toBe(true);
    cache.delete('t');
    expect(cache.get('t')).toBeUndefined();
  });
});
