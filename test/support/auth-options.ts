import type { AuthModuleOptions } from '../../lib/options/auth-options.interface';
import { AuthOptionsError } from '../../lib/errors/auth-options-error';
import { resolveAuthOptions } from '../../lib/options/resolve-auth-options';

/**
 * `resolveAuthOptions` of `base` with overrides of any type, as a misconfigured app would pass
 * them.
 */
export function resolverOf(base: Record<string, unknown>) {
  return (overrides: Record<string, unknown>) =>
    resolveAuthOptions({ ...base, ...overrides } as unknown as AuthModuleOptions);
}

/** The AuthOptionsError `fn` throws; fails the test when it throws nothing or something else. */
export function optionError(fn: () => unknown): AuthOptionsError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AuthOptionsError) return error;
    throw error;
  }
  throw new Error('expected an AuthOptionsError, but nothing was thrown');
}
