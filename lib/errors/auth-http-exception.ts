import { HttpException } from '@nestjs/common';
import type { AuthError } from './auth-error';
import { authErrorAnswer, type AuthErrorBody, type ChallengeOptions } from './www-authenticate';

/** The parts of an HTTP response the library writes (Express `setHeader`, Fastify `header`). */
export interface GuardResponse {
  setHeader?(name: string, value: string): unknown;
  header?(name: string, value: string): unknown;
}

/**
 * A refusal as Nest's `HttpException`: the status and JSON body of the error table, and the
 * headers that go with them (`WWW-Authenticate`, `Retry-After`), for filters that write answers
 * themselves. The library also writes the headers to the response when it knows it.
 */
export class AuthHttpException extends HttpException {
  constructor(
    /** The refusal's headers, as they must be sent with its status and body. */
    readonly headers: Readonly<Record<string, string>>,
    body: AuthErrorBody,
    status: number,
    cause: AuthError,
  ) {
    super(body, status, { cause });
  }
}

/**
 * Turns a refusal into its `AuthHttpException`, and writes its headers to `response` when given,
 * so that Nest's default exception filter sends the whole answer.
 */
export function authHttpException(
  error: AuthError,
  challenge: ChallengeOptions,
  response?: GuardResponse,
): AuthHttpException {
  const { status, headers, body } = authErrorAnswer(error, challenge);
  if (response) {
    for (const [name, value] of Object.entries(headers)) {
      if (typeof response.setHeader === 'function') response.setHeader(name, value);
      else if (typeof response.header === 'function') response.header(name, value);
    }
  }
  return new AuthHttpException(headers, body, status, error);
}
