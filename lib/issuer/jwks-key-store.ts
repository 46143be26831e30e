// jwks-rsa fetches and reads the JWKS; the credits, single flight and parsed keys around it are
// ours: its rateLimit throws past N a minute (a 401 here must be a 503), and its cache hands out
// PEM strings, whose parse costs ~6x the RSA check per token.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { JwksClient } from 'jwks-rsa';
import { InvalidTokenError, IssuerUnavailableError } from '../errors/auth-error';
import { SUPPORTED_ALGORITHMS, type CheckedHeader } from '../token/check-jwt-header';
import { describeValue } from '../token/describe-value';
import { fetchJson, RemoteFetchError, type FetchLimits } from './fetch-json';
import {
  IssuerConfigurationError,
  misconfiguration,
  type IssuerDiscovery,
} from './issuer-discovery';
import { isWeakKey, keyFitsAlgorithm } from './key-fits-algorithm';
import { isRocaKey } from './roca-fingerprint';

/** A JWKS key, parsed once into a `KeyObject` so that no verification parses a PEM. */
export interface CachedKey {
  kid?: string;
  alg?: string;
  /** The key as jwks-rsa hands it out, to recognise it in the next fetch. */
  pem: string;
  key: KeyObject;
  /** The supported algorithms the key can verify (by its type and curve), computed once. */
  algorithms: ReadonlySet<string>;
  /** An RSA key shorter than 2048 bits. */
  weak: boolean;
}

interface KeySet {
  byKid: Map<string, CachedKey>;
  all: CachedKey[];
  /** Every key object of the set, for `keyStanding`. */
  objects: Set<KeyObject>;
  /**
   * The keys of the JWKS dropped for the ROCA weakness (CVE-2017-15361), by PEM, with their kid:
   * never used, warned about once while they stay in the JWKS.
   */
  roca: Map<string, string | undefined>;
  fetchedAt: number;
  /** Which fetch produced the set (1 for the first started): tells a fresh set from an old one. */
  generation: number;
}

export interface KeyStoreConfig {
  limits: FetchLimits;
  /** Refetches an unknown `kid` may trigger back to back. */
  refetchBurst: number;
  /** After the burst, one more refetch per this many milliseconds. */
  refetchCooldownMs: number;
  /**
   * Keys older than this are refreshed in the background; the old ones serve meanwhile. A failed
   * refresh is retried after `refetchCooldownMs`.
   */
  maxAgeMs: number;
  /** After a failed fetch with nothing cached, answer 503 for this long before trying again. */
  failureBackoffMs: number;
  /** Keys beyond this many in one JWKS are ignored. */
  maxKeys: number;
}

/** What a readiness probe learns of the keys (`JwksKeyStore.health()`). */
export interface KeyStoreHealth {
  /** Whether tokens can be verified now: at least one key is in hand, fresh or kept while stale. */
  usable: boolean;
  keys: number;
  /** Milliseconds since the key set was fetched, when there is one. */
  ageMs?: number;
  /** The set is older than `maxAgeMs`: the provider failed to answer its refresh. */
  stale: boolean;
  /** Why the last fetch failed, when this check made or shared one that failed. */
  error?: string;
  /** `issuer_misconfigured` when that failure is `issuerUrl` disagreeing with the provider. */
  reason?: 'issuer_misconfigured';
}

/** See `JwksKeyStore.keyStanding`. */
export type KeyStanding = 'current' | 'gone' | 'due';

export interface KeyStoreLogger {
  warn(message: string): void;
}

/**
 * The issuer's signing keys: fetched through jwks-rsa (with our own bounded fetcher), cached as
 * parsed keys, refetched once for concurrent callers when an unknown `kid` appears, with a burst
 * allowance and a cooldown so that a flood of random `kid`s costs only a few fetches.
 */
export class JwksKeyStore {
  private keys?: KeySet;
  private inflight?: Promise<KeySet>;
  private client?: { uri: string; jwks: JwksClient };
  private credits: number;
  private creditsAt = Date.now();
  private failedAt = -Infinity;
  /** The configuration error of the last failed fetch, answered again during the backoff. */
  private misconfigured?: IssuerConfigurationError;
  private fetchesStarted = 0;

  constructor(
    private readonly discovery: IssuerDiscovery,
    private readonly config: KeyStoreConfig,
    private readonly logger: KeyStoreLogger,
  ) {
    this.credits = config.refetchBurst;
  }

  /**
   * The key for this header when it is cached, fits and is fresh enough: the common case, answered
   * without a promise. `undefined` means: ask `getKey`, which also gives the reason for a refusal.
   */
  getCachedKey(header: CheckedHeader): KeyObject | undefined {
    const set = this.keys;
    if (!set || header.kid === undefined || this.needsRefresh(set)) return undefined;
    const found = set.byKid.get(header.kid);
    if (!found || !fits(found, header)) return undefined;
    return found.key;
  }

  /**
   * Whether a token `key` verified before may be answered again without its checks, at `now`: the
   * key is in the key set (`'current'`) or not (`'gone'`), by the set `getCachedKey` would read;
   * `'due'` when that set is due for the refresh `getKey` starts, so that the caller asks `getKey`
   * (as for a token it never saw) and the answer is the one it would get without its cache.
   * Numbers compared, no promise: the cached path's cost.
   */
  keyStanding(key: KeyObject, now = Date.now()): KeyStanding {
    const set = this.keys;
    if (!set) return 'gone';
    if (this.needsRefresh(set, now)) return 'due';
    return set.objects.has(key) ? 'current' : 'gone';
  }

  /** The key that verifies a token with this header, or a refusal saying why there is none. */
  async getKey(header: CheckedHeader): Promise<KeyObject> {
    // Only a key set whose fetch started after this request arrived counts as fresh for it.
    const startedBefore = this.fetchesStarted;
    let set = this.keys ?? (await this.load());
    if (this.keys && this.needsRefresh(this.keys)) this.load().catch(() => undefined);
    if (header.kid === undefined) return this.soleKeyFor(set, header);
    let found = set.byKid.get(header.kid);
    // A dropped key is known: refused at once, without the refetch an unknown kid may cost.
    if (!found && set.roca.size > 0 && [...set.roca.values()].includes(header.kid)) {
      throw rocaKey(header.kid);
    }
    if (!found && this.inflight) {
      set = await this.load();
      found = set.byKid.get(header.kid);
    }
    if (!found && set.generation <= startedBefore) {
      if (!this.takeRefetchCredit()) {
        throw unknownKid(header.kid, 'the key set was refetched moments ago');
      }
      set = await this.load();
      found = set.byKid.get(header.kid);
    }
    if (!found) throw unknownKid(header.kid, 'not even after a fresh fetch');
    return checkFit(found, header);
  }

  /**
   * Whether tokens can be verified, for readiness probes. A fresh key set answers at once, without
   * a request; otherwise this makes the fetch a token would (through discovery, shared with
   * concurrent callers, under the same timeouts, size caps, cooldown and failure backoff).
   */
  async health(): Promise<KeyStoreHealth> {
    let error: string | undefined;
    let reason: KeyStoreHealth['reason'];
    if (!this.keys || this.needsRefresh(this.keys)) {
      try {
        await this.load();
      } catch (failure) {
        error = failure instanceof Error ? failure.message : String(failure);
        if (failure instanceof IssuerUnavailableError && failure.reason === 'issuer_misconfigured')
          reason = failure.reason;
      }
    }
    const set = this.keys;
    if (!set) {
      return {
        usable: false,
        keys: 0,
        stale: false,
        ...(error ? { error } : {}),
        ...(reason ? { reason } : {}),
      };
    }
    const ageMs = Date.now() - set.fetchedAt;
    return {
      usable: set.all.length > 0,
      keys: set.all.length,
      ageMs,
      stale: ageMs > this.config.maxAgeMs,
      ...(error ? { error } : {}),
      ...(reason ? { reason } : {}),
    };
  }

  private needsRefresh(set: KeySet, now = Date.now()): boolean {
    return (
      !this.inflight &&
      now - set.fetchedAt > this.config.maxAgeMs &&
      now - this.failedAt > this.config.refetchCooldownMs
    );
  }

  private soleKeyFor(set: KeySet, header: CheckedHeader): KeyObject {
    const fitting = set.all.filter(
      (k) => (k.alg === undefined || k.alg === header.alg) && k.algorithms.has(header.alg),
    );
    if (fitting.length !== 1) {
      throw new InvalidTokenError(
        'ambiguous_key',
        `The token has no kid, and the issuer's key set has ${fitting.length} keys for ${header.alg}; ` +
          'a token without kid is accepted only when exactly one key fits.',
      );
    }
    return checkFit(fitting[0], header);
  }

  private takeRefetchCredit(): boolean {
    const now = Date.now();
    const earned = Math.floor((now - this.creditsAt) / this.config.refetchCooldownMs);
    if (earned > 0) {
      this.credits = Math.min(this.config.refetchBurst, this.credits + earned);
      this.creditsAt += earned * this.config.refetchCooldownMs;
    }
    if (this.credits === this.config.refetchBurst) this.creditsAt = now;
    if (this.credits <= 0) return false;
    this.credits--;
    return true;
  }

  /** Fetches the key set, once for every concurrent caller; 503 when it cannot. */
  private load(): Promise<KeySet> {
    if (!this.inflight) {
      if (!this.keys && Date.now() - this.failedAt < this.config.failureBackoffMs) {
        return Promise.reject(
          misconfiguration(this.misconfigured) ?? unavailable(this.config.failureBackoffMs),
        );
      }
      const generation = ++this.fetchesStarted;
      this.inflight = this.fetchKeySet(generation).finally(() => (this.inflight = undefined));
    }
    return this.inflight;
  }

  private async fetchKeySet(generation: number): Promise<KeySet> {
    try {
      const { jwksUri } = await this.discovery.getMetadata();
      if (this.client?.uri !== jwksUri) {
        const fetcher = (uri: string) => this.fetchJwks(uri);
        this.client = {
          uri: jwksUri,
          jwks: new JwksClient({ jwksUri, cache: false, rateLimit: false, fetcher }),
        };
      }
      const signingKeys = await this.client.jwks.getSigningKeys();
      const set: KeySet = {
        byKid: new Map(),
        all: [],
        objects: new Set(),
        roca: new Map(),
        fetchedAt: Date.now(),
        generation,
      };
      // An unchanged key keeps its key object, so that tokens it verified stay cached.
      const previous = new Map((this.keys?.all ?? []).map((k) => [k.pem, k]));
      const previousRoca = this.keys?.roca;
      for (const signingKey of signingKeys) {
        const pem = signingKey.getPublicKey();
        const kid = signingKey.kid || undefined;
        const alg =
          'alg' in signingKey && typeof signingKey.alg === 'string' ? signingKey.alg : undefined;
        const old = previous.get(pem);
        if (!old && (previousRoca?.has(pem) || isRocaKey(createPublicKey(pem)))) {
          if (!previousRoca?.has(pem)) this.logger.warn(rocaWarning(kid, jwksUri));
          set.roca.set(pem, kid);
          continue;
        }
        const cached: CachedKey =
          old && old.kid === kid && old.alg === alg ? old : describeKey(pem, kid, alg);
        set.all.push(cached);
        set.objects.add(cached.key);
        if (cached.kid !== undefined && !set.byKid.has(cached.kid))
          set.byKid.set(cached.kid, cached);
      }
      this.keys = set;
      this.misconfigured = undefined;
      return set;
    } catch (error) {
      this.failedAt = Date.now();
      this.misconfigured = error instanceof IssuerConfigurationError ? error : undefined;
      const detail = error instanceof Error ? error.message : String(error);
      this.logger.warn(`Could not fetch the issuer's signing keys: ${detail}`);
      throw misconfiguration(error) ?? unavailable(this.config.failureBackoffMs, error);
    }
  }

  private async fetchJwks(uri: string): Promise<{ keys: unknown[] }> {
    const doc = await fetchJson(uri, this.config.limits);
    const keys = (doc as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys))
      throw new RemoteFetchError('invalid_json', `${uri} did not answer a JWKS ({"keys": [...]}).`);
    if (keys.length > this.config.maxKeys) {
      this.logger.warn(
        `${uri} lists ${keys.length} keys; only the first ${this.config.maxKeys} are used.`,
      );
    }
    return { keys: keys.slice(0, this.config.maxKeys) };
  }
}

function describeKey(pem: string, kid: string | undefined, alg: string | undefined): CachedKey {
  const key = createPublicKey(pem);
  return {
    pem,
    key,
    algorithms: new Set(
      SUPPORTED_ALGORITHMS.filter((candidate) => keyFitsAlgorithm(key, candidate)),
    ),
    weak: isWeakKey(key),
    ...(kid ? { kid } : {}),
    ...(alg ? { alg } : {}),
  };
}

function fits(cached: CachedKey, header: CheckedHeader): boolean {
  return (
    (cached.alg === undefined || cached.alg === header.alg) &&
    cached.algorithms.has(header.alg) &&
    !cached.weak
  );
}

function checkFit(cached: CachedKey, header: CheckedHeader): KeyObject {
  if (
    (cached.alg !== undefined && cached.alg !== header.alg) ||
    !cached.algorithms.has(header.alg)
  ) {
    throw new InvalidTokenError(
      'key_mismatch',
      `The token's alg ${header.alg} does not fit the issuer's key "${describeValue(cached.kid)}"` +
        (cached.alg ? ` (declared for ${cached.alg}).` : '.'),
    );
  }
  if (cached.weak) {
    throw new InvalidTokenError(
      'weak_key',
      `The issuer's key "${describeValue(cached.kid)}" is an RSA key shorter than 2048 bits.`,
    );
  }
  return cached.key;
}

/** The warning, once per key, that the issuer publishes a key with the ROCA weakness. */
function rocaWarning(kid: string | undefined, jwksUri: string): string {
  return (
    `The issuer's key ${kid === undefined ? 'without kid' : `"${describeValue(kid)}"`} in ` +
    `${jwksUri} is an RSA key with the ROCA weakness (CVE-2017-15361): its private key can be ` +
    'computed from its public key. It is never used, and tokens it signed are refused; have the ' +
    'identity provider replace it.'
  );
}

function rocaKey(kid: string): InvalidTokenError {
  return new InvalidTokenError(
    'weak_key',
    `The issuer's key "${describeValue(kid)}" is an RSA key with the ROCA weakness ` +
      '(CVE-2017-15361), which anyone can forge signatures for: it is never used.',
  );
}

function unknownKid(kid: string, detail: string): InvalidTokenError {
  return new InvalidTokenError(
    'unknown_kid',
    `The token's key "${describeValue(kid)}" is not in the issuer's key set (${detail}). ` +
      "The token was not signed by this API's issuer.",
  );
}

function unavailable(retryMs: number, cause?: unknown): IssuerUnavailableError {
  return new IssuerUnavailableError(
    'The identity provider could not be reached to fetch its signing keys; try again shortly.',
    Math.max(1, Math.ceil(retryMs / 1000)),
    { cause },
  );
}
