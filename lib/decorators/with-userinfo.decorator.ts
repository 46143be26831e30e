import { SetMetadata, type CustomDecorator } from '@nestjs/common';
import { WITH_USERINFO_KEY } from '../auth.constants';

/**
 * Fetches the caller's userinfo profile (email, name, ...) for this route, cached per token, and
 * puts it in `user.profile`. The profile's `sub` must equal the token's. Only routes that ask pay
 * for it; elsewhere, inject `UserinfoService`.
 *
 * @example
 * @WithUserinfo() @Get('me') me(@CurrentUser() user: AuthUser) { return user.profile?.email; }
 */
export const WithUserinfo = (): CustomDecorator<string> => SetMetadata(WITH_USERINFO_KEY, true);
