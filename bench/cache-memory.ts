import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { VerifiedTokenCache } from '../lib/cache/verified-token-cache';
import { DEFAULT_VERIFIED_TOKEN_CACHE } from '../lib/cache/verified-token-cache-options';
import { tokenDigest } from '../lib/token/token-hash';

/**
 * Offers `count` distinct verified tokens (each twice, so that all are admitted; realistic size:
 * about 800 characters, ten claims) to a cache with the default bounds, and measures how much the
 * V8 heap grew (nothing of the cache should live there: its index and store are outside it) and
 * the store's fixed size. Needs --expose-gc for an exact heap figure; without it the figure
 * includes garbage.
 */
export function measureCacheMemory(count: number): {
  entries: number;
  kept: number;
  heapGrowthMiB: number;
  storeMiB: number;
} {
  const gc = (globalThis as { gc?: () => void }).gc;
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const cache = new VerifiedTokenCache(DEFAULT_VERIFIED_TOKEN_CACHE);
  const header = Buffer.from('{"alg":"RS256","typ":"at+jwt","kid":"k-1"}').toString('base64url');
  const expiresAt = Date.now() + 3_600_000;
  for (let i = 0; i < count; i++) {
    const claims = {
      iss: 'https://tenant.auth0.com/',
      sub: `auth0|${i}`,
      aud: ['https://api.example.com', 'https://tenant.auth0.com/userinfo'],
      iat: 1_700_000_000,
      exp: 1_700_003_600,
      azp: 'client-abcdefghijklmnopqrstuvwxyz',
      scope: 'openid profile email read:messages',
      permissions: ['read:messages'],
      jti: randomBytes(8).toString('hex'),
    };
    const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const token = `${header}.${payload}.${randomBytes(256).toString('base64url')}`;
    const entry = {
      user: {
        sub: claims.sub,
        scopes: ['openid', 'read:messages'],
        tokenType: 'jwt' as const,
        tokenHash: tokenDigest(token).slice(0, 12),
        claims,
      },
      key: publicKey,
      expiresAt,
    };
    // Each token offered twice: the cache keeps a token from its second use on.
    const digest = tokenDigest(token);
    cache.set(digest, entry);
    cache.set(digest, entry);
  }
  gc?.();
  const heapGrowthMiB = (process.memoryUsage().heapUsed - before) / 2 ** 20;
  return { entries: count, kept: cache.size, heapGrowthMiB, storeMiB: cache.storeBytes / 2 ** 20 };
}

if (require.main === module) {
  console.log(measureCacheMemory(Number(process.argv[2] ?? 1_000_000)));
}
