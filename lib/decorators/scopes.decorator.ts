import 'reflect-metadata';
import { SCOPES_KEY } from '../auth.constants';
import type { ScopeRequirement } from '../token/scopes';

function requireScopes(
  mode: ScopeRequirement['mode'],
  scopes: string[],
): ClassDecorator & MethodDecorator {
  if (
    scopes.length === 0 ||
    !scopes.every((s) => typeof s === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s))
  ) {
    throw new TypeError(
      `@Scopes: scopes must be non-empty strings without spaces or quotes, got ${JSON.stringify(scopes)}`,
    );
  }
  const requirement: ScopeRequirement = { mode, scopes: [...scopes] };
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const where = descriptor?.value ?? target;
    const existing: ScopeRequirement[] = Reflect.getMetadata(SCOPES_KEY, where) ?? [];
    Reflect.defineMetadata(SCOPES_KEY, [...existing, requirement], where);
  };
}

/**
 * Requires every listed scope. Class- and handler-level declarations add up: a request must meet
 * all of them. Scopes are read from `scope`, `scp` and Auth0's `permissions`; matching is exact.
 *
 * @example
 * @Scopes('read:messages') @Get('messages') list() {}
 * @Scopes.any('read:messages', 'admin') @Get('audit') audit() {}
 */
export const Scopes = Object.assign((...scopes: string[]) => requireScopes('all', scopes), {
  /** Requires at least one of the listed scopes. */
  any: (...scopes: string[]) => requireScopes('any', scopes),
});
