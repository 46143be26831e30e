import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { currentUser } from '../contexts/context-face';

/**
 * Injects the authenticated caller ({@link AuthUser}), or one claim of its token.
 * `undefined` on a `@Public()` route.
 *
 * @example
 * @Get('me') me(@CurrentUser() user: AuthUser, @CurrentUser('email') email?: string) {}
 */
export const CurrentUser = createParamDecorator(
  (claim: string | undefined, context: ExecutionContext) => {
    const user = currentUser(context);
    return claim === undefined ? user : user?.claims[claim];
  },
);
