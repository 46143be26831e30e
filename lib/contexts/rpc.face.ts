import type { ExecutionContext } from '@nestjs/common';
import { InvalidRequestError, type AuthError } from '../errors/auth-error';
import {
  authErrorAnswer,
  stepUpParameters,
  type StepUpParameters,
} from '../errors/www-authenticate';
import type { TokenSource } from '../token/extract-token';
import type { ContextFace, UserCarrier, FaceOptions } from './context-face';

/**
 * What an RPC refusal carries to the client: the HTTP answer's status, codes and description, and
 * a step-up refusal's `acr_values` and `max_age`.
 */
export interface RpcAuthErrorPayload extends StepUpParameters {
  status: number;
  /** The RFC 6750 error code, or `missing_token` / `issuer_unavailable`. */
  error: string;
  /** The library's finer reason (`token_expired`, `insufficient_scope`, ...). */
  reason: string;
  message: string;
}

/**
 * The user of each RPC call, kept beside the transport's per-message context (or the payload when
 * a transport has none): never on the payload itself, which the caller writes.
 */
const CARRIERS = new WeakMap<object, UserCarrier>();

function rpcCarrier(context: ExecutionContext): UserCarrier {
  const rpc = context.switchToRpc();
  const transport: unknown = rpc.getContext();
  const data: unknown = rpc.getData();
  const key = isObject(transport) ? transport : isObject(data) ? data : undefined;
  // Neither is an object: a carrier of its own, which only the guard sees.
  if (!key) return {};
  let carrier = CARRIERS.get(key);
  if (!carrier) CARRIERS.set(key, (carrier = {}));
  return carrier;
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/**
 * The face of `@nestjs/microservices` handlers (`context.getType() === 'rpc'`): the token comes from
 * the message (`rpcAuthorization`), refusals are `RpcException`s whose error is
 * {@link RpcAuthErrorPayload}. `@nestjs/microservices` is loaded on the first refusal only.
 */
export const rpcFace: ContextFace = {
  carrier: rpcCarrier,
  tokenSource(_carrier: UserCarrier, context: ExecutionContext, options: FaceOptions): TokenSource {
    const rpc = context.switchToRpc();
    const authorization: unknown = options.rpcAuthorization(rpc.getData(), rpc.getContext());
    if (authorization !== undefined && typeof authorization !== 'string') {
      throw new InvalidRequestError(
        'malformed_authorization_header',
        "The message's authorization is not text: send 'Bearer <token>'.",
      );
    }
    return { authorization, authorizationHeaders: authorization === undefined ? 0 : 1 };
  },
  refusal(error: AuthError, _context: ExecutionContext, options: FaceOptions): unknown {
    const { status, body } = authErrorAnswer(error, options);
    const payload: RpcAuthErrorPayload = {
      status,
      error: body.error,
      reason: body.reason,
      message: body.message,
      ...stepUpParameters(error),
    };
    // Only RPC handlers reach this, and they run on @nestjs/microservices: it is installed.
    const { RpcException } =
      require('@nestjs/microservices') as typeof import('@nestjs/microservices');
    return new RpcException(payload);
  },
};
