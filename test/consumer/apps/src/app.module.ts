// The app of the consumer test (test/consumer): what a user writes, importing only the package's
// public entry points. Compiled by each app's own TypeScript with skipLibCheck off.
import { Controller, Get, Module } from '@nestjs/common';
import { AuthModule, CurrentUser, Public, Scopes, type AuthUser } from 'nest-oauth2-bearer';

@Controller()
export class MessagesController {
  @Public()
  @Get('public')
  open(): { ok: boolean } {
    return { ok: true };
  }

  @Scopes('read:messages')
  @Get('messages')
  messages(@CurrentUser() user: AuthUser): { sub: unknown } {
    return { sub: user.sub };
  }

  @Scopes('admin')
  @Get('admin')
  admin(): { ok: boolean } {
    return { ok: true };
  }
}

@Module({
  imports: [
    AuthModule.forRoot({
      issuerUrl: process.env.AUTH_ISSUER_URL ?? '',
      audience: process.env.AUTH_AUDIENCE ?? '',
    }),
  ],
  controllers: [MessagesController],
})
export class AppModule {}
