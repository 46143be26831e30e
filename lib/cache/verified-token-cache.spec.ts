import { createSecretKey, generateKeyPairSync } from 'node:crypto';
import type { AuthUser } from '../token/auth-user';
import { tokenDigest, tokenHash } from '../token/token-hash';
import {
  HOT_ENTRIES,
  HOT_JSON_BYTES,
  INDEX_BYTES_PER_ENTRY,
  minimumCacheBytes,
  VerifiedTokenCache,
  type VerifiedToken,
} from './verified-token-cache';

const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const user = (sub: string, token = `token-of-${sub}`): AuthUser => ({
  sub,
  scopes: ['read:messages'],
  tokenType: 'jwt',
  tokenHash: tokenHash(token),
  claims: { iss: 'https://issuer/', aud: 'api', exp: 2_000_000_000, sub, nested: { list: [1] } },
});
const entryOf = (sub: string, token: string, expiresAt = Infinity): VerifiedToken => ({
  user: user(sub, token),
  key: publicKey,
  expiresAt,
});

/** Gives `claims` an own `__proto__` member, as JSON.parse makes of `{"__proto__": ...}`. */
function withOwnProto(claims: object): void {
  Object.defineProperty(claims, '__proto__', {
    value: { admin: true },
    enumerable: true,
    configurable: true,
    writable: true,
  });
}

/** Offers the token twice: the doorkeeper admits a token on its second use. */
function admit(cache: VerifiedTokenCache, token: string, entry: VerifiedToken): boolean {
  cache.set(tokenDigest(token), entry);
  return cache.set(tokenDigest(token), entry);
}

const get = (cache: VerifiedTokenCache, token: string, now?: number) =>
  cache.get(tokenDigest(token), now);

describe('VerifiedTokenCache', () => {
  it('keeps a token from its second use on, not its first', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 10, maxBytes: 1_000_000 });
    const entry = entryOf('a', 't1');
    expect(cache.set(tokenDigest('t1'), entry)).toBe(false);
    expect(get(cache, 't1')).toBeUndefined();
    expect(cache.set(tokenDigest('t1'), entry)).toBe(true);
    expect(get(cache, 't1')).toEqual(entry);
  });

  it('declines a user it cannot serialise (claims nested 20,000 deep) rather than throw', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 10, maxBytes: 1_000_000 });
    const entry = entryOf('deep', 't-deep');
    let deep: unknown = 1;
    for (let i = 0; i < 20_000; i++) deep = [deep];
    entry.user.claims.deep = deep;
    expect(admit(cache, 't-deep', entry)).toBe(false);
    expect(get(cache, 't-deep')).toBeUndefined();
  });

  it('never lets a flood of tokens used once into the cache', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 100_000, maxBytes: 64 * 1024 * 1024 });
    for (let i = 0; i < 20_000; i++) {
      const token = `once-${i}`;
      cache.set(tokenDigest(token), entryOf(String(i), token));
    }
    // Only 16-bit slot and 32-bit fingerprint collisions could let one in.
    expect(cache.size).toBe(0);
  });

  it('forgets a first use once another token takes its slot', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 10, maxBytes: 1_000_000 });
    const slot = tokenDigest('t1').slice(0, 4);
    let other = 0;
    while (tokenDigest(`t-${other}`).slice(0, 4) !== slot) other++;
    cache.set(tokenDigest('t1'), entryOf('a', 't1'));
    cache.set(tokenDigest(`t-${other}`), entryOf('b', `t-${other}`));
    expect(cache.set(tokenDigest('t1'), entryOf('a', 't1'))).toBe(false);
    expect(cache.set(tokenDigest('t1'), entryOf('a', 't1'))).toBe(true);
  });

  it('answers until expiresAt, then forgets the entry', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 10, maxBytes: 1_000_000 });
    admit(cache, 't1', entryOf('a', 't1', 2000));
    expect(get(cache, 't1', 1999)?.user.sub).toBe('a');
    expect(get(cache, 't1', 2000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('is bounded by entries', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 3, maxBytes: 1_000_000 });
    for (let i = 0; i < 50; i++) admit(cache, `token-${i}`, entryOf(String(i), `token-${i}`));
    expect(cache.size).toBe(3);
    expect(get(cache, 'token-49')?.user.sub).toBe('49');
    expect(get(cache, 'token-46')).toBeUndefined();
  });

  it('keeps entries in one store of maxBytes: an entry written over since is a miss', () => {
    // An entry: the token's digest (64 hex digits) and the user as JSON.
    const one = 64 + JSON.stringify(entryOf('00', 'token-00').user).length;
    // Room for seven entries and a half: the eighth wraps to the start and ends the first.
    const cache = new VerifiedTokenCache({
      maxEntries: 50,
      maxBytes: 50 * INDEX_BYTES_PER_ENTRY + Math.floor(one * 7.5),
    });
    for (let i = 10; i < 18; i++) admit(cache, `token-${i}`, entryOf(String(i), `token-${i}`));
    expect(get(cache, 'token-10')).toBeUndefined();
    for (let i = 11; i < 18; i++) expect(get(cache, `token-${i}`)?.user.sub).toBe(String(i));
    admit(cache, 'token-18', entryOf('18', 'token-18'));
    expect(get(cache, 'token-11')).toBeUndefined();
    expect(get(cache, 'token-12')?.user.sub).toBe('12');
    // Many rounds around the ring: whatever is answered is the token's own user.
    const answered: string[] = [];
    const wrong: string[] = [];
    for (let i = 0; i < 500; i++) {
      const token = `token-${100 + (i % 37)}`;
      admit(cache, token, entryOf(String(100 + (i % 37)), token));
      for (let j = 0; j < 37; j++) {
        const found = get(cache, `token-${100 + j}`)?.user.sub;
        if (found !== undefined) answered.push(found);
        if (found !== undefined && found !== String(100 + j)) wrong.push(`${100 + j}: ${found}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(answered.length).toBeGreaterThan(1000);
  });

  it('counts the index in maxBytes, and refuses a maxBytes with no room for a store', () => {
    expect(minimumCacheBytes(100_000)).toBe(100_000 * 128 + 1024);
    expect(() => new VerifiedTokenCache({ maxEntries: 100, maxBytes: 100 * 128 })).toThrow(
      'maxBytes 12800 leaves no room for a store beside the index of 100 entries',
    );
    // A store of 1024 bytes: one entry of about 180 bytes fits, the sixth written ends the first.
    const cache = new VerifiedTokenCache({ maxEntries: 100, maxBytes: minimumCacheBytes(100) });
    expect(cache.storeBytes).toBe(1024);
    expect(new VerifiedTokenCache({ maxEntries: 10, maxBytes: 1_000_000 }).storeBytes).toBe(
      1_000_000 - 10 * INDEX_BYTES_PER_ENTRY,
    );
    for (let i = 0; i < 6; i++) admit(cache, `token-${i}`, entryOf(String(i), `token-${i}`));
    expect(get(cache, 'token-0')).toBeUndefined();
    expect(get(cache, 'token-5')?.user.sub).toBe('5');
  });

  it('answers only the digest asked for, whatever the index holds', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 10, maxBytes: 1_000_000 });
    admit(cache, 't', entryOf('a', 't'));
    const digest = tokenDigest('t');
    // Same tag and same home slot in the index, another digest: the store's copy tells them apart.
    const other = digest.slice(0, 63) + (digest[63] === '0' ? '1' : '0');
    expect(cache.get(other)).toBeUndefined();
    expect(cache.get(digest)?.user.sub).toBe('a');
    expect(cache.set(other.slice(0, 40), entryOf('b', 't2'))).toBe(false);
  });

  it('keeps every answer right through probing, deletions and rebuilds of a small index', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 20, maxBytes: 1_000_000 });
    const wrong: string[] = [];
    let answered = 0;
    for (let i = 0; i < 400; i++) {
      admit(cache, `token-${i}`, entryOf(String(i), `token-${i}`));
      if (i % 7 === 0) cache.delete(tokenDigest(`token-${i - 3}`));
      for (let j = Math.max(0, i - 30); j <= i; j++) {
        const sub = get(cache, `token-${j}`)?.user.sub;
        if (sub !== undefined) answered++;
        if (sub !== undefined && sub !== String(j)) wrong.push(`${j}: ${sub}`);
      }
      expect(cache.size).toBeLessThanOrEqual(20);
    }
    expect(wrong).toEqual([]);
    expect(answered).toBeGreaterThan(400 * 10);
    expect(get(cache, 'token-399')?.user.sub).toBe('399');
    expect(get(cache, 'token-396')).toBeUndefined(); // deleted at 399
  });

  it('starts afresh past 1024 distinct keys, and names each entry its own key', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 10, maxBytes: 1_000_000 });
    const keys = Array.from({ length: 1025 }, (_, i) => createSecretKey(Buffer.alloc(32, i % 256)));
    admit(cache, 'first', { user: user('first', 'first'), key: keys[0], expiresAt: Infinity });
    expect(get(cache, 'first')?.key).toBe(keys[0]);
    for (let i = 1; i < 1024; i++) {
      admit(cache, `t-${i}`, {
        user: user(String(i), `t-${i}`),
        key: keys[i],
        expiresAt: Infinity,
      });
    }
    expect(get(cache, 't-1023')?.key).toBe(keys[1023]);
    admit(cache, 'last', { user: user('last', 'last'), key: keys[1024], expiresAt: Infinity });
    expect(get(cache, 't-1023')).toBeUndefined();
    expect(get(cache, 'last')?.key).toBe(keys[1024]);
    expect(cache.size).toBe(1);
  });

  it('does not keep an entry larger than a quarter of the store', () => {
    const cache = new VerifiedTokenCache({
      maxEntries: 10,
      maxBytes: minimumCacheBytes(10) + 1024,
    });
    const big = entryOf('big', 't-big');
    big.user.claims.padding = 'x'.repeat(600);
    expect(admit(cache, 't-big', big)).toBe(false);
    expect(get(cache, 't-big')).toBeUndefined();
  });

  it('gives each lookup a user of its own, and keeps a copy of what it is given', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 10, maxBytes: 1_000_000 });
    const kept = user('a', 't');
    admit(cache, 't', { user: kept, key: publicKey, expiresAt: Infinity });
    kept.scopes.push('admin');
    (kept.claims.nested as { list: number[] }).list.push(2);
    const first = get(cache, 't')!.user;
    expect(first.scopes).toEqual(['read:messages']);
    first.scopes.push('admin');
    first.claims.sub = 'mallory';
    const second = get(cache, 't')!.user;
    expect(second).toEqual(user('a', 't'));
    expect(second).not.toBe(first);
    cache.delete(tokenDigest('t'));
    expect(get(cache, 't')).toBeUndefined();
  });

  it('gives back every string as it was, non-ASCII and lone surrogates included', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 10, maxBytes: 1_000_000 });
    const entry = entryOf('é', 't');
    entry.user.claims.name = 'Zoë 山田 😀 \ud800 "quoted" \\ \u2028 \n';
    withOwnProto(entry.user.claims);
    admit(cache, 't', entry);
    const found = get(cache, 't')!.user;
    expect(found.claims.name).toBe(entry.user.claims.name);
    expect(Object.getPrototypeOf(found.claims)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(found.claims, '__proto__')).toBe(true);
    expect((found.claims as { admin?: unknown }).admin).toBeUndefined();
  });

  it('serves a token asked for often from its hot set, a user of its own on every answer', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 10, maxBytes: 1_000_000 });
    admit(cache, 't', entryOf('a', 't'));
    const answers: AuthUser[] = [];
    for (let i = 0; i < 6; i++) {
      const found = get(cache, 't')!.user;
      expect(found).toEqual(user('a', 't'));
      found.scopes.push('admin');
      found.claims.sub = 'mallory';
      (found.claims.nested as { list: number[] }).list.push(i);
      answers.push(found);
    }
    expect(cache.hotSize).toBe(1);
    expect(new Set(answers).size).toBe(6);
    expect(new Set(answers.map((a) => a.claims.nested)).size).toBe(6);
  });

  it('answers from the hot set only while the entry is indexed, intact and unexpired', () => {
    const one = 64 + JSON.stringify(entryOf('00', 'token-00').user).length;
    const cache = new VerifiedTokenCache({
      maxEntries: 50,
      maxBytes: 50 * INDEX_BYTES_PER_ENTRY + Math.floor(one * 7.5),
    });
    const hot = (token: string, sub: string, expiresAt = Infinity) => {
      admit(cache, token, entryOf(sub, token, expiresAt));
      for (let i = 0; i < 3; i++) expect(get(cache, token, 1000)?.user.sub).toBe(sub);
    };
    hot('deleted', 'd');
    expect(cache.hotSize).toBe(1);
    cache.delete(tokenDigest('deleted'));
    expect(cache.hotSize).toBe(0);
    expect(get(cache, 'deleted')).toBeUndefined();
    hot('expiring', 'e', 5000);
    expect(get(cache, 'expiring', 5000)).toBeUndefined();
    expect(cache.hotSize).toBe(0);
    hot('overwritten', 'o');
    expect(cache.hotSize).toBe(1);
    // Eight more entries go round the ring and over the hot entry's bytes.
    for (let i = 10; i < 18; i++) admit(cache, `token-${i}`, entryOf(String(i), `token-${i}`));
    expect(get(cache, 'overwritten')).toBeUndefined();
    expect(cache.hotSize).toBe(0);
    // A token admitted again after that is answered as itself, not from an old parsed user.
    admit(cache, 'deleted', entryOf('d2', 'deleted'));
    for (let i = 0; i < 3; i++) expect(get(cache, 'deleted')?.user.sub).toBe('d2');
  });

  it('keeps its hot set within HOT_ENTRIES users and HOT_JSON_BYTES of JSON', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 1000, maxBytes: 64 * 1024 * 1024 });
    for (let i = 0; i < HOT_ENTRIES + 50; i++) {
      admit(cache, `t-${i}`, entryOf(String(i), `t-${i}`));
      for (let j = 0; j < 3; j++) expect(get(cache, `t-${i}`)?.user.sub).toBe(String(i));
    }
    expect(cache.hotSize).toBe(HOT_ENTRIES);
    // The most recent stay; the oldest went.
    const big = (i: number) => {
      const entry = entryOf(`big-${i}`, `big-${i}`);
      entry.user.claims.padding = 'x'.repeat(HOT_JSON_BYTES / 10);
      return entry;
    };
    for (let i = 0; i < 30; i++) {
      admit(cache, `big-${i}`, big(i));
      for (let j = 0; j < 3; j++) expect(get(cache, `big-${i}`)?.user.sub).toBe(`big-${i}`);
    }
    expect(cache.hotSize).toBeLessThanOrEqual(10);
    expect(cache.hotSize).toBeGreaterThanOrEqual(8);
    // Users asked for once or twice never enter it.
    const cold = new VerifiedTokenCache({ maxEntries: 1000, maxBytes: 64 * 1024 * 1024 });
    for (let i = 0; i < 100; i++) {
      admit(cold, `c-${i}`, entryOf(String(i), `c-${i}`));
      get(cold, `c-${i}`);
    }
    expect(cold.hotSize).toBe(0);
  });

  it('drops hot users whose entries a rebuild or a fresh start leaves out, and answers right after', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 8, maxBytes: 1_000_000 });
    const heat = (token: string, sub: string, key = publicKey) => {
      admit(cache, token, { user: user(sub, token), key, expiresAt: Infinity });
      for (let j = 0; j < 3; j++) expect(get(cache, token)?.user.sub).toBe(sub);
    };
    for (let i = 0; i < 8; i++) heat(`r-${i}`, `r${i}`);
    expect(cache.hotSize).toBe(8);
    // The ninth entry makes room: the oldest quarter of the index goes, and its hot users with it.
    heat('r-8', 'r8');
    expect(cache.hotSize).toBe(cache.size);
    const wrong: string[] = [];
    for (let i = 0; i <= 8; i++) {
      const found = get(cache, `r-${i}`)?.user.sub;
      if (found !== undefined && found !== `r${i}`) wrong.push(`r-${i}: ${found}`);
    }
    expect(wrong).toEqual([]);
    // Past 1024 distinct keys the index starts afresh (here with no rebuild before): nothing hot stays.
    const fresh = new VerifiedTokenCache({ maxEntries: 2000, maxBytes: 4_000_000 });
    for (const token of ['a', 'b', 'c']) {
      admit(fresh, token, entryOf(token, token));
      for (let j = 0; j < 3; j++) expect(get(fresh, token)?.user.sub).toBe(token);
    }
    expect(fresh.hotSize).toBe(3);
    for (let i = 0; i < 1024; i++) {
      const { publicKey: key } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      admit(fresh, `k-${i}`, { user: user(`k${i}`, `k-${i}`), key, expiresAt: Infinity });
    }
    expect(fresh.hotSize).toBe(0);
    expect(get(fresh, 'a')).toBeUndefined();
    admit(fresh, 'a', entryOf('a2', 'a'));
    for (let j = 0; j < 3; j++) expect(get(fresh, 'a')?.user.sub).toBe('a2');
    expect(fresh.hotSize).toBe(1);
  });

  it('keeps users of more than a quarter of HOT_JSON_BYTES out of the hot set', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 10, maxBytes: 4_000_000 });
    const entry = entryOf('big', 'big');
    entry.user.claims.padding = 'x'.repeat(HOT_JSON_BYTES / 4 + 1);
    admit(cache, 'big', entry);
    for (let i = 0; i < 4; i++) expect(get(cache, 'big')?.user.sub).toBe('big');
    expect(cache.hotSize).toBe(0);
  });

  it('gives back an own __proto__ member from the hot set as it was', () => {
    const cache = new VerifiedTokenCache({ maxEntries: 10, maxBytes: 1_000_000 });
    const entry = entryOf('p', 't');
    withOwnProto(entry.user.claims);
    admit(cache, 't', entry);
    for (let i = 0; i < 4; i++) {
      const found = get(cache, 't')!.user;
      expect(Object.getPrototypeOf(found.claims)).toBe(Object.prototype);
      expect(Object.prototype.hasOwnProperty.call(found.claims, '__proto__')).toBe(true);
      expect((found.claims as { admin?: unknown }).admin).toBeUndefined();
    }
    expect(cache.hotSize).toBe(1);
  });
});
