import type { KeyObject } from 'node:crypto';
import { InvalidTokenError } from '../errors/auth-error';
import { isHmacAlgorithm, type CheckedHeader } from '../token/check-jwt-header';
import { describeValue } from '../token/describe-value';
import { issuerMismatch, type ClaimPolicy } from '../token/validate-claims';
import type { IssuerDiscovery } from './issuer-discovery';
import type { JwksKeyStore, KeyStanding, KeyStoreHealth } from './jwks-key-store';
import type { ResolvedIssuer } from './issuer-options';

/** What the trusted issuers need of the options: the issuers, and their tokens' claim policy. */
export interface TrustedIssuersOptions {
  perIssuer: readonly ResolvedIssuer[];
  clockToleranceSeconds: number;
  strict: boolean;
  /**
   * The resources beside the API (`resources`): their identifiers are accepted in `aud` too, and
   * the verifier then checks that a token's audience is the one of the route's resource.
   */
  resources?: Readonly<Record<string, { resource: string }>>;
}

/** How the discovery and the key store of one issuer are made (by the module, with its limits). */
export interface IssuerFactories {
  discovery(issuer: ResolvedIssuer): IssuerDiscovery;
  keyStore(discovery: IssuerDiscovery): JwksKeyStore;
}

/** One trusted issuer: the claims its tokens must carry, and its discovery and keys, made lazily. */
export class TrustedIssuer {
  readonly policy: ClaimPolicy;
  private madeDiscovery?: IssuerDiscovery;
  private madeKeys?: JwksKeyStore;

  constructor(
    readonly settings: ResolvedIssuer,
    options: Pick<TrustedIssuersOptions, 'clockToleranceSeconds' | 'strict' | 'resources'>,
    private readonly factories: IssuerFactories,
  ) {
    this.policy = {
      issuer: settings.issuer,
      // The API's audiences first (the refusals name the first), then every resource's.
      audiences: [
        ...settings.audiences,
        ...Object.values(options.resources ?? {}).map((r) => r.resource),
      ],
      clockToleranceSeconds: options.clockToleranceSeconds,
      strict: options.strict,
    };
  }

  get issuer(): string {
    return this.settings.issuer;
  }

  /** Its discovery, made on first use. */
  get discovery(): IssuerDiscovery {
    return (this.madeDiscovery ??= this.factories.discovery(this.settings));
  }

  /** Its key store, made on first use. */
  get keys(): JwksKeyStore {
    return (this.madeKeys ??= this.factories.keyStore(this.discovery));
  }

  /** Its key store when a token of this issuer made it: asks nothing of the network. */
  get keysIfMade(): JwksKeyStore | undefined {
    return this.madeKeys;
  }
}

/** What a readiness probe learns of one issuer. */
export interface IssuerHealth extends KeyStoreHealth {
  issuer: string;
}

/**
 * The issuers this API trusts (`issuerUrl`, one or a list) and where each one's signature keys
 * come from: its own JWKS, or the module's HMAC secret. A token is checked only with the keys of
 * the issuer its `iss` names, exactly; a token of an unlisted issuer is refused before any key is
 * looked up, so it never causes a network call. One discovery and one key store per listed issuer
 * at most, each made on its first token.
 */
export class TrustedIssuers {
  private readonly byIssuer = new Map<string, TrustedIssuer>();
  /** In the order of `issuerUrl`. */
  readonly all: readonly TrustedIssuer[];

  constructor(
    options: TrustedIssuersOptions,
    factories: IssuerFactories,
    /** The HMAC secret (`secret`): kept here, never in the injectable options. */
    private readonly secret?: KeyObject,
  ) {
    this.all = options.perIssuer.map((settings) => new TrustedIssuer(settings, options, factories));
    for (const trusted of this.all) this.byIssuer.set(trusted.issuer, trusted);
  }

  /** The first issuer of the list (the only one, unless several are listed). */
  get first(): TrustedIssuer {
    return this.all[0];
  }

  /** Whether several issuers are trusted (a token's `iss` then chooses among them). */
  get several(): boolean {
    return this.all.length > 1;
  }

  /** The issuer named exactly `iss`, when it is trusted. */
  find(iss: unknown): TrustedIssuer | undefined {
    return typeof iss === 'string' ? this.byIssuer.get(iss) : undefined;
  }

  /**
   * The issuer a token's payload names in `iss` (read before the signature is checked, only to
   * choose whose keys check it), or a refusal naming the accepted issuers. With one issuer, that
   * one: its claims check compares `iss` after the signature, as always.
   */
  select(payload: unknown): TrustedIssuer {
    if (!this.several) return this.first;
    const iss =
      typeof payload === 'object' && payload !== null && !Array.isArray(payload)
        ? (payload as Record<string, unknown>).iss
        : undefined;
    const found = this.find(iss);
    if (found) return found;
    if (iss === undefined) {
      throw new InvalidTokenError(
        'missing_claim',
        'The token has no iss claim; this API accepts tokens of several issuers and needs iss to ' +
          `know whose keys sign them (accepted: ${this.describe()}).`,
      );
    }
    if (typeof iss !== 'string') {
      throw new InvalidTokenError('invalid_claim', "The token's iss claim must be a string.");
    }
    return this.refuse(iss);
  }

  /** The refusal of a token of an issuer that is not listed. */
  refuse(iss: unknown): never {
    if (!this.several) throw issuerMismatch(iss, this.first.issuer);
    throw new InvalidTokenError(
      'issuer_mismatch',
      `The token's issuer "${describeValue(iss)}" is not one this API accepts ` +
        `(accepted: ${this.describe()}).`,
    );
  }

  /** The key for this header when it is at hand without waiting (see `JwksKeyStore.getCachedKey`). */
  cachedKey(trusted: TrustedIssuer, header: CheckedHeader): KeyObject | undefined {
    if (this.secret) return this.secretFor(header);
    if (isHmacAlgorithm(header.alg)) return undefined;
    return trusted.keys.getCachedKey(header);
  }

  /** The key that verifies a token of `trusted` with this header, or a refusal saying why not. */
  async key(trusted: TrustedIssuer, header: CheckedHeader): Promise<KeyObject> {
    if (this.secret) return this.secretFor(header);
    if (isHmacAlgorithm(header.alg)) throw hmacWithoutSecret(header.alg);
    return trusted.keys.getKey(header);
  }

  /**
   * Whether `key` still verifies tokens of the issuer named `iss`, at `now`, for the verified-token
   * cache: see `JwksKeyStore.keyStanding` (`'due'`: verify the token as if uncached).
   */
  keyStanding(iss: unknown, key: KeyObject, now = Date.now()): KeyStanding {
    if (this.secret) return key === this.secret ? 'current' : 'gone';
    const trusted = this.several ? this.find(iss) : this.first;
    return trusted?.keysIfMade?.keyStanding(key, now) ?? 'gone';
  }

  /**
   * Each issuer's keys, for readiness probes (see `JwksKeyStore.health()`); the first fetch of an
   * issuer no token named yet is made here. With a secret, nothing is fetched: `[]`.
   */
  health(): Promise<IssuerHealth[]> {
    if (this.secret) return Promise.resolve([]);
    return Promise.all(
      this.all.map(async (trusted) => ({
        issuer: trusted.issuer,
        ...(await trusted.keys.health()),
      })),
    );
  }

  private secretFor(header: CheckedHeader): KeyObject {
    // The header check admits only the HMAC algorithms of `algorithms` with a secret; this is the
    // second lock: never an asymmetric algorithm with the secret.
    if (!isHmacAlgorithm(header.alg)) {
      throw new InvalidTokenError(
        'alg_not_allowed',
        `The access token is signed with alg "${header.alg}", but this API verifies HMAC tokens ` +
          'with its secret only.',
      );
    }
    return this.secret!;
  }

  private describe(): string {
    return this.all.map((trusted) => trusted.issuer).join(', ');
  }
}

function hmacWithoutSecret(alg: string): InvalidTokenError {
  return new InvalidTokenError(
    'alg_not_allowed',
    `The access token is signed with alg "${alg}", which this API does not accept without a secret.`,
  );
}
