import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { AuthHttpException, type GuardResponse } from '../errors/auth-http-exception';

/** The parts of an HTTP response the filter answers with (Express and Fastify both have them). */
interface FilterResponse extends GuardResponse {
  status(code: number): { send(body: unknown): unknown };
}

/**
 * Sends an {@link AuthHttpException} with all of its answer: status, JSON body and headers
 * (`WWW-Authenticate`, `Retry-After`). `AccessTokenGuard` writes the headers itself; the Passport
 * strategy can too on Express (`request.res`), but not on Fastify, whose request does not lead to
 * its reply: register this filter there when routes use `AuthGuard('oauth2-access-token')`.
 *
 * @example
 * app.useGlobalFilters(new AuthHttpExceptionFilter());
 * // or, in a module: { provide: APP_FILTER, useClass: AuthHttpExceptionFilter }
 */
@Catch(AuthHttpException)
export class AuthHttpExceptionFilter implements ExceptionFilter<AuthHttpException> {
  catch(exception: AuthHttpException, host: ArgumentsHost): unknown {
    // Elsewhere (a Passport guard on a GraphQL resolver) the exception goes on as it is.
    if (host.getType() !== 'http') return exception;
    const response = host.switchToHttp().getResponse<FilterResponse>();
    for (const [name, value] of Object.entries(exception.headers)) {
      if (typeof response.setHeader === 'function') response.setHeader(name, value);
      else response.header?.(name, value);
    }
    response.status(exception.getStatus()).send(exception.getResponse());
    return undefined;
  }
}
