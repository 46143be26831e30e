import { LRUCache } from 'lru-cache';
import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';

/** Entries the development provider keeps in each map, all models together: the oldest go first. */
const MAX_ENTRIES = 10_000;
/** Artifacts remembered per grant, for `revokeByGrantId`: a grant has a few tokens. */
const MAX_PER_GRANT = 100;

/** The models whose artifacts belong to a grant, and go with it (oidc-provider's own list). */
const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

/**
 * The development provider's storage: oidc-provider's own in-memory adapter, which warns that it is
 * for development, does the same; this one is ours so that the sample says it once, in its own
 * words. Every map is an LRU of at most `maxEntries`, and an entry lives as long as oidc-provider
 * says (`expiresIn`). Everything is lost on restart, as for any in-memory store.
 */
export function boundedMemoryAdapter(maxEntries = MAX_ENTRIES): AdapterFactory {
  const payloads = new LRUCache<string, AdapterPayload>({ max: maxEntries });
  // Session uid and device user code → id, and grant id → the keys of its artifacts.
  const lookups = new LRUCache<string, string>({ max: maxEntries });
  const grants = new LRUCache<string, Set<string>>({ max: maxEntries });
  const ttlOf = (expiresIn?: number) => (expiresIn ? { ttl: expiresIn * 1000 } : {});

  return (model: string): Adapter => {
    const keyOf = (id: string) => `${model}:${id}`;
    const find = async (id: string | undefined) =>
      id === undefined ? undefined : payloads.get(keyOf(id));
    return {
      async upsert(id, payload, expiresIn) {
        const key = keyOf(id);
        payloads.set(key, payload, ttlOf(expiresIn));
        if (model === 'Session' && payload.uid) {
          lookups.set(`uid:${payload.uid}`, id, ttlOf(expiresIn));
        }
        if (payload.userCode) lookups.set(`userCode:${payload.userCode}`, id, ttlOf(expiresIn));
        if (GRANTABLE.has(model) && payload.grantId) {
          const members = grants.get(payload.grantId) ?? new Set<string>();
          members.add(key);
          if (members.size > MAX_PER_GRANT) members.delete(members.values().next().value!);
          grants.set(payload.grantId, members);
        }
      },
      find,
      findByUid: async (uid) => find(lookups.get(`uid:${uid}`)),
      findByUserCode: async (userCode) => find(lookups.get(`userCode:${userCode}`)),
      async consume(id) {
        const payload = payloads.get(keyOf(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id) {
        payloads.delete(keyOf(id));
      },
      async revokeByGrantId(grantId) {
        for (const key of grants.get(grantId) ?? []) payloads.delete(key);
        grants.delete(grantId);
      },
    };
  };
}
