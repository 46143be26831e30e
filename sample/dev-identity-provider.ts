import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import type * as OidcProvider from 'oidc-provider';
import { boundedMemoryAdapter } from './dev-identity-provider-store';
import {
  auth0LogoutRoute,
  interactionPages,
  logoutSource,
  MULTI_FACTOR_ACR,
  postLogoutSuccessSource,
  profileOfSubject,
  renderError,
} from './dev-identity-provider-pages';

export { MULTI_FACTOR_ACR };

/** Whether loading oidc-provider met its notice of an unsupported Node.js (said in our line). */
let runtimeNotice = false;

/**
 * oidc-provider, loaded on first use. It warns on the console at import on a Node.js other than
 * 22 LTS or later, with no option to turn that off: that one message is kept from the console
 * while it loads (every other passes), and the provider's startup line says it instead.
 */
// oxlint-disable no-console -- the console is where oidc-provider writes the notice filtered here
function loadOidcProvider(): typeof OidcProvider {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (String(args[0]).includes('oidc-provider WARNING: Unsupported runtime')) {
      runtimeNotice = true;
      return;
    }
    warn.apply(console, args);
  };
  try {
    return require('oidc-provider') as typeof OidcProvider;
  } finally {
    console.warn = warn;
  }
}
// oxlint-enable no-console

/** DEVELOPMENT ONLY: a real OpenID provider (oidc-provider) set up like an Auth0 tenant. */
export interface DevIdentityProvider {
  /** The issuer URL, with a trailing slash as Auth0's, e.g. http://127.0.0.1:41234/ */
  issuer: string;
  /** The tenant's "domain" for auth0-spa-js: the issuer's origin, e.g. http://127.0.0.1:41234 */
  domain: string;
  /** The registered Single Page Application (public client, PKCE), when `spaOrigins` are given. */
  spaClientId: string;
  /** The development client for the client-credentials grant. */
  clientId: string;
  clientSecret: string;
  /** The API's own credentials at the provider, for RFC 7662 introspection. */
  introspectionClient: { clientId: string; clientSecret: string };
  /** The development user's profile, as /userinfo returns it. */
  user: { sub: string; email: string; name: string };
  /** Mints a JWT access token for the API through the real token endpoint. */
  getAccessToken(scope?: string): Promise<string>;
  /**
   * Mints an opaque access token for the development user, as Auth0 issues when the client asks
   * for no audience: only /userinfo accepts it. With `forApi`, it is bound to the API (audience)
   * and carries `scope`, as introspecting providers issue them.
   */
  getOpaqueToken(options?: { forApi?: boolean; scope?: string }): Promise<string>;
  close(): Promise<void>;
}

export interface DevIdentityProviderOptions {
  /** The API identifier, issued as the token's `aud` (Auth0: the API's Identifier). */
  audience: string;
  /** Port to listen on, on 127.0.0.1; 0 picks a free one. */
  port?: number;
  /** Scopes the API defines. */
  scopes?: string[];
  /**
   * Origins of a browser sign-in page (e.g. http://localhost:3000): registers a Single Page
   * Application for them, with `ORIGIN/` as its callback and sign-out URL and ORIGIN as a web origin.
   */
  spaOrigins?: string[];
  /**
   * An MCP server the provider stands in front of, as the MCP authorization specification sets an
   * authorization server up: RFC 8414 metadata, open dynamic client registration (RFC 7591) for
   * loopback redirect URIs, PKCE, and JWT access tokens for `resource` (RFC 8707) with `scopes`.
   * Registered clients get no refresh token, and a registration's `scope` limits nothing.
   */
  mcp?: {
    /** The MCP endpoint's resource identifier, its URL, e.g. http://localhost:3000/mcp */
    resource: string;
    /** The scopes its tools need. @default the API's `scopes` */
    scopes?: string[];
  };
}

/** The registered Single Page Application's client id (Auth0: Applications > your SPA > Client ID). */
const SPA_CLIENT_ID = 'dev-spa';

/** Hosts of the redirect URIs a dynamically registered client may have (RFC 8252 §7.3 loopback). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Auth0's endpoint paths, so that auth0-spa-js finds the embedded provider where it finds a tenant's. */
const AUTH0_ROUTES = {
  authorization: '/authorize',
  token: '/oauth/token',
  userinfo: '/userinfo',
  jwks: '/.well-known/jwks.json',
  revocation: '/oauth/revoke',
  end_session: '/oidc/logout',
  registration: '/oidc/register',
};

/** The values of an `acr_values` parameter (space-separated), or none. */
function requestedAcrValues(value: unknown): string[] {
  return typeof value === 'string' ? value.split(' ').filter(Boolean) : [];
}

/** Path of the development-only route that mints an opaque token (POST, with the client secret). */
export const OPAQUE_TOKEN_PATH = '/dev/opaque-token';

/**
 * Starts an embedded development identity provider on 127.0.0.1: `oidc-provider`, configured like an
 * Auth0 tenant whose API identifier is `audience` (a resource indicator, so that it issues JWT
 * access tokens, typ at+jwt, RS256) with a development client for the client-credentials grant,
 * a development user for opaque tokens and /userinfo, and introspection. With `mcp`, it is also the
 * authorization server of an MCP endpoint (dynamic registration, PKCE, its own resource tokens); a
 * request with `acr_values` naming MULTI_FACTOR_ACR gets a multi-factor sign-in (step-up).
 * Refuses to start when NODE_ENV is production.
 */
export async function startDevIdentityProvider(
  options: DevIdentityProviderOptions,
): Promise<DevIdentityProvider> {
  if (process.env.NODE_ENV === 'production') {
    throw new Error(
      'The embedded development identity provider refuses to run with NODE_ENV=production.',
    );
  }
  const scopes = options.scopes ?? ['read:messages'];
  const mcp = options.mcp && {
    resource: options.mcp.resource,
    scopes: options.mcp.scopes ?? scopes,
  };
  const resourceScopes = [...new Set([...scopes, ...(mcp?.scopes ?? [])])];
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const domain = `http://127.0.0.1:${port}`;
  // Auth0 issuers end with a slash (auth0-spa-js expects `${domain}/` as the ID token's iss).
  const issuer = `${domain}/`;
  const spaOrigins = options.spaOrigins ?? [];
  const clientId = 'dev-client';
  const clientSecret = randomBytes(24).toString('base64url');
  const introspectionClient = {
    clientId: 'dev-api',
    clientSecret: randomBytes(24).toString('base64url'),
  };
  const user = { sub: 'dev-user', email: 'dev-user@example.com', name: 'Dev User' };
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = {
    ...privateKey.export({ format: 'jwk' }),
    kid: `dev-${randomBytes(4).toString('hex')}`,
    use: 'sig',
    alg: 'RS256',
  };

  const { default: Provider, errors, interactionPolicy } = loadOidcProvider();
  const allScopes = ['openid', 'profile', 'email', ...resourceScopes];

  // Step-up: a signed-in user is asked to sign in again when multi-factor is requested and the
  // session's sign-in was not (acr_values is voluntary to OpenID, so oidc-provider would not ask),
  // once per authorization request: a user who signs in with a password only is not asked again.
  const policy = interactionPolicy.base();
  policy
    .get('login')!
    .checks.add(
      new interactionPolicy.Check(
        'acr_values',
        'a multi-factor sign-in was requested (acr_values)',
        (ctx) =>
          requestedAcrValues(ctx.oidc.params?.acr_values).includes(MULTI_FACTOR_ACR) &&
          ctx.oidc.acr !== MULTI_FACTOR_ACR &&
          !ctx.oidc.result?.login &&
          !ctx.oidc.entities.Interaction?.lastSubmission?.login,
      ),
    );

  const provider = new Provider(issuer, {
    adapter: boundedMemoryAdapter(),
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_post',
        scope: scopes.join(' '),
      },
      {
        client_id: introspectionClient.clientId,
        client_secret: introspectionClient.clientSecret,
        grant_types: [],
        response_types: [],
        redirect_uris: [],
      },
      ...(spaOrigins.length > 0
        ? [
            {
              // Auth0's "Single Page Application": public (no secret), Authorization Code + PKCE.
              client_id: SPA_CLIENT_ID,
              client_name: 'nest-oauth2-bearer sign-in page',
              application_type: 'web' as const,
              token_endpoint_auth_method: 'none' as const,
              grant_types: ['authorization_code'],
              response_types: ['code' as const],
              redirect_uris: spaOrigins.map((origin) => `${origin}/`),
              post_logout_redirect_uris: spaOrigins.map((origin) => `${origin}/`),
            },
          ]
        : []),
    ],
    routes: AUTH0_ROUTES,
    // auth0-spa-js sends Auth0's `audience`; it is read as the RFC 8707 resource (defaultResource).
    extraParams: ['audience'],
    // Auth0's "Allowed Web Origins": the token endpoint answers the SPA's origins only.
    clientBasedCORS: (_ctx, origin, client) =>
      client.clientId === SPA_CLIENT_ID && spaOrigins.includes(origin),
    // As Auth0's, the ID token carries the profile claims of the granted scopes (name, email).
    conformIdTokenClaims: false,
    interactions: { policy },
    acrValues: [MULTI_FACTOR_ACR],
    // PKCE (S256, the only method oidc-provider 9 has) for every authorization request.
    pkce: { required: () => true },
    // RFC 9068 §2.2.1: a user's access token says how (`acr`) and when (`auth_time`) the user
    // signed in, for step-up (RFC 9470) at the resource server.
    extraTokenClaims: (ctx, token) => {
      const code = ctx?.oidc?.entities.AuthorizationCode;
      if (token.kind !== 'AccessToken' || !code) return undefined;
      return {
        ...(code.acr ? { acr: code.acr } : {}),
        ...(code.authTime ? { auth_time: code.authTime } : {}),
      };
    },
    // What a registration asks for, adjusted (RFC 7591 §3.2.1 lets the server replace values);
    // `ctx` is set for registration requests only, never for the static clients.
    extraClientMetadata: {
      properties: ['scope', 'grant_types', 'redirect_uris'],
      validator: (ctx, key, value, metadata) => {
        if (!ctx) return;
        if (key === 'scope') {
          // Registered for every scope: a client steps up by asking for more than it registered.
          metadata.scope = allScopes.join(' ');
        } else if (key === 'grant_types' && Array.isArray(value)) {
          // No refresh token for MCP clients: the SDK refreshes without the new scope and gives up
          // upscoping (typescript-sdk #2255); the answer says so (grant_types without it).
          metadata.grant_types = value.filter((grant) => grant !== 'refresh_token');
        } else if (key === 'redirect_uris' && Array.isArray(value)) {
          for (const uri of value) {
            const url = typeof uri === 'string' ? URL.parse(uri) : null;
            if (url && !LOOPBACK_HOSTS.has(url.hostname)) {
              throw new errors.InvalidRedirectUri(
                `redirect_uris of a registered client must be loopback URLs (http://127.0.0.1:PORT/..., http://localhost:PORT/...); ${url.origin} is not`,
              );
            }
          }
        }
      },
    },
    jwks: { keys: [signingKey] },
    // Every kind oidc-provider has a default for (it prints a notice when it uses one).
    ttl: {
      ClientCredentials: 3600,
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      RefreshToken: 8 * 3600,
      Grant: 8 * 3600,
      // A sign-in has ten minutes to finish; a session at the provider lasts eight hours.
      Interaction: 600,
      Session: 8 * 3600,
      // Flows the provider does not enable; set so that none falls back on a default.
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
      PreAuthorizedCode: 600,
    },
    renderError,
    scopes: allScopes,
    claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
    findAccount: (_ctx, sub) => {
      // The development user, or anyone signed in through the login form (any email address).
      const profile = sub === user.sub ? { ...user } : profileOfSubject(sub);
      return profile ? { accountId: sub, claims: () => ({ ...profile }) } : undefined;
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // Open dynamic client registration (RFC 7591), as MCP clients use, with an MCP server only.
      registration: {
        enabled: mcp !== undefined,
        initialAccessToken: false,
        issueRegistrationAccessToken: false,
      },
      introspection: {
        enabled: true,
        // oidc-provider's default policy, stated: a public client introspects its own tokens only.
        allowedPolicy: async (ctx, client, token) =>
          client.clientAuthMethod !== 'none' || token.clientId === ctx.oidc.client?.clientId,
      },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      resourceIndicators: {
        enabled: true,
        // The SPA gets an access token for the API only when it asks with `audience` (as Auth0:
        // without it, an opaque token for /userinfo); the development client always does.
        defaultResource: (ctx, client, oneOf) => {
          if (oneOf) return oneOf;
          if (client?.clientId !== SPA_CLIENT_ID) return options.audience;
          const audience: unknown = ctx.oidc.params?.audience;
          return typeof audience === 'string' && audience !== '' ? audience : undefined;
        },
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator) => {
          const resourceServer =
            resourceIndicator === options.audience
              ? { audience: options.audience, scopes }
              : resourceIndicator === mcp?.resource
                ? { audience: mcp.resource, scopes: mcp.scopes }
                : undefined;
          if (!resourceServer) throw new errors.InvalidTarget();
          return {
            scope: resourceServer.scopes.join(' '),
            audience: resourceServer.audience,
            accessTokenTTL: 3600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  });

  async function getOpaqueToken({ forApi = false, scope = scopes.join(' ') } = {}) {
    const client = await provider.Client.find(clientId);
    if (!client) throw new Error(`The development client ${clientId} is missing.`);
    const grant = new provider.Grant({ accountId: user.sub, clientId });
    grant.addOIDCScope('openid profile email');
    const grantId = await grant.save();
    const token = new provider.AccessToken({
      accountId: user.sub,
      client,
      grantId,
      scope: forApi ? scope : 'openid profile email',
      gty: 'authorization_code',
    });
    if (forApi) {
      token.resourceServer = new provider.ResourceServer(options.audience, {
        scope,
        audience: options.audience,
        accessTokenFormat: 'opaque',
      });
    }
    return token.save();
  }

  // Development only: lets a developer mint an opaque token with curl (the client secret is required).
  provider.use(async (ctx, next) => {
    if (ctx.path !== OPAQUE_TOKEN_PATH || ctx.method !== 'POST') return next();
    const secret = new URLSearchParams(ctx.querystring).get('client_secret');
    if (secret !== clientSecret) {
      ctx.status = 401;
      ctx.body = { error: 'invalid_client' };
      return undefined;
    }
    ctx.body = { access_token: await getOpaqueToken(), token_type: 'Bearer' };
    return undefined;
  });
  provider.use(interactionPages(provider));
  provider.use(auth0LogoutRoute(AUTH0_ROUTES.end_session));
  server.on('request', provider.callback());
  new Logger('DevIdentityProvider').log(
    `Development identity provider at ${issuer}: its tokens, sessions and grants live in memory ` +
      `and vanish on restart; development only, never in production${runtimeNotice ? ` (oidc-provider supports Node.js 22 LTS or later; this is ${process.version})` : ''}`,
  );

  return {
    issuer,
    domain,
    spaClientId: SPA_CLIENT_ID,
    clientId,
    clientSecret,
    introspectionClient,
    user,
    getOpaqueToken,
    async getAccessToken(scope = scopes.join(' ')) {
      const body = new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
        resource: options.audience,
        ...(scope ? { scope } : {}),
      });
      const response = await fetch(`${domain}${AUTH0_ROUTES.token}`, {
        method: 'POST',
        body,
        signal: AbortSignal.timeout(5000),
      });
      const json = (await response.json()) as { access_token?: string; error_description?: string };
      if (!response.ok || !json.access_token) {
        throw new Error(
          `The development identity provider refused a token: ${json.error_description ?? response.status}`,
        );
      }
      return json.access_token;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
