import { SetMetadata } from '@nestjs/common';
import { OPTIONAL_AUTH_KEY } from '../auth.constants';

/**
 * Lets a route, or every route of a controller, serve anonymous callers too: a call without a
 * token runs the handler with no user (`@CurrentUser()` is `undefined`); a valid token gives its
 * user. A token that fails is still refused (401, 400, or 503 when the provider is down), never
 * taken as anonymous. A route that also has `@Scopes()` requires a token.
 *
 * @example
 * @OptionalAuth() @Get('feed') feed(@CurrentUser() user?: AuthUser) {}
 */
export const OptionalAuth = () => SetMetadata(OPTIONAL_AUTH_KEY, true);
