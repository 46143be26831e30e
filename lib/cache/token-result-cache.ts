import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { AuthError, InvalidTokenError, type AuthErrorReason } from '../errors/auth-error';
import { tokenHash } from '../token/token-hash';
import type { SharedCacheStore } from './shared-cache-store.interface';

/**
 * The shape version of shared-store entries, part of every key's namespace. Bump it whenever
 * `Entry` or a cached value's shape changes, so that no instance ever reads another version's entries.
 */
// v3: positive entries may hold introspected tokens bound to a sender (cnf), checked on each use.
export const CACHE_FORMAT_VERSION = 'v3';

/** What a lookup found: a value, or a definitive refusal (cached briefly). */
type Entry<T> =
  | { ok: true; value: T; expiresAt: number }
  | { ok: false; reason: AuthErrorReason; message: string; expiresAt: number };

/** A lookup's answer, with the time it stops being valid (a token's `exp`) when known. */
export interface LookupResult<T> {
  value: T;
  expiresAtMs?: number;
}

/**
 * What is wrong with a value read back from the shared store, in a few words that name no value
 * (they are logged); `undefined` when the value is one the lookup could have answered for `token`.
 */
export type CachedValueCheck = (value: unknown, token: string) => string | undefined;

export interface TokenResultCacheConfig {
  /** Prefix of shared-store keys, e.g. `nest-oauth2-bearer:v3:userinfo:<tenant>:`. */
  namespace: string;
  /** Checks each value read from the shared store: Redis is data, read as strictly as the provider. */
  checkValue: CachedValueCheck;
  /** Longest time a result is kept. */
  ttlMs: number;
  /** How long a definitive refusal (401 upstream) is kept. */
  failureTtlMs: number;
  /** Local entries at most. */
  maxEntries: number;
  /** Local bytes at most (JSON length of the entries). */
  maxBytes: number;
  store?: SharedCacheStore;
  /** Timeout of each shared-store call; past it the store is skipped for that request. */
  storeTimeoutMs: number;
}

export interface CacheLogger {
  warn(message: string): void;
}

const STORE_WARNING_INTERVAL_MS = 30_000;
/** How far past its TTL a shared entry may claim to live: the clocks of instances differ a little. */
const CLOCK_SLACK_MS = 5_000;
/** The longest refusal message read from the shared store (ours are a few hundred characters). */
const MAX_MESSAGE_LENGTH = 1_000;
const TIMED_OUT = Symbol('timed out');

/**
 * Caches what an identity provider said of a token, keyed by the token's SHA-256 (never the token):
 * a bounded in-process LRU in front of an optional shared store, with one upstream call for
 * concurrent requests with one token. A shared store that fails or is slow is skipped, never fatal.
 */
export class TokenResultCache<T> {
  private readonly local: LRUCache<string, Entry<T>>;
  private readonly inflight = new Map<string, Promise<Entry<T>>>();
  private lastStoreWarning = -Infinity;
  private lastDropWarning = -Infinity;
  private droppedSinceWarning = 0;

  constructor(
    private readonly config: TokenResultCacheConfig,
    private readonly logger: CacheLogger,
  ) {
    this.local = new LRUCache<string, Entry<T>>({
      max: config.maxEntries,
      maxSize: config.maxBytes,
      sizeCalculation: (entry) => entrySize(entry, config.maxBytes),
    });
  }

  /** The cached answer for `token`, or `lookup`'s, shared by every concurrent caller. */
  async resolve(token: string, lookup: () => Promise<LookupResult<T>>): Promise<T> {
    const key = createHash('sha256').update(token).digest('hex');
    const cached = this.local.get(key);
    const entry =
      cached && cached.expiresAt > Date.now() ? cached : await this.load(key, token, lookup);
    if (entry.ok) return entry.value;
    throw new InvalidTokenError(entry.reason, entry.message);
  }

  private load(
    key: string,
    token: string,
    lookup: () => Promise<LookupResult<T>>,
  ): Promise<Entry<T>> {
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.fetch(key, token, lookup).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private async fetch(
    key: string,
    token: string,
    lookup: () => Promise<LookupResult<T>>,
  ): Promise<Entry<T>> {
    const shared = await this.storeGet(key, token);
    if (shared && shared.expiresAt > Date.now()) {
      this.local.set(key, shared);
      return shared;
    }
    let entry: Entry<T>;
    const now = Date.now();
    try {
      const result = await lookup();
      const expiresAt = Math.min(now + this.config.ttlMs, result.expiresAtMs ?? Infinity);
      entry = { ok: true, value: result.value, expiresAt };
    } catch (error) {
      // Only a definitive refusal is remembered; an outage (503) is asked again next time.
      if (!(error instanceof AuthError) || error.code !== 'invalid_token') throw error;
      entry = {
        ok: false,
        reason: error.reason,
        message: error.message,
        expiresAt: now + this.config.failureTtlMs,
      };
    }
    if (entry.expiresAt > now) {
      this.local.set(key, entry);
      // Never share what another instance would drop (a provider's sub of '', a huge message).
      if (this.config.store && this.problemOf(entry, token) === undefined)
        void this.storeSet(key, entry, entry.expiresAt - now);
    }
    return entry;
  }

  /** The entry for `token` in the shared store; one that does not fit is dropped and logged. */
  private async storeGet(key: string, token: string): Promise<Entry<T> | undefined> {
    const store = this.config.store;
    if (!store) return undefined;
    const value = await this.withTimeout(
      () => store.get<unknown>(this.config.namespace + key),
      'read',
    );
    if (value === undefined || value === null) return undefined;
    const problem = this.problemOf(value, token);
    if (problem === undefined) return value as Entry<T>;
    this.warnDropped(token, problem);
    return undefined;
  }

  /**
   * What is wrong with `value` as the entry of `token`, or `undefined`: the checks an answer of the
   * provider passed, since an entry in a shared store may be corrupt, old, or planted.
   */
  private problemOf(value: unknown, token: string): string | undefined {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return 'the entry is not an object';
    const entry = value as Record<string, unknown>;
    if (entry.ok !== true && entry.ok !== false) return 'ok is not true or false';
    if (typeof entry.expiresAt !== 'number' || !Number.isFinite(entry.expiresAt))
      return 'expiresAt is not a finite number';
    const lifetimeMs = entry.ok ? this.config.ttlMs : this.config.failureTtlMs;
    if (entry.expiresAt > Date.now() + lifetimeMs + CLOCK_SLACK_MS)
      return `it expires later than the ${entry.ok ? 'ttl' : 'failure ttl'} allows`;
    if (entry.ok) {
      const problem = this.config.checkValue(entry.value, token);
      return problem === undefined ? undefined : `value: ${problem}`;
    }
    if (
      typeof entry.reason !== 'string' ||
      !Object.hasOwn(CACHEABLE_REASONS, entry.reason) ||
      !CACHEABLE_REASONS[entry.reason as AuthErrorReason]
    )
      return 'reason is not one of an invalid_token refusal';
    if (typeof entry.message !== 'string' || entry.message.length > MAX_MESSAGE_LENGTH)
      return `message is not a string of at most ${MAX_MESSAGE_LENGTH} characters`;
    return undefined;
  }

  private async storeSet(key: string, entry: Entry<T>, ttlMs: number): Promise<void> {
    const store = this.config.store;
    if (store)
      await this.withTimeout(() => store.set(this.config.namespace + key, entry, ttlMs), 'write');
  }

  /** Runs a store call with a timeout; a store that throws, rejects or hangs yields `undefined`. */
  private async withTimeout<V>(call: () => Promise<V>, what: string): Promise<V | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), this.config.storeTimeoutMs);
      timer.unref();
    });
    try {
      const result = await Promise.race([call(), timeout]);
      if (result !== TIMED_OUT) return result;
      this.warnStore(
        `the shared cache did not answer a ${what} in ${this.config.storeTimeoutMs} ms`,
      );
    } catch (error) {
      this.warnStore(`the shared cache failed a ${what}: ${(error as Error)?.message ?? error}`);
    } finally {
      clearTimeout(timer);
    }
    return undefined;
  }

  /** Logs a dropped entry with the token's hash, at most once per 30 s, counting the others. */
  private warnDropped(token: string, problem: string): void {
    this.droppedSinceWarning++;
    const now = Date.now();
    if (now - this.lastDropWarning < STORE_WARNING_INTERVAL_MS) return;
    this.lastDropWarning = now;
    const dropped = this.droppedSinceWarning;
    this.droppedSinceWarning = 0;
    this.logger.warn(
      `dropped the shared-cache entry of token ${tokenHash(token)} (${problem}); asking the ` +
        'identity provider instead' +
        (dropped > 1 ? `. ${dropped} entries were dropped since the last such warning.` : '.'),
    );
  }

  private warnStore(message: string): void {
    const now = Date.now();
    if (now - this.lastStoreWarning < STORE_WARNING_INTERVAL_MS) return;
    this.lastStoreWarning = now;
    this.logger.warn(`${message}; serving from the local cache and the identity provider.`);
  }
}

/**
 * The reasons a cached refusal may carry: those of an `invalid_token` refusal, the only refusals
 * `fetch` keeps. Exhaustive, so that a new reason needs a decision here.
 */
const CACHEABLE_REASONS: Readonly<Record<AuthErrorReason, boolean>> = {
  missing_token: false,
  malformed_authorization_header: false,
  multiple_token_methods: false,
  invalid_host_header: false,
  token_too_large: false,
  not_a_jwt: true,
  malformed_jwt: true,
  // A token's own encoding; a DPoP proof's is refused after the cache, never cached.
  invalid_encoding: true,
  alg_not_allowed: true,
  unsupported_typ: true,
  unsupported_crit: true,
  unencoded_payload: true,
  invalid_kid: true,
  unknown_kid: true,
  ambiguous_key: true,
  key_mismatch: true,
  weak_key: true,
  signature_invalid: true,
  id_token: true,
  userinfo_audience_only: true,
  audience_mismatch: true,
  issuer_mismatch: true,
  missing_claim: true,
  invalid_claim: true,
  claims_too_deep: true,
  token_expired: true,
  token_not_yet_valid: true,
  insufficient_scope: false,
  issuer_unavailable: false,
  issuer_misconfigured: false,
  unsupported_context: false,
  malformed_mcp_request: false,
  token_rejected_by_issuer: true,
  token_inactive: true,
  userinfo_subject_mismatch: true,
  userinfo_sender_constrained: false,
  sender_constrained_token: true,
  // Checks of how the token was presented (lib/binding), made after the cache: never cached.
  dpop_required: false,
  dpop_token_not_bound: false,
  unsupported_cnf: false,
  certificate_missing: false,
  certificate_mismatch: false,
  certificate_header_malformed: false,
  replay_store_unavailable: false,
  replay_cache_full: false,
  dpop_proof_missing: false,
  dpop_proof_multiple: false,
  dpop_proof_malformed: false,
  dpop_proof_typ: false,
  dpop_proof_alg: false,
  dpop_proof_jwk: false,
  dpop_proof_signature: false,
  dpop_proof_htm: false,
  dpop_proof_htu: false,
  dpop_proof_iat: false,
  dpop_proof_jti: false,
  dpop_proof_replayed: false,
  dpop_replay_share_exceeded: false,
  dpop_proof_ath: false,
  dpop_key_mismatch: false,
  dpop_nonce_required: false,
  // Claim rules run on every request, after the caches: never cached.
  claim_rule_failed: false,
  // Step-up refusals depend on the route (and auth_time on the clock), never on the token alone.
  acr_missing: false,
  acr_not_accepted: false,
  acr_invalid: false,
  auth_time_missing: false,
  auth_time_invalid: false,
  authentication_too_old: false,
};

/** An entry's size as JSON; one that cannot be measured counts as too large to keep. */
function entrySize(entry: unknown, maxBytes: number): number {
  try {
    return Math.max(1, JSON.stringify(entry).length);
  } catch {
    return maxBytes + 1;
  }
}
