/** Every message of the kit starts with its name, so that a stray error says where it came from. */
export const KIT = 'nest-oauth2-bearer/testing';

/** A refusal of the testing kit: production, or an input it cannot turn into a meaningful token. */
export class TestingKitError extends Error {
  override readonly name = 'TestingKitError';

  constructor(message: string) {
    super(`${KIT}: ${message}`);
  }
}

/**
 * The kit mints tokens that the application accepts: it must never run where the application
 * serves real users.
 */
export function refuseProduction(): void {
  if (process.env.NODE_ENV === 'production') {
    throw new TestingKitError(
      'the testing kit refuses to run with NODE_ENV=production. It mints tokens your API accepts; ' +
        'use it in tests only.',
    );
  }
}

export type Plain = Record<string, unknown>;

export function isPlainObject(value: unknown): value is Plain {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/** Refuses keys the options do not have: a typo must not silently mint another token. */
export function checkKeys(where: string, options: Plain, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new TestingKitError(`${where}: unknown option "${key}" (known: ${known.join(', ')}).`);
    }
  }
}

export function checkOptionsObject(where: string, options: unknown): Plain {
  if (options === undefined) return {};
  if (!isPlainObject(options)) throw new TestingKitError(`${where}: options must be an object.`);
  return options;
}

export function checkString(where: string, name: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TestingKitError(`${where}: ${name} must be a non-empty string.`);
  }
  return value;
}

export function checkAudience(where: string, value: unknown): string | string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((item) => typeof item === 'string' && item.trim() !== '')
  ) {
    throw new TestingKitError(
      `${where}: audience must be a non-empty string or an array of non-empty strings.`,
    );
  }
  return value as string | string[];
}

/** Scopes as OAuth 2.0 grants them: tokens without whitespace (RFC 6749 §3.3). */
export function checkScopes(where: string, value: unknown): string[] {
  if (
    !Array.isArray(value) ||
    !value.every((scope) => typeof scope === 'string' && /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(scope))
  ) {
    throw new TestingKitError(
      `${where}: scopes must be an array of scope names without spaces, e.g. ['read:messages'].`,
    );
  }
  return value as string[];
}

/** Seconds from now; negative mints a token that has already expired (for negative tests). */
export function checkSeconds(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TestingKitError(`${where}: ${name} must be a whole number of seconds.`);
  }
  return value;
}

export function checkClaims(where: string, value: unknown): Plain {
  if (!isPlainObject(value)) {
    throw new TestingKitError(`${where}: claims must be a plain object of JSON values.`);
  }
  return value;
}

/** A userinfo profile: an object with a non-empty `sub` (OpenID Connect Core §5.3.2). */
export function checkProfile(where: string, value: unknown): Plain & { sub: string } {
  if (!isPlainObject(value) || typeof value.sub !== 'string' || value.sub === '') {
    throw new TestingKitError(
      `${where}: profile must be an object with a non-empty sub, e.g. { sub: 'user-1' }.`,
    );
  }
  return value as Plain & { sub: string };
}
