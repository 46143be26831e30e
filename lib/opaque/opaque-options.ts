import type { SharedCacheStore } from '../cache/shared-cache-store.interface';
import { AuthOptionsError, optionNumber, refuseUnknownKeys } from '../errors/auth-options-error';
import { providerUrlOption } from '../issuer/url-policy';

/**
 * The opaque-token component's numbers, each written once: the defaults of `cache` and `upstream`,
 * and the body cap of userinfo and introspection answers.
 */
export const OPAQUE_DEFAULTS = {
  cache: {
    ttlSeconds: 300,
    failureTtlSeconds: 10,
    maxEntries: 10_000,
    maxBytes: 50 * 1024 * 1024,
    storeTimeoutMs: 150,
  },
  upstreamBudget: { maxConcurrent: 20, maxPerSecond: 50 },
  /** Body cap of userinfo and introspection answers. */
  maxAnswerBytes: 64 * 1024,
} as const;

/** Credentials and endpoint of RFC 7662 token introspection. */
export interface IntrospectionOptions {
  /**
   * The introspection endpoint.
   * @default discovered (`introspection_endpoint`)
   */
  endpoint?: string;
  /** The API's own client id at the provider (sent with `client_secret_basic`). */
  clientId: string;
  /** The API's own client secret. */
  clientSecret: string;
}

/** Caching of userinfo and introspection answers, keyed by the token's SHA-256. */
export interface CacheOptions {
  /**
   * Longest time an answer is kept; never past the token's `exp` when it is known.
   * Auth0 allows about 5 userinfo calls a minute per user: keep this well above 12 s.
   * @default 300
   */
  ttlSeconds?: number;
  /**
   * How long a refusal (the provider said 401) is kept.
   * @default 10
   */
  failureTtlSeconds?: number;
  /**
   * Entries kept in process (LRU).
   * @default 10000
   */
  maxEntries?: number;
  /**
   * Bytes kept in process, measured as JSON.
   * @default 50 MiB
   */
  maxBytes?: number;
  /**
   * A cache shared by the API's instances: cache-manager's `Cache` (e.g. `CACHE_MANAGER` of
   * `@nestjs/cache-manager` with `@keyv/redis`). Failures and slowness of it never fail a request.
   * @default none: in-process only
   */
  store?: SharedCacheStore;
  /**
   * Timeout of each call to `store`, in milliseconds.
   * @default 150
   */
  storeTimeoutMs?: number;
}

/**
 * Budgets of the calls made to the provider. Each is separate: a flood of random opaque tokens,
 * which anyone can send, uses up only the opaque-token budget, never the one of verified callers.
 */
export interface UpstreamOptions {
  /**
   * Lookups of opaque tokens (userinfo or introspection), made before anything is verified.
   * @default { maxConcurrent: 20, maxPerSecond: 50 }
   */
  opaqueTokens?: UpstreamBudget;
  /**
   * Profile fetches for verified callers (`@WithUserinfo()`, `UserinfoService`).
   * @default { maxConcurrent: 20, maxPerSecond: 50 }
   */
  profiles?: UpstreamBudget;
}

/** Bounds on one kind of call to the provider; beyond them, 503 with `Retry-After: 1`. */
export interface UpstreamBudget {
  /**
   * Calls in flight at most.
   * @default 20
   */
  maxConcurrent?: number;
  /**
   * Calls started in any sliding second at most.
   * @default 50
   */
  maxPerSecond?: number;
}

/** The module options the opaque-token component reads (the rest are other components'). */
export interface OpaqueOptionsInput {
  opaqueTokens?: unknown;
  userinfoEndpoint?: unknown;
  introspection?: IntrospectionOptions;
  cache?: CacheOptions;
  upstream?: UpstreamOptions;
}

/** A budget of upstream calls, with its defaults filled in. */
export interface ResolvedUpstreamBudget {
  maxConcurrent: number;
  maxPerSecond: number;
}

/** Opaque tokens, userinfo, introspection, their cache and budgets, resolved. */
export interface ResolvedOpaqueOptions {
  opaqueTokens?: 'userinfo' | 'introspection';
  userinfoEndpoint?: string;
  /** Introspection's endpoint and client id; its secret is never part of the injectable options. */
  introspection?: { endpoint?: string; clientId: string };
  cache: {
    ttlMs: number;
    failureTtlMs: number;
    maxEntries: number;
    maxBytes: number;
    storeTimeoutMs: number;
    store?: SharedCacheStore;
  };
  upstream: { opaqueTokens: ResolvedUpstreamBudget; profiles: ResolvedUpstreamBudget };
}

const CACHE_OPTION_NAMES = {
  ttlSeconds: true,
  failureTtlSeconds: true,
  maxEntries: true,
  maxBytes: true,
  store: true,
  storeTimeoutMs: true,
} satisfies Record<keyof CacheOptions, true>;
const INTROSPECTION_OPTION_NAMES = {
  endpoint: true,
  clientId: true,
  clientSecret: true,
} satisfies Record<keyof IntrospectionOptions, true>;
const UPSTREAM_OPTION_NAMES = {
  opaqueTokens: true,
  profiles: true,
} satisfies Record<keyof UpstreamOptions, true>;
const BUDGET_OPTION_NAMES = {
  maxConcurrent: true,
  maxPerSecond: true,
} satisfies Record<keyof UpstreamBudget, true>;

/**
 * Validates `opaqueTokens`, `userinfoEndpoint`, `introspection`, `cache` and `upstream`, with their
 * defaults; `jwksUri` set means discovery is skipped, so endpoints must be given.
 */
export function resolveOpaqueOptions(
  options: OpaqueOptionsInput,
  jwksUri: string | undefined,
): ResolvedOpaqueOptions {
  const { opaqueTokens, introspection } = options;
  const userinfoEndpoint = providerUrlOption(options.userinfoEndpoint, 'userinfoEndpoint');
  if (
    opaqueTokens !== undefined &&
    opaqueTokens !== 'userinfo' &&
    opaqueTokens !== 'introspection'
  ) {
    throw new AuthOptionsError('opaqueTokens', "must be 'userinfo' or 'introspection' when set");
  }
  if (opaqueTokens === 'userinfo' && jwksUri && !userinfoEndpoint) {
    throw new AuthOptionsError(
      'userinfoEndpoint',
      'is required with jwksUri, since discovery is skipped',
    );
  }
  let resolvedIntrospection: ResolvedOpaqueOptions['introspection'];
  if (opaqueTokens === 'introspection' || introspection !== undefined) {
    if (typeof introspection !== 'object' || introspection === null) {
      throw new AuthOptionsError(
        'introspection',
        'needs { clientId, clientSecret } for opaqueTokens: introspection',
      );
    }
    refuseUnknownKeys(introspection, INTROSPECTION_OPTION_NAMES, 'introspection.');
    const { clientId, clientSecret } = introspection;
    if (
      typeof clientId !== 'string' ||
      clientId === '' ||
      typeof clientSecret !== 'string' ||
      clientSecret === ''
    ) {
      throw new AuthOptionsError('introspection', 'clientId and clientSecret are required strings');
    }
    const endpoint = providerUrlOption(introspection.endpoint, 'introspection.endpoint');
    if (jwksUri && !endpoint) {
      throw new AuthOptionsError(
        'introspection.endpoint',
        'is required with jwksUri, since discovery is skipped',
      );
    }
    resolvedIntrospection = { clientId, ...(endpoint ? { endpoint } : {}) };
  }
  const cache = options.cache === undefined ? {} : options.cache;
  if (typeof cache !== 'object' || cache === null) {
    throw new AuthOptionsError('cache', 'must be an object of cache options');
  }
  refuseUnknownKeys(cache, CACHE_OPTION_NAMES, 'cache.');
  const upstream = options.upstream ?? {};
  const d = OPAQUE_DEFAULTS.cache;
  const store = cache.store;
  if (
    store !== undefined &&
    (typeof store?.get !== 'function' || typeof store?.set !== 'function')
  ) {
    throw new AuthOptionsError(
      'cache.store',
      'must have get(key) and set(key, value, ttl) (a cache-manager Cache)',
    );
  }
  return {
    ...(opaqueTokens ? { opaqueTokens } : {}),
    ...(userinfoEndpoint ? { userinfoEndpoint } : {}),
    ...(resolvedIntrospection ? { introspection: resolvedIntrospection } : {}),
    cache: {
      ttlMs: optionNumber(cache.ttlSeconds, 'cache.ttlSeconds', d.ttlSeconds, 1, 86400) * 1000,
      failureTtlMs:
        optionNumber(
          cache.failureTtlSeconds,
          'cache.failureTtlSeconds',
          d.failureTtlSeconds,
          0,
          3600,
        ) * 1000,
      maxEntries: optionNumber(cache.maxEntries, 'cache.maxEntries', d.maxEntries, 1, 10_000_000),
      maxBytes: optionNumber(cache.maxBytes, 'cache.maxBytes', d.maxBytes, 1024, 2 ** 40),
      storeTimeoutMs: optionNumber(
        cache.storeTimeoutMs,
        'cache.storeTimeoutMs',
        d.storeTimeoutMs,
        1,
        10_000,
      ),
      ...(store ? { store } : {}),
    },
    upstream: resolveUpstream(upstream),
  };
}

function resolveUpstream(upstream: UpstreamOptions): ResolvedOpaqueOptions['upstream'] {
  if (typeof upstream !== 'object' || upstream === null) {
    throw new AuthOptionsError('upstream', 'must be { opaqueTokens, profiles }');
  }
  for (const flat of ['maxConcurrent', 'maxPerSecond'] as const) {
    if (flat in upstream) {
      throw new AuthOptionsError(
        `upstream.${flat}`,
        `is set per budget: upstream.opaqueTokens.${flat} (lookups of opaque tokens) or ` +
          `upstream.profiles.${flat} (profiles of verified callers)`,
      );
    }
  }
  refuseUnknownKeys(upstream, UPSTREAM_OPTION_NAMES, 'upstream.');
  const budget = (name: keyof UpstreamOptions): ResolvedUpstreamBudget => {
    const value = upstream[name] ?? {};
    if (typeof value !== 'object' || value === null) {
      throw new AuthOptionsError(`upstream.${name}`, 'must be { maxConcurrent, maxPerSecond }');
    }
    refuseUnknownKeys(value, BUDGET_OPTION_NAMES, `upstream.${name}.`);
    return {
      maxConcurrent: optionNumber(
        value.maxConcurrent,
        `upstream.${name}.maxConcurrent`,
        20,
        1,
        10_000,
      ),
      maxPerSecond: optionNumber(
        value.maxPerSecond,
        `upstream.${name}.maxPerSecond`,
        50,
        1,
        100_000,
      ),
    };
  };
  return { opaqueTokens: budget('opaqueTokens'), profiles: budget('profiles') };
}
