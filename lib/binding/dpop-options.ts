import { AuthOptionsError } from '../errors/auth-options-error';
/** How an API treats DPoP (RFC 9449): accepted beside bearer tokens, required, or ignored. */
export type DpopMode = 'allowed' | 'required' | 'disabled';

/**
 * Server nonces (RFC 9449 §8, §9): every proof must carry a nonce the API issued. Nonces are an
 * HMAC of a time step under `secret`, so every instance sharing the secret accepts the others'
 * nonces without a store.
 */
export interface DpopNonceOptions {
  /**
   * The secret nonces are derived from, at least 32 bytes, the same on every instance. Kept out of
   * the injectable options.
   */
  secret: string | Uint8Array;
  /**
   * Seconds each nonce is current; a nonce of the previous step is accepted too, so a nonce lives
   * between one and two steps.
   * @default 300
   */
  rotateSeconds?: number;
}

/** Options of DPoP-bound tokens (RFC 9449): the `dpop` option of {@link AuthModuleOptions}. */
export interface DpopOptions {
  /**
   * `allowed`: `Authorization: DPoP` with a proof, and bearer tokens that are not bound, are both
   * accepted. `required`: only DPoP. `disabled`: the DPoP scheme is not recognised and every bound
   * token is refused.
   * @default 'allowed'
   */
  mode?: DpopMode;
  /**
   * Signature algorithms accepted for proofs, compared case-sensitively; asymmetric only.
   * @default ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'PS256', 'RS256']
   */
  algorithms?: string[];
  /**
   * How far a proof's `iat` may be from now, either way, in seconds (plus `clockTolerance`). A
   * proof's `jti` is remembered that long, to refuse its replay.
   * @default 300
   */
  iatWindowSeconds?: number;
  /** Server nonces; off unless set. */
  nonce?: DpopNonceOptions;
  /**
   * The API's public base URL (`https://api.example.com`, or with a path prefix that a proxy
   * strips), from which a proof's `htu` is expected: `publicBaseUrl` + the request's path. Set it
   * behind a proxy or load balancer that changes the scheme, host or path.
   * @default built from the request: `http`/`https` from the connection, the `Host` header and the path
   */
  publicBaseUrl?: string;
  /**
   * Take the scheme and host of the expected `htu` from `X-Forwarded-Proto` and
   * `X-Forwarded-Host` (their first values). Only behind a proxy that sets them and strips any a
   * client sent: otherwise a client chooses them.
   * @default false
   */
  trustForwardedHeaders?: boolean;
  /**
   * Most proof `jti`s remembered in process (beside the shared `cache.store`, when set). Without a
   * store, one key holds at most half of them: its proofs beyond are refused for it alone (401
   * `dpop_replay_share_exceeded`), so that no client can fill the cache for all.
   * @default 100000
   */
  maxReplayEntries?: number;
}

/** The DPoP options after validation, with defaults: what `ResolvedAuthOptions.dpop` holds. */
export interface ResolvedDpopOptions {
  mode: DpopMode;
  algorithms: string[];
  iatWindowSeconds: number;
  /** Nonce rotation, or `false` when nonces are off (the secret is not kept here). */
  nonce: { rotateSeconds: number } | false;
  publicBaseUrl?: string;
  trustForwardedHeaders: boolean;
  maxReplayEntries: number;
}

/** The proof algorithms this library can check (asymmetric JWS algorithms, checked by node:crypto). */
export const DPOP_SUPPORTED_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
] as const;

export type DpopAlgorithm = (typeof DPOP_SUPPORTED_ALGORITHMS)[number];

export const DEFAULT_DPOP_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'PS256', 'RS256'];

const OPTION_NAMES = new Set([
  'mode',
  'algorithms',
  'iatWindowSeconds',
  'nonce',
  'publicBaseUrl',
  'trustForwardedHeaders',
  'maxReplayEntries',
]);

/**
 * Validates the `dpop` option and fills in its defaults; a bad value throws an `AuthOptionsError`
 * that names it.
 */
export function resolveDpopOptions(value: unknown): ResolvedDpopOptions {
  if (value === undefined) value = {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AuthOptionsError(
      'dpop',
      'must be an object of DPoP options ({ mode, algorithms, ... })',
    );
  }
  const options = value as Record<string, unknown>;
  const unknown = Object.keys(options).find((key) => !OPTION_NAMES.has(key));
  if (unknown) {
    throw new AuthOptionsError(
      `dpop.${unknown}`,
      `is not an option; the options here are ${[...OPTION_NAMES].join(', ')}`,
    );
  }
  const mode = options.mode ?? 'allowed';
  if (mode !== 'allowed' && mode !== 'required' && mode !== 'disabled') {
    throw new AuthOptionsError('dpop.mode', "must be 'allowed', 'required' or 'disabled'");
  }
  const algorithms = options.algorithms ?? DEFAULT_DPOP_ALGORITHMS;
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    throw new AuthOptionsError('dpop.algorithms', 'must be a non-empty array of algorithm names');
  }
  const supported: readonly unknown[] = DPOP_SUPPORTED_ALGORITHMS;
  const unsupported = algorithms.filter((alg) => !supported.includes(alg));
  if (unsupported.length > 0) {
    throw new AuthOptionsError(
      'dpop.algorithms',
      `${unsupported.map(String).join(', ')} not supported for proofs; choose from ` +
        `${DPOP_SUPPORTED_ALGORITHMS.join(', ')} (never none or HMAC: a proof is signed with the client's private key)`,
    );
  }
  const iatWindowSeconds = options.iatWindowSeconds ?? 300;
  if (!isNumberIn(iatWindowSeconds, 1, 3600)) {
    throw new AuthOptionsError('dpop.iatWindowSeconds', 'must be a number from 1 to 3600');
  }
  const maxReplayEntries = options.maxReplayEntries ?? 100_000;
  if (!isNumberIn(maxReplayEntries, 100, 10_000_000)) {
    throw new AuthOptionsError('dpop.maxReplayEntries', 'must be a number from 100 to 10000000');
  }
  const trustForwardedHeaders = options.trustForwardedHeaders ?? false;
  if (typeof trustForwardedHeaders !== 'boolean') {
    throw new AuthOptionsError('dpop.trustForwardedHeaders', 'must be true or false');
  }
  const publicBaseUrl = options.publicBaseUrl;
  if (publicBaseUrl !== undefined) {
    const problem = baseUrlProblem(publicBaseUrl);
    if (problem) throw new AuthOptionsError('dpop.publicBaseUrl', problem);
  }
  const nonce = resolveNonce(options.nonce);
  return {
    mode,
    algorithms: [...(algorithms as string[])],
    iatWindowSeconds,
    nonce,
    ...(publicBaseUrl !== undefined
      ? { publicBaseUrl: (publicBaseUrl as string).replace(/\/+$/, '') }
      : {}),
    trustForwardedHeaders,
    maxReplayEntries,
  };
}

function resolveNonce(value: unknown): ResolvedDpopOptions['nonce'] {
  if (value === undefined) return false;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AuthOptionsError('dpop.nonce', 'must be { secret, rotateSeconds? }');
  }
  const { secret, rotateSeconds = 300, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra)
    throw new AuthOptionsError(
      `dpop.nonce.${extra}`,
      'is not an option; the options here are secret, rotateSeconds',
    );
  if (nonceSecretBytes(secret) < 32) {
    throw new AuthOptionsError(
      'dpop.nonce.secret',
      'must be a string or bytes of at least 32 bytes, the same on every instance (for example 32 random bytes, base64)',
    );
  }
  if (!isNumberIn(rotateSeconds, 10, 86_400)) {
    throw new AuthOptionsError('dpop.nonce.rotateSeconds', 'must be a number from 10 to 86400');
  }
  return { rotateSeconds };
}

/** The length in bytes of a nonce secret, or 0 when it is not a string or bytes. */
export function nonceSecretBytes(secret: unknown): number {
  if (typeof secret === 'string') return Buffer.byteLength(secret);
  if (secret instanceof Uint8Array) return secret.byteLength;
  return 0;
}

function baseUrlProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a string such as https://api.example.com';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL such as https://api.example.com';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http or https URL';
  if (url.search || url.hash || url.username || url.password) {
    return 'must have no query, fragment or credentials';
  }
  return undefined;
}

function isNumberIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
}
