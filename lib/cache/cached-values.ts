import { tokenHash } from '../token/token-hash';
import { claimTypeProblem } from '../token/validate-claims';

/** A scope-token (RFC 6749 §3.3), as `grantedScopes` keeps them: no space, quote or backslash. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * What is wrong with an `AuthUser` of an opaque token read back from the shared store, or
 * `undefined`. It must be what the opaque verifier answers for this very token: a `tokenHash` of
 * another token means an entry copied under another key. Problems name members, never values.
 *
 * @example
 * checkCachedUser({ ...user, tokenType: 'jwt' }, token) // "tokenType is not 'opaque'"
 */
export function checkCachedUser(value: unknown, token: string): string | undefined {
  if (!isObject(value)) return 'the user is not an object';
  // Introspection answers without a sub are refused, userinfo always has one.
  if (!isNonEmptyString(value.sub)) return 'sub is not a non-empty string';
  if (
    !Array.isArray(value.scopes) ||
    !value.scopes.every((scope) => typeof scope === 'string' && SCOPE_TOKEN.test(scope))
  ) {
    return 'scopes is not an array of scope-tokens';
  }
  if (value.tokenType !== 'opaque') return "tokenType is not 'opaque'";
  if (value.tokenHash !== tokenHash(token)) return "tokenHash is not the token's";
  if (!isObject(value.claims)) return 'claims is not an object';
  // The claim-type rules of JWT claims and provider answers (claims.exp a NumericDate, ...).
  const claims = claimTypeProblem(value.claims);
  if (claims) return `claims.${claims.claim} is not ${claims.expected}`;
  if (value.profile !== undefined) {
    const problem = checkCachedProfile(value.profile);
    if (problem !== undefined) return `profile: ${problem}`;
  }
  return undefined;
}

/**
 * What is wrong with a userinfo profile read back from the shared store, or `undefined`: an object
 * with a non-empty `sub` and registered claims of their types, as `requestUserinfo` answers it.
 */
export function checkCachedProfile(value: unknown): string | undefined {
  if (!isObject(value)) return 'the profile is not an object';
  if (!isNonEmptyString(value.sub)) return 'sub is not a non-empty string';
  const claim = claimTypeProblem(value);
  if (claim) return `${claim.claim} is not ${claim.expected}`;
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}
