import type { ExecutionContext } from '@nestjs/common';
import type { WsException } from '@nestjs/websockets';
import { AuthError, InvalidRequestError } from '../errors/auth-error';
import {
  authErrorAnswer,
  stepUpParameters,
  type ChallengeOptions,
  type StepUpParameters,
} from '../errors/www-authenticate';
import type { TokenSource } from '../token/extract-token';
import type { ContextFace, UserCarrier } from './context-face';
import { countHeaders } from './http.face';

/**
 * What a WebSocket client receives for a refusal, on every path: `connect_error`'s `data`
 * (socket.io handshake), the `exception` event (message handlers, token expiry), or the body of
 * the refused upgrade (ws). The same status, code and reason as the HTTP answer, and a step-up
 * refusal's `acr_values` and `max_age`.
 */
export interface WsAuthErrorData extends StepUpParameters {
  /** The HTTP status the refusal would answer with: 400, 401, 403 or 503. */
  status: number;
  /** The RFC 6750 error code, or `missing_token` / `issuer_unavailable`. */
  error: string;
  /** The library's finer reason (`token_expired`, `id_token`, `insufficient_scope`, ...). */
  reason: string;
  message: string;
}

/** The refusal `error` as WebSocket clients receive it. */
export function wsAuthErrorData(error: AuthError, challenge: ChallengeOptions): WsAuthErrorData {
  const { status, body } = authErrorAnswer(error, challenge);
  return {
    status,
    error: body.error,
    reason: body.reason,
    message: body.message,
    ...stepUpParameters(error),
  };
}

/** The parts of a socket.io `Socket` the face reads (socket.io itself is not imported). */
interface IoSocketLike extends UserCarrier {
  handshake: {
    headers: { authorization?: string | string[] };
    auth?: Record<string, unknown>;
  };
  request?: { rawHeaders?: readonly string[] };
}

/** Where a ws client's token was: its upgrade request's headers, kept from connection time. */
const UPGRADES = new WeakMap<object, TokenSource>();

/** Remembers where a ws client's token was (its upgrade request), for the guard's later calls. */
export function rememberUpgrade(client: object, source: TokenSource): void {
  UPGRADES.set(client, source);
}

/** Where an HTTP upgrade request (ws) carries its token: the `Authorization` header only. */
export function upgradeTokenSource(request: {
  headers: { authorization?: string };
  rawHeaders?: readonly string[];
}): TokenSource {
  const authorization = request.headers.authorization;
  return {
    authorization,
    authorizationHeaders:
      authorization === undefined ? 0 : countHeaders(request.rawHeaders, 'authorization'),
  };
}

const BEARER_PREFIX = /^bearer(?=\s|$)/i;

/**
 * Where a socket.io handshake carries its token: `auth.token` (the access token, with or without
 * `Bearer `), or the `Authorization` header (Node clients, proxies). Both at once is refused, as
 * two token methods are over HTTP; an `auth.token` that is not a string is malformed.
 */
export function handshakeTokenSource(socket: IoSocketLike): TokenSource {
  const fromAuth: unknown = socket.handshake.auth?.token;
  const header = socket.handshake.headers.authorization;
  if (fromAuth !== undefined && typeof fromAuth !== 'string') {
    throw new InvalidRequestError(
      'malformed_authorization_header',
      'The handshake auth.token must be a string: the access token, with or without "Bearer ".',
    );
  }
  if (typeof header !== 'string' && header !== undefined) {
    return { authorization: header[0], authorizationHeaders: header.length };
  }
  const headers =
    header === undefined ? 0 : countHeaders(socket.request?.rawHeaders, 'authorization');
  if (fromAuth === undefined) return { authorization: header, authorizationHeaders: headers };
  return {
    authorization: BEARER_PREFIX.test(fromAuth) ? fromAuth : `Bearer ${fromAuth}`,
    // A token in auth and another in the header: two methods, refused like two headers.
    authorizationHeaders: headers + 1,
  };
}

function isIoSocket(client: object): client is IoSocketLike {
  const handshake = (client as Partial<IoSocketLike>).handshake;
  return typeof handshake === 'object' && handshake !== null && 'headers' in handshake;
}

type WsExceptionClass = typeof WsException;
let wsException: WsExceptionClass | undefined;

/** `WsException`, loaded on the first refusal: apps without WebSockets need no @nestjs/websockets. */
function loadWsException(): WsExceptionClass {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  wsException ??= (require('@nestjs/websockets') as typeof import('@nestjs/websockets'))
    .WsException;
  return wsException;
}

/**
 * The face of WebSocket gateways (`@SubscribeMessage` handlers, socket.io and ws): the carrier is
 * the client, the token is the handshake's, and a refusal is a `WsException` whose error object is
 * {@link WsAuthErrorData}, which Nest sends to the client as the `exception` event.
 */
export const wsFace: ContextFace = {
  carrier: (context: ExecutionContext) => context.switchToWs().getClient<UserCarrier>(),
  tokenSource: (carrier) =>
    isIoSocket(carrier) ? handshakeTokenSource(carrier) : (UPGRADES.get(carrier) ?? {}),
  refusal: (error, _context, options) => {
    const WsExceptionClass = loadWsException();
    return new WsExceptionClass(wsAuthErrorData(error, options));
  },
};
