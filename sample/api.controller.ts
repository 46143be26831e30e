import { Controller, Get } from '@nestjs/common';
import { CurrentUser, OptionalAuth, Public, Scopes, type AuthUser } from '../lib';

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
}
