import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AuthUser } from '../auth-user.interface';

/**
 * Injects the authenticated caller ({@link AuthUser}), or one claim of its token.
 * `undefined` on a `@Public()` route.
 *
 * @example
 * @Get('me') me(@CurrentUser() user: AuthUser, @CurrentUser('email') email?: string) {}
 */
export const CurrentUser = createParamDecorator(
  (claim: string | undefined, context: ExecutionContext) => {
    const user = context.switchToHttp().getRequest<{ user?: AuthUser }>().user;
    return claim === undefined ? user : user?.claims[claim];
  },
);
