import { generateKeyPairSync } from 'node:crypto';
import type { AuthUser } from '../auth-user.interface';
import { VerifiedTokenCache } from './verified-token-cache';

const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const user = (sub: string): AuthUser => ({
  sub,
  scopes: ['read:messages'],
  tokenType: 'jwt',
  tokenHash: '0123456789ab',
  claims: { iss: 'https://issuer/', aud: 'api', exp: 2_000_000_000, sub, nested: { list: [1] } },
});

describe('VerifiedTokenCache', () => {
  it('answers until expiresAt, then forgets the entry', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 10, maxBytes: 1_000_000 });
    cache.set('t1', { user: user('a'), key: publicKey, expiresAt: 2000 });
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
      byEntries.set(token, { user: user(String(i)), key: publicKey, expiresAt: Infinity });
      byBytes.set(token, { user: user(String(i)), key: publicKey, expiresAt: Infinity });
    }
    expect(byEntries.size).toBe(3);
    expect(byBytes.size).toBeLessThanOrEqual(2);
  });

  it('freezes what it keeps, so that no request can change the next one', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 10, maxBytes: 1_000_000 });
    const kept = user('a');
    cache.set('t', { user: kept, key: publicKey, expiresAt: Infinity });
    expect(Object.isFrozen(kept.claims)).toBe(true);
    expect(Object.isFrozen((kept.claims as { nested: object }).nested)).toBe(true);
    expect(Object.isFrozen(kept.scopes)).toBe(true);
    cache.delete('t');
    expect(cache.get('t')).toBeUndefined();
  });
});
