import { Logger, type OnModuleInit } from '@nestjs/common';
import type { AuthUser } from '../token/auth-user';
import { IssuerUnavailableError } from '../errors/auth-error';
import type { TokenResultCache, LookupResult } from '../cache/token-result-cache';
import type { FetchLimits } from '../issuer/fetch-json';
import {
  misconfiguration,
  type IssuerDiscovery,
  type IssuerMetadata,
} from '../issuer/issuer-discovery';
import { copyJson } from '../token/copy-json';
import { tokenHash } from '../token/token-hash';
import { grantedScopes } from '../token/scopes';
import { introspectToken, type IntrospectionCredentials } from './introspection-client';
import { MalformedAnswerError } from './malformed-answer';
import type { UpstreamLimiter } from './upstream-limiter';
import { requestUserinfo } from './userinfo-client';
import { validateIntrospection } from './validate-introspection';

/** What the opaque-token verifier needs of the options. */
export interface OpaqueVerifierOptions {
  opaqueTokens?: 'userinfo' | 'introspection';
  issuer: string;
  audiences: readonly string[];
  clockToleranceSeconds: number;
  /** The resources beside the API: an introspection answer may name one of them in `aud`. */
  resources?: Readonly<Record<string, { resource: string }>>;
}

/**
 * Checks opaque access tokens with the identity provider (userinfo or RFC 7662 introspection),
 * through the token cache and the opaque-token budget of upstream calls (a budget of its own: these
 * calls are made for callers nobody has verified yet).
 */
export class OpaqueTokenVerifier implements OnModuleInit {
  private readonly logger = new Logger('OpaqueTokenVerifier');
  /** What an introspection answer's `aud` may name: the API's audiences, then every resource's. */
  private readonly acceptedAudiences: readonly string[];

  constructor(
    private readonly options: OpaqueVerifierOptions,
    private readonly discovery: IssuerDiscovery,
    private readonly cache: TokenResultCache<AuthUser>,
    private readonly limiter: UpstreamLimiter,
    private readonly limits: FetchLimits,
    /** The introspection client's credentials: kept here, never in the injectable options. */
    private readonly credentials?: IntrospectionCredentials,
  ) {
    const resources = Object.values(options.resources ?? {}).map((r) => r.resource);
    this.acceptedAudiences = [...options.audiences, ...resources];
  }

  /** Whether opaque tokens are accepted at all. */
  get enabled(): boolean {
    return this.options.opaqueTokens !== undefined;
  }

  /** Says once, at startup, what the userinfo mode cannot tell (see docs/opaque-tokens.md). */
  onModuleInit(): void {
    if (this.options.opaqueTokens !== 'userinfo') return;
    this.logger.warn(
      "opaqueTokens: 'userinfo' accepts any token that the provider's /userinfo accepts, on routes " +
        'without @Scopes(), including tokens issued to other applications of the same tenant: ' +
        '/userinfo says nothing of the audience. Protect sensitive routes with @Scopes(), and have ' +
        `clients request tokens with audience=${this.options.audiences[0]}.`,
    );
  }

  /** The user of an opaque token; a copy of its own per request, the cached one stays untouched. */
  async verify(token: string): Promise<AuthUser> {
    const user = await this.cache.resolve(token, () => this.limiter.run(() => this.lookup(token)));
    return copyJson(user);
  }

  private async lookup(token: string): Promise<LookupResult<AuthUser>> {
    const hash = tokenHash(token);
    try {
      return await this.ask(token, hash);
    } catch (error) {
      if (error instanceof MalformedAnswerError) logMalformedAnswer(this.logger, hash, error);
      throw error;
    }
  }

  private async ask(token: string, hash: string): Promise<LookupResult<AuthUser>> {
    if (this.options.opaqueTokens === 'introspection') {
      const endpoint = await endpointOf(this.discovery, 'introspectionEndpoint');
      const response = await introspectToken(endpoint, token, this.credentials!, this.limits);
      // Which resource the token is for is checked per route, by the verifier (after the cache).
      const policy = { ...this.options, audiences: this.acceptedAudiences };
      const claims = validateIntrospection(response, policy, Math.floor(Date.now() / 1000));
      return {
        value: {
          sub: claims.sub,
          scopes: [...grantedScopes(claims)],
          tokenType: 'opaque',
          tokenHash: hash,
          claims,
        },
        ...(claims.exp !== undefined ? { expiresAtMs: claims.exp * 1000 } : {}),
      };
    }
    const endpoint = await endpointOf(this.discovery, 'userinfoEndpoint');
    const profile = await requestUserinfo(endpoint, token, this.limits);
    return {
      value: {
        sub: profile.sub,
        scopes: [],
        tokenType: 'opaque',
        tokenHash: hash,
        claims: profile,
        profile,
      },
    };
  }
}

/** Logs, once for the answer and with the token's hash only, that the provider answered garbage. */
export function logMalformedAnswer(
  logger: Pick<Logger, 'warn'>,
  hash: string,
  error: MalformedAnswerError,
): void {
  logger.warn(`Refused token ${hash} with 503: ${error.message}`);
}

/** An endpoint of the issuer's metadata; 503 when discovery fails or the provider has none. */
export async function endpointOf(
  discovery: IssuerDiscovery,
  name: 'userinfoEndpoint' | 'introspectionEndpoint',
): Promise<string> {
  let metadata: IssuerMetadata;
  try {
    metadata = await discovery.getMetadata();
  } catch (error) {
    throw (
      misconfiguration(error) ??
      new IssuerUnavailableError(
        'The identity provider could not be reached for its metadata; try again shortly.',
        5,
        { cause: error },
      )
    );
  }
  const endpoint = metadata[name];
  if (!endpoint) {
    throw new IssuerUnavailableError(
      `The identity provider publishes no ${name === 'userinfoEndpoint' ? 'userinfo_endpoint' : 'introspection_endpoint'}; ` +
        `configure ${name === 'userinfoEndpoint' ? 'userinfoEndpoint' : 'introspection.endpoint'}.`,
      60,
    );
  }
  return endpoint;
}
