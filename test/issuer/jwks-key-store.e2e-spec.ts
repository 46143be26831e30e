import { IssuerDiscovery } from '../../lib/issuer/issuer-discovery';
import { JwksKeyStore, type KeyStoreConfig } from '../../lib/issuer/jwks-key-store';
import { generateKey, KeyServer } from '../support/key-server';
import { generateRocaKey } from '../support/roca-key';

/** The key store alone, against a real local JWKS server: freshness, races and backoff. */
describe('JwksKeyStore', () => {
  let ks: KeyServer;
  const warnings: string[] = [];

  beforeEach(async () => {
    ks = await KeyServer.start();
    warnings.length = 0;
  });

  afterEach(() => ks.stop());

  function store(overrides: Partial<KeyStoreConfig> = {}): JwksKeyStore {
    const limits = { timeoutMs: 1000, maxBytes: 512 * 1024 };
    const discovery = new IssuerDiscovery({ issuer: ks.issuer, limits, maxAgeMs: 60_000 });
    const config: KeyStoreConfig = {
      limits,
      refetchBurst: 3,
      refetchCooldownMs: 30_000,
      maxAgeMs: 600_000,
      failureBackoffMs: 1000,
      maxKeys: 100,
      ...overrides,
    };
    return new JwksKeyStore(discovery, config, { warn: (message) => warnings.push(message) });
  }

  const header = (kid: string) => ({ alg: 'RS256' as const, kid });

  it('drops an RSA key with the ROCA weakness when it reads the JWKS, with one warning naming its kid', async () => {
    const roca = generateRocaKey(2048, 'roca-kid');
    ks.keys.push({ kid: 'roca-kid', alg: 'RS256', ...roca });
    const keys = store({ maxAgeMs: 20 });
    await expect(keys.getKey(header(ks.key.kid!))).resolves.toBeDefined();
    await expect(keys.getKey(header('roca-kid'))).rejects.toMatchObject({ reason: 'weak_key' });
    expect((await keys.health()).keys).toBe(1);
    // Refetched (stale, then an unknown kid): still dropped, and not warned about again.
    await new Promise((resolve) => setTimeout(resolve, 40));
    await keys.getKey(header(ks.key.kid!));
    await expect(keys.getKey(header('another'))).rejects.toMatchObject({ reason: 'unknown_kid' });
    await expect(keys.getKey(header('roca-kid'))).rejects.toMatchObject({ reason: 'weak_key' });
    expect(ks.fetches.jwks).toBeGreaterThanOrEqual(2);
    const rocaWarnings = warnings.filter((line) => line.includes('ROCA'));
    expect(rocaWarnings).toHaveLength(1);
    expect(rocaWarnings[0]).toContain('"roca-kid"');
  });

  it('does not refetch for an unknown kid a key set it has just fetched for that very request', async () => {
    const keys = store();
    await expect(keys.getKey(header('nope'))).rejects.toMatchObject({ reason: 'unknown_kid' });
    expect(ks.fetches.jwks).toBe(1);
    // The whole burst allowance is still there.
    for (let i = 0; i < 3; i++) await expect(keys.getKey(header(`other-${i}`))).rejects.toThrow();
    expect(ks.fetches.jwks).toBe(4);
    await expect(keys.getKey(header('one-more'))).rejects.toThrow(/moments ago/);
    expect(ks.fetches.jwks).toBe(4);
  });

  it('refetches when the only fetch in flight started before the request arrived', async () => {
    const keys = store();
    await keys.getKey(header(ks.key.kid!));
    ks.delayMs = 200;
    const pending = keys.getKey(header('unknown')).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const rotated = generateKey('RS256');
    ks.keys.push(rotated);
    ks.delayMs = 0;
    await expect(keys.getKey(header(rotated.kid!))).resolves.toBeDefined();
    await pending;
    expect(ks.fetches.jwks).toBe(3);
  });

  it('backs off refreshing stale keys while the endpoint fails, serving the cached ones', async () => {
    const keys = store({ maxAgeMs: 20, refetchCooldownMs: 60_000 });
    await keys.getKey(header(ks.key.kid!));
    await new Promise((resolve) => setTimeout(resolve, 40));
    ks.mode = 'error500';
    for (let i = 0; i < 50; i++) {
      await expect(keys.getKey(header(ks.key.kid!))).resolves.toBeDefined();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(ks.fetches.jwks).toBeLessThanOrEqual(2);
    expect(warnings.length).toBeLessThanOrEqual(1);
  });

  it('refreshes stale keys in the background, dropping keys that left the JWKS', async () => {
    const keys = store({ maxAgeMs: 20 });
    const first = ks.key;
    await keys.getKey(header(first.kid!));
    const next = generateKey('RS256');
    ks.keys = [next];
    await new Promise((resolve) => setTimeout(resolve, 40));
    await keys.getKey(header(first.kid!));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(keys.getKey(header(next.kid!))).resolves.toBeDefined();
    expect(ks.fetches.jwks).toBe(2);
    await expect(keys.getKey(header(first.kid!))).rejects.toMatchObject({ reason: 'unknown_kid' });
  });

  it("says a cached token's key is due for the refresh getKey would start, by the clock read at each use", async () => {
    const keys = store({ maxAgeMs: 600_000, refetchCooldownMs: 30_000 });
    const key = await keys.getKey(header(ks.key.kid!));
    const other = generateKey('RS256').privateKey;
    const fetchedAt = Date.now();
    expect([keys.keyStanding(key), keys.keyStanding(other)]).toEqual(['current', 'gone']);
    const later = fetchedAt + 600_000 + 1000;
    jest.spyOn(Date, 'now').mockImplementation(() => later);
    try {
      expect([keys.keyStanding(key), keys.keyStanding(other)]).toEqual(['due', 'due']);
      // getKey starts the refresh (once); while it runs, and after it failed within the cooldown,
      // the stale set answers.
      ks.mode = 'error500';
      await expect(keys.getKey(header(ks.key.kid!))).resolves.toBe(key);
      expect(keys.keyStanding(key)).toBe('current');
      for (let i = 0; i < 100 && warnings.length === 0; i++) await sleep(10);
      expect([warnings.length, ks.fetches.jwks]).toEqual([1, 2]);
      expect(keys.keyStanding(key)).toBe('current');
      expect(keys.keyStanding(key, later + 30_000 + 1)).toBe('due');
    } finally {
      jest.restoreAllMocks();
    }
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
