import {
  createParamDecorator,
  type ExecutionContext,
  type PipeTransform,
  type Type,
} from '@nestjs/common';
import { currentUser } from '../contexts/context-faces';

/**
 * What `createParamDecorator` returns, spelled with types NestJS 11 and 12 both have (12's own
 * return type names `ParameterDecoratorOptions`, which 11 lacks), so the published declaration
 * compiles against either.
 */
type CurrentUserDecorator = (
  ...claimOrPipes: (string | undefined | PipeTransform | Type<PipeTransform>)[]
) => ParameterDecorator;

/**
 * Injects the authenticated caller ({@link AuthUser}), or one claim of its token.
 * `undefined` on a `@Public()` route.
 *
 * @example
 * @Get('me') me(@CurrentUser() user: AuthUser, @CurrentUser('email') email?: string) {}
 */
export const CurrentUser: CurrentUserDecorator = createParamDecorator(
  (claim: string | undefined, context: ExecutionContext) => {
    const user = currentUser(context);
    return claim === undefined ? user : user?.claims[claim];
  },
);
