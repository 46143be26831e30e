import { Controller, Get } from '@nestjs/common';
import { CurrentUser, OptionalAuth, Public, Scopes, StepUp, type AuthUser } from '../lib';
import { STEP_UP } from './step-up';

@Controller('api')
export class ApiController {
  @Public()
  @Get('public')
  getPublic() {
    return {
      message: 'Hello from a public endpoint! You do not need to be authenticated to see this.',
    };
  }

  @Get('private')
  getPrivate() {
    return { message: 'Hello from a private endpoint! You need a valid access token to see this.' };
  }

  @Scopes('read:messages')
  @Get('private-scoped')
  getPrivateScoped() {
    return {
      message:
        'Hello from a private, scoped endpoint! You need an access token with read:messages.',
    };
  }

  @Get('me')
  getMe(@CurrentUser() user: AuthUser) {
    return user;
  }

  /** Anonymous callers too: `{ "sub": null }` without a token; a token that fails is refused. */
  @OptionalAuth()
  @Get('optional')
  getOptional(@CurrentUser() user?: AuthUser) {
    return { sub: user?.sub ?? null };
  }

  /**
   * Step-up (RFC 9470): a multi-factor sign-in at most 5 minutes old. Any other token gets 401
   * insufficient_user_authentication with acr_values and max_age, which the client signs in again
   * with.
   */
  @StepUp({ acr: STEP_UP.acr, maxAge: STEP_UP.maxAge })
  @Get('step-up')
  getStepUp(@CurrentUser() user: AuthUser) {
    return { sub: user.sub, acr: user.claims.acr };
  }
}
