import { Logger, type INestApplicationContext } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { IS_PUBLIC_KEY, OPTIONAL_AUTH_KEY, RESOLVED_AUTH_OPTIONS } from '../auth.constants';
import type { AuthUser } from '../token/auth-user';
import { AuthError, IssuerUnavailableError } from '../errors/auth-error';
import type { ChallengeOptions } from '../errors/www-authenticate';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options';
import { extractBearerToken, missingTokenError, type TokenSource } from '../token/extract-token';
import { tokenExpired } from '../token/validate-claims';
import { AccessTokenVerifier } from '../verifier/access-token.verifier';

/** @nestjs/websockets' metadata keys (read as strings: this file must not load the package). */
const GATEWAY_METADATA = 'websockets:is_gateway';
const GATEWAY_OPTIONS = 'websockets:gateway_options';

/** Longest delay `setTimeout` takes (about 24.8 days); longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a gateway's handshake is addressed to: a socket.io namespace, or a ws path. */
export type GatewayTarget = { namespace: string } | { path: string };

/** What a handshake needs: nothing (`@Public()`), a valid token if any (`@OptionalAuth()`), a token. */
export type HandshakeAccess = 'public' | 'optional' | 'required';

interface GatewayEntry {
  access: HandshakeAccess;
  namespace: unknown;
  path: unknown;
}

/**
 * Authenticates WebSocket handshakes for the adapters (`AuthIoAdapter`, `AuthWsAdapter`): the
 * token is extracted and verified by the same code as the guard's, before any message, and the
 * connection's end is scheduled at the token's expiry. Gateways marked `@Public()` (on the class)
 * stay open; a handshake the authenticator cannot attribute to public gateways only is verified.
 */
export class HandshakeAuthenticator {
  private readonly logger = new Logger('WebSocketAuth');
  private resolved?: {
    verifier: AccessTokenVerifier;
    options: ResolvedAuthOptions;
    gateways: GatewayEntry[];
  };

  constructor(private readonly app: INestApplicationContext) {}

  /** The verifier, options and gateways of the app, read once its modules exist. */
  private get parts() {
    if (this.resolved) return this.resolved;
    const verifier = this.app.get(AccessTokenVerifier, { strict: false });
    const options = this.app.get<ResolvedAuthOptions>(RESOLVED_AUTH_OPTIONS, { strict: false });
    const gateways: GatewayEntry[] = [];
    for (const module of this.app.get(ModulesContainer, { strict: false }).values()) {
      for (const wrapper of module.providers.values()) {
        const type = wrapper.metatype as object | null | undefined;
        if (typeof type !== 'function' || !Reflect.getMetadata(GATEWAY_METADATA, type)) continue;
        const gatewayOptions = (Reflect.getMetadata(GATEWAY_OPTIONS, type) ?? {}) as {
          namespace?: unknown;
          path?: unknown;
        };
        gateways.push({
          access:
            Reflect.getMetadata(IS_PUBLIC_KEY, type) === true
              ? 'public'
              : Reflect.getMetadata(OPTIONAL_AUTH_KEY, type) === true
                ? 'optional'
                : 'required',
          namespace: gatewayOptions.namespace,
          path: gatewayOptions.path,
        });
      }
    }
    return (this.resolved = { verifier, options, gateways });
  }

  /**
   * What a handshake to `target` needs, from the class decorators of the gateways there: the
   * strictest of them (fail-closed: no gateway found, or a namespace matched by a function, which
   * cannot be evaluated here, requires a token).
   */
  access(target: GatewayTarget): HandshakeAccess {
    const there = this.parts.gateways.filter((gateway) =>
      'namespace' in target
        ? (namespaceMatches(gateway.namespace, target.namespace) ?? gateway.access === 'required')
        : normalisePath(gateway.path) === normalisePath(target.path),
    );
    if (there.length === 0 || there.some((gateway) => gateway.access === 'required'))
      return 'required';
    return there.some((gateway) => gateway.access === 'optional') ? 'optional' : 'public';
  }

  /**
   * The verified user of the token `source` carries, and the token; throws an `AuthError`. With
   * `access` `optional`, a handshake without a token is anonymous (`undefined`); `public` needs none.
   */
  async authenticate(
    source: () => TokenSource,
    access: HandshakeAccess,
  ): Promise<{ user: AuthUser; token: string } | undefined> {
    if (access === 'public') return undefined;
    const { verifier, options } = this.parts;
    const tokenSource = source();
    const token = extractBearerToken(tokenSource, options);
    if (token === undefined && access === 'optional') return undefined;
    if (token === undefined) {
      throw missingTokenError(
        tokenSource,
        'This WebSocket gateway requires a bearer access token in the handshake ' +
          '(socket.io: auth.token; otherwise the Authorization header).',
      );
    }
    return { user: await verifier.verify(token), token };
  }

  /** Turns an error met during a handshake into a refusal (a bug is logged, never let through). */
  refusalOf(error: unknown): AuthError {
    if (error instanceof AuthError) return error;
    this.logger.error(
      `Handshake refused on an unexpected error: ${error instanceof Error ? error.name : typeof error}`,
    );
    return new IssuerUnavailableError('The handshake could not be authenticated; retry later.');
  }

  /** What the app's challenges carry (realm, ...). */
  get challenge(): ChallengeOptions {
    return this.parts.options;
  }

  /**
   * Ends a connection when its token does: `end` is called at the token's `exp` plus the clock
   * tolerance. A token without `exp` (opaque, checked by userinfo) is verified again each time the
   * cache would ask the provider again (`cache.ttlSeconds`), and the connection ends when it is no
   * longer accepted. One timer per connection; call the returned function on disconnect.
   */
  watchExpiry(user: AuthUser, token: string, end: (error: AuthError) => void): () => void {
    const { verifier, options } = this.parts;
    const exp = (user.claims as { exp?: unknown }).exp;
    const deadline =
      typeof exp === 'number' ? (exp + options.clockToleranceSeconds) * 1000 : undefined;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const schedule = (at: number) => {
      timer = setTimeout(check, Math.min(Math.max(at - Date.now(), 0), MAX_TIMER_MS));
      timer.unref();
    };
    const check = async () => {
      if (deadline !== undefined) {
        if (Date.now() >= deadline) end(tokenExpired(exp as number));
        else schedule(deadline);
        return;
      }
      try {
        await verifier.verify(token);
        if (!stopped) schedule(Date.now() + options.cache.ttlMs);
      } catch (error) {
        if (!stopped) end(this.refusalOf(error));
      }
    };
    schedule(deadline ?? Date.now() + options.cache.ttlMs);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }
}

/** Whether a gateway's namespace option matches `namespace`; `undefined` when it cannot be told. */
function namespaceMatches(gatewayNamespace: unknown, namespace: string): boolean | undefined {
  if (gatewayNamespace === undefined || gatewayNamespace === '') return namespace === '/';
  if (typeof gatewayNamespace === 'string')
    return gatewayNamespace.replace(/^\/?/, '/') === namespace;
  // A fresh RegExp: a `g` or `y` flag would make test() stateful.
  if (gatewayNamespace instanceof RegExp)
    return new RegExp(gatewayNamespace.source, gatewayNamespace.flags.replace(/[gy]/g, '')).test(
      namespace,
    );
  return undefined;
}

function normalisePath(path: unknown): string {
  if (typeof path !== 'string' || path === '') return '/';
  return `/${path.replace(/^\/+|\/+$/g, '')}`;
}
