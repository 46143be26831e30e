import { SetMetadata, type CustomDecorator } from '@nestjs/common';
import { PROTECTED_RESOURCE_KEY } from '../auth.constants';

/**
 * Puts a controller's routes, or one handler, under another protected resource than the module's
 * API: one of the module's `resources`, by its name. Their tokens must name that resource's
 * identifier in `aud` (the module's `audience` no longer counts there), their challenges point to
 * that resource's RFC 9728 document, and their `@Scopes()` are its `scopes_supported`. A name that
 * `resources` does not declare stops the application at startup. A handler's decorator overrides
 * its class's.
 *
 * @example
 * AuthModule.forRoot({ ..., resources: { mcp: { resource: 'https://api.example.com/mcp' } } })
 * @ProtectedResource('mcp') @Controller('mcp') export class McpController {}
 */
export const ProtectedResource = (name: string): CustomDecorator<string> => {
  if (typeof name !== 'string' || !RESOURCE_NAME.test(name)) {
    throw new TypeError(
      `@ProtectedResource: the name must be a key of AuthModule's resources option (letters, ` +
        `digits, _ and -), got ${JSON.stringify(name)}`,
    );
  }
  return SetMetadata(PROTECTED_RESOURCE_KEY, name);
};

/** What a resource's name may be: a plain key, the same rule the `resources` option applies. */
const RESOURCE_NAME = /^[A-Za-z][\w-]{0,63}$/;
