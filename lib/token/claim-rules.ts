import type { AuthUser } from './auth-user';
import { AuthError, InvalidTokenError } from '../errors/auth-error';
import { copyJson } from './copy-json';
import { claimsTooDeep, MAX_JSON_DEPTH } from './json-depth';
import { describeValue } from './describe-value';

/** The claims a rule reads: a frozen copy of the token's, so that no rule changes the user's. */
export type RuleClaims = Readonly<Record<string, unknown>>;

/** Where rules are declared: the module's apply to every token, a route's to that route. */
export type ClaimRuleLevel = 'module' | 'route';

const RULE = Symbol('nest-oauth2-bearer:claim-rule');

/**
 * A check of the verified token's claims, made by `claimEquals`, `claimIncludes` or `claimCheck`.
 * A failed rule is a 401 `invalid_token` (the default of the module's `claimRules`: the token is
 * not acceptable to this API) or a 403 `insufficient_scope` without `scope` (the default of
 * `@ClaimRules()`: the caller may not use this route); `withStatus()` chooses.
 */
export interface ClaimRule {
  readonly [RULE]: true;
  /** What the rule asks, for descriptions: `org_id "acme"`. */
  readonly description: string;
  /** The status a failure answers with; undefined: the level's default. */
  readonly status?: 401 | 403;
  /** A copy of this rule that answers a failure with `status`. */
  withStatus(status: 401 | 403): ClaimRule;
  /** Undefined when the claims pass; otherwise why not (printable, without the token). */
  failure(claims: RuleClaims): string | undefined;
}

function rule(
  description: string,
  failure: (claims: RuleClaims) => string | undefined,
  status?: 401 | 403,
): ClaimRule {
  return Object.freeze({
    [RULE]: true as const,
    description,
    ...(status !== undefined ? { status } : {}),
    failure,
    withStatus(next: 401 | 403): ClaimRule {
      if (next !== 401 && next !== 403) {
        throw new TypeError(`withStatus: 401 or 403, got ${describeValue(next)}`);
      }
      return rule(description, failure, next);
    },
  });
}

/** Whether `value` is a rule made by this module's helpers. */
export function isClaimRule(value: unknown): value is ClaimRule {
  return typeof value === 'object' && value !== null && (value as ClaimRule)[RULE] === true;
}

function checkName(helper: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(
      `${helper}: the claim name must be a non-empty string, got ${describeValue(name)}`,
    );
  }
}

/** A claim's printable name in a description. */
const named = (name: string) => describeValue(name, 60);
const quoted = (value: unknown) =>
  typeof value === 'string' ? `"${describeValue(value, 40)}"` : describeValue(value, 40);

function own(claims: RuleClaims, name: string): { found: boolean; value: unknown } {
  return Object.hasOwn(claims, name)
    ? { found: true, value: claims[name] }
    : { found: false, value: undefined };
}

/**
 * The claim `name` must be exactly `value` (compared with `===`: `"2"` is not `2`).
 *
 * @example
 * @ClaimRules(claimEquals('org_id', 'acme'))
 */
export function claimEquals(name: string, value: string | number | boolean | null): ClaimRule {
  checkName('claimEquals', name);
  if (value !== null && !['string', 'number', 'boolean'].includes(typeof value)) {
    throw new TypeError(
      `claimEquals: the value must be a string, number, boolean or null, got ${describeValue(value)}`,
    );
  }
  return rule(`${named(name)} ${quoted(value)}`, (claims) => {
    const claim = own(claims, name);
    if (!claim.found) return `The token has no ${named(name)} claim`;
    if (claim.value === value) return undefined;
    return `The token's ${named(name)} claim is ${quoted(claim.value)}`;
  });
}

/**
 * The claim `name` must hold every one of `values`: an array of strings, or a space-separated
 * string (as `scope`). Matching is exact and case-sensitive.
 *
 * @example
 * @ClaimRules(claimIncludes('https://example.com/roles', 'admin'))
 */
export function claimIncludes(name: string, ...values: string[]): ClaimRule {
  checkName('claimIncludes', name);
  if (values.length === 0) throw new TypeError('claimIncludes: at least one value is required');
  if (!values.every((v) => typeof v === 'string' && /^\S+$/.test(v))) {
    throw new TypeError(
      `claimIncludes: values must be non-empty strings without spaces, got ${describeValue(values)}`,
    );
  }
  const wanted = [...values];
  return rule(
    `${named(name)} to include ${wanted.map((v) => describeValue(v, 40)).join(' and ')}`,
    (claims) => {
      const claim = own(claims, name);
      if (!claim.found) return `The token has no ${named(name)} claim`;
      const held =
        typeof claim.value === 'string'
          ? claim.value.split(' ')
          : Array.isArray(claim.value) && claim.value.every((v) => typeof v === 'string')
            ? (claim.value as string[])
            : undefined;
      if (!held) {
        return `The token's ${named(name)} claim is ${describeValue(claim.value, 40)}, not an array or a space-separated string`;
      }
      const missing = wanted.filter((v) => !held.includes(v));
      if (missing.length === 0) return undefined;
      return `The token's ${named(name)} claim lacks ${missing.map((v) => describeValue(v, 40)).join(' and ')}`;
    },
  );
}

/**
 * A predicate of your own over the token's claims (a frozen copy): the request passes only when it
 * returns `true`. `description` says what it asks, for the error description. A predicate that
 * throws refuses the request (and logs an error): it is never let through.
 *
 * @example
 * @ClaimRules(claimCheck((claims) => claims.email_verified === true, 'a verified email'))
 */
export function claimCheck(
  predicate: (claims: RuleClaims) => boolean,
  description: string,
): ClaimRule {
  if (typeof predicate !== 'function') {
    throw new TypeError('claimCheck: the predicate must be a function (claims) => boolean');
  }
  if (typeof description !== 'string' || description.trim() === '') {
    throw new TypeError('claimCheck: a description is required (what the predicate asks)');
  }
  const what = describeValue(description, 120);
  return rule(what, (claims) =>
    predicate(claims) === true
      ? undefined
      : `The token does not meet a claim rule of {where}: ${what}`,
  );
}

/** A failed claim rule where the default is 403: `insufficient_scope` without `scope`. */
export class ClaimRuleError extends AuthError {
  constructor(message: string) {
    super('insufficient_scope', 'claim_rule_failed', message);
  }
}

function refusal(status: 401 | 403, message: string): AuthError {
  return status === 401
    ? new InvalidTokenError('claim_rule_failed', message)
    : new ClaimRuleError(message);
}

/** Freezes claims to the bottom; refuses (401) claims deeper than parsing lets through. */
function deepFreeze<T>(value: T, depth = 1): T {
  if (typeof value === 'object' && value !== null) {
    if (depth > MAX_JSON_DEPTH) throw claimsTooDeep();
    for (const inner of Object.values(value)) deepFreeze(inner, depth + 1);
    Object.freeze(value);
  }
  return value;
}

/**
 * Refuses `user` unless it passes every rule, in order; the first failure answers. `opaqueTokens`
 * is the module's mode: an opaque token checked through userinfo has no token claims, so any rule
 * refuses it (fail closed).
 */
export function enforceClaimRules(
  user: AuthUser,
  rules: readonly ClaimRule[],
  level: ClaimRuleLevel,
  logger: Pick<Console, 'error'>,
  opaqueTokens?: 'userinfo' | 'introspection',
): void {
  if (rules.length === 0) return;
  const where = level === 'module' ? 'this API' : 'this route';
  const statusOf = (r: ClaimRule) => r.status ?? (level === 'module' ? 401 : 403);
  if (user.tokenType === 'opaque' && opaqueTokens === 'userinfo') {
    throw refusal(
      statusOf(rules[0]),
      `${level === 'module' ? 'This API' : 'This route'} requires ${rules[0].description}, but the token is opaque and ` +
        "checked through /userinfo, which tells no token claims. Send a JWT access token (request it with this API's audience).",
    );
  }
  const claims = deepFreeze(copyJson(user.claims) as Record<string, unknown>);
  for (const r of rules) {
    let failure: string | undefined;
    try {
      failure = r.failure(claims);
    } catch (error) {
      logger.error(
        `Claim rule '${r.description}' threw ${error instanceof Error ? error.name : typeof error} ` +
          `for token ${user.tokenHash}; refused. Fix the predicate.`,
      );
      throw refusal(
        statusOf(r),
        `The claim rule '${r.description}' of ${where} could not be checked (its predicate threw); the request is refused.`,
      );
    }
    if (failure === undefined) continue;
    const message = failure.includes('{where}')
      ? `${failure.replace('{where}', where)}.`
      : `${failure}; ${where} requires ${r.description}.`;
    throw refusal(statusOf(r), message);
  }
}
