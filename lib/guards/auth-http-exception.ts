import { HttpException } from '@nestjs/common';
import type { AuthError } from '../errors/auth-error';
import { buildErrorBody } from '../errors/www-authenticate';

/** A refusal as Nest's `HttpException`: the status and the JSON body of the error table. */
export function authHttpException(error: AuthError): HttpException {
  return new HttpException(buildErrorBody(error), error.status, { cause: error });
}
