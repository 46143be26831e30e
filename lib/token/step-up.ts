// RFC 9470 step-up checks: no library checks acr and auth_time of an access token against a
// route's requirement (jose's `maxTokenAge` reads `iat`, and nothing answers with the challenge).
import { InsufficientUserAuthenticationError, type StepUpReason } from '../errors/auth-error';
import { describeValue } from './describe-value';

/** What `@StepUp()` requires of the user's authentication; at least one of the two. */
export interface StepUpOptions {
  /**
   * The accepted authentication context classes: the token's `acr` must be one of them (exact,
   * case-sensitive). Sent, in this order, as the challenge's `acr_values`.
   * @example 'http://schemas.openid.net/pape/policies/2007/06/multi-factor'
   */
  acr?: string | readonly string[];
  /**
   * The greatest age of the authentication, in seconds: `now - auth_time` must be at most this
   * plus the module's `clockTolerance`. Sent as the challenge's `max_age`.
   */
  maxAge?: number;
  /**
   * The names of the claims to read, when the identity provider cannot issue the registered `acr`
   * and `auth_time` in access tokens (Auth0 restricts them: an Action sets namespaced claims
   * instead, see docs/step-up.md).
   * @example { acr: 'https://api.example.com/acr', authTime: 'https://api.example.com/auth_time' }
   */
  claims?: { acr?: string; authTime?: string };
}

/** What a route requires of the user's authentication (`@StepUp()`), validated. */
export interface StepUpRequirement {
  /** The accepted `acr` values, in order of preference (the challenge's `acr_values`). */
  readonly acr?: readonly string[];
  /** The greatest age of the authentication (`auth_time`), in seconds. */
  readonly maxAge?: number;
  /** The claims read: `acr` and `auth_time` unless the options name others (Auth0: namespaced). */
  readonly acrClaim?: string;
  readonly authTimeClaim?: string;
}

const OPTIONS = ['acr', 'maxAge', 'claims'];
const CLAIM_NAMES = ['acr', 'authTime'];

/** An acr value fit for a space-separated, quoted `acr_values`: printable, no space nor quote. */
const ACR_VALUE = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * Validates the options of `@StepUp()` at decoration time: `acr` a non-empty string or list of
 * them (no spaces, quotes or backslashes), `maxAge` a non-negative integer, at least one of them.
 */
export function stepUpRequirement(options: unknown): StepUpRequirement {
  const fail = (problem: string) => new TypeError(`@StepUp(): ${problem}.`);
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw fail(`give an object { acr, maxAge }, got ${describeValue(options)}`);
  }
  const unknown = Object.keys(options).filter((key) => !OPTIONS.includes(key));
  if (unknown.length > 0) {
    throw fail(
      `'${describeValue(unknown[0])}' is not an option; the options are acr, maxAge and claims`,
    );
  }
  const { acr, maxAge, claims } = options as { acr?: unknown; maxAge?: unknown; claims?: unknown };
  if (acr === undefined && maxAge === undefined) {
    throw fail('give acr (the accepted authentication context classes), maxAge (seconds) or both');
  }
  const names = claimNames(claims, fail);
  const requirement: {
    acr?: string[];
    maxAge?: number;
    acrClaim?: string;
    authTimeClaim?: string;
  } = {
    ...(names.acr !== undefined ? { acrClaim: names.acr } : {}),
    ...(names.authTime !== undefined ? { authTimeClaim: names.authTime } : {}),
  };
  if (acr !== undefined) {
    const values = typeof acr === 'string' ? [acr] : acr;
    if (
      !Array.isArray(values) ||
      values.length === 0 ||
      !values.every((v) => typeof v === 'string' && ACR_VALUE.test(v) && !/scope=/i.test(v))
    ) {
      throw fail(
        `acr must be a non-empty string or a non-empty list of them, without spaces, quotes or backslashes, got ${describeValue(acr)}`,
      );
    }
    requirement.acr = [...new Set(values as string[])];
  }
  if (maxAge !== undefined) {
    if (typeof maxAge !== 'number' || !Number.isSafeInteger(maxAge) || maxAge < 0) {
      throw fail(
        `maxAge must be a non-negative integer number of seconds, got ${describeValue(maxAge)}`,
      );
    }
    requirement.maxAge = maxAge;
  }
  return Object.freeze(requirement);
}

/** `claims: { acr?, authTime? }`: the names of the claims to read, when not the registered ones. */
function claimNames(
  claims: unknown,
  fail: (problem: string) => TypeError,
): { acr?: string; authTime?: string } {
  if (claims === undefined) return {};
  const given = claims as Record<string, unknown>;
  if (
    typeof claims !== 'object' ||
    claims === null ||
    Array.isArray(claims) ||
    !Object.keys(given).every((key) => CLAIM_NAMES.includes(key)) ||
    !Object.values(given).every((name) => typeof name === 'string' && name !== '')
  ) {
    throw fail(
      `claims must be { acr?: string, authTime?: string }, the names of the claims to read, got ${describeValue(claims)}`,
    );
  }
  return given as { acr?: string; authTime?: string };
}

/** A claim as the description shows it: printable, and never with a `scope=` a client could take. */
function shown(value: unknown): string {
  const text = describeValue(value).replace(/scope=/gi, (match) => `${match.slice(0, -1)} =`);
  return typeof value === 'string' ? `'${text}'` : text;
}

const ACR_ADVICE = "Sign in again with one of this challenge's acr_values.";

/**
 * Refuses (401 `insufficient_user_authentication`) claims whose `acr` is not one of
 * `requirement.acr`, or whose `auth_time` is missing, not a NumericDate, ahead of `nowSeconds` by
 * more than the tolerance, or older than `requirement.maxAge` plus the tolerance. `acr` is checked
 * first: a stronger sign-in also gives a fresh `auth_time`.
 */
export function checkStepUp(
  claims: Readonly<Record<string, unknown>>,
  requirement: StepUpRequirement,
  nowSeconds: number,
  clockToleranceSeconds: number,
): void {
  const { acr: accepted, maxAge, acrClaim = 'acr', authTimeClaim = 'auth_time' } = requirement;
  const refuse = (reason: StepUpReason, message: string) =>
    new InsufficientUserAuthenticationError(reason, message, challengeOf(requirement));
  if (accepted !== undefined) {
    const acr = Object.hasOwn(claims, acrClaim) ? claims[acrClaim] : undefined;
    const list = accepted.join(', ');
    if (acr === undefined) {
      throw refuse(
        'acr_missing',
        `The token has no ${acrClaim} claim, but this route requires an authentication context class (acr) of: ${list}. ${ACR_ADVICE}`,
      );
    }
    if (typeof acr !== 'string') {
      throw refuse(
        'acr_invalid',
        `The token's ${acrClaim} claim is ${shown(acr)}, not a string; this route requires one of: ${list}. ${ACR_ADVICE}`,
      );
    }
    if (!accepted.includes(acr)) {
      throw refuse(
        'acr_not_accepted',
        `The token's ${acrClaim} is ${shown(acr)}, but this route accepts only: ${list}. ${ACR_ADVICE}`,
      );
    }
  }
  if (maxAge === undefined) return;
  const authTime = Object.hasOwn(claims, authTimeClaim) ? claims[authTimeClaim] : undefined;
  if (authTime === undefined) {
    throw refuse(
      'auth_time_missing',
      `The token has no ${authTimeClaim} claim, but this route requires an authentication at most ${maxAge} s old. Sign in again.`,
    );
  }
  if (typeof authTime !== 'number' || !Number.isFinite(authTime)) {
    throw refuse(
      'auth_time_invalid',
      `The token's ${authTimeClaim} claim is ${shown(authTime)}, not a NumericDate (seconds since 1970); this route requires an authentication at most ${maxAge} s old.`,
    );
  }
  const age = nowSeconds - authTime;
  if (age < -clockToleranceSeconds) {
    throw refuse(
      'auth_time_invalid',
      `The token's ${authTimeClaim} is ${Math.ceil(-age)} s in the future, beyond the clock tolerance of ${clockToleranceSeconds} s: check the clocks of this API and of the identity provider.`,
    );
  }
  if (age > maxAge + clockToleranceSeconds) {
    throw refuse(
      'authentication_too_old',
      `The user authenticated ${Math.floor(age)} s ago, while at most ${maxAge} s is allowed on this route. Sign in again.`,
    );
  }
}

/**
 * The refusal on a step-up route of an opaque token checked through /userinfo: a profile tells
 * nothing of the token's authentication, so the route never trusts it (fail closed).
 */
export function stepUpUnknowable(
  requirement: StepUpRequirement,
): InsufficientUserAuthenticationError {
  return new InsufficientUserAuthenticationError(
    requirement.acr !== undefined ? 'acr_missing' : 'auth_time_missing',
    "The token is opaque and checked through /userinfo, which tells nothing of the user's authentication " +
      "(acr, auth_time) this route requires. Send a JWT access token (request it with this API's audience), " +
      "or use introspection (opaqueTokens: 'introspection').",
    challengeOf(requirement),
  );
}

/** The requirement as the challenge says it (`acr_values`, `max_age`). */
function challengeOf({ acr, maxAge }: StepUpRequirement) {
  return {
    ...(acr !== undefined ? { acrValues: acr } : {}),
    ...(maxAge !== undefined ? { maxAge } : {}),
  };
}
