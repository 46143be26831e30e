import * as fc from 'fast-check';
import { InvalidTokenError } from '../errors/auth-error';
import { validateClaims, type AccessTokenClaims, type ClaimPolicy } from './validate-claims';

/** Runs per property, stopped after 3 s (a success if nothing failed so far) to bound CI time. */
const bounded = (numRuns: number) => ({ numRuns, plugins: [fc.interruptAfterTimeLimit(3000)] });

const NOW = 1_700_000_000;
const ISSUER = 'https://tenant.auth0.com/';
const API = 'https://api.example.com';
const OTHER_API = 'https://other.example.com';

const claimPolicy: fc.Arbitrary<ClaimPolicy> = fc.record({
  issuer: fc.constant(ISSUER),
  audiences: fc.constantFrom([API], [API, OTHER_API]),
  clockToleranceSeconds: fc.constantFrom(0, 5, 60, 300),
  strict: fc.boolean(),
});

/** Values where a claim is expected: near misses of the valid ones, odd numbers, any JSON. */
const claimValue = fc.oneof(
  fc.constantFrom(ISSUER, ISSUER.slice(0, -1), ISSUER.toUpperCase(), API, OTHER_API, ''),
  fc.constantFrom([API], [API, 5], [], [ISSUER], [`${ISSUER}userinfo`], [[API]], { 0: API }),
  fc.constantFrom(NOW, NOW - 1, NOW + 1, NOW - 300, NOW + 300, -NOW, 0, -0, 1e308, -1e308),
  fc.constantFrom(Number.MAX_VALUE, Number.MIN_VALUE, NaN, Infinity, -Infinity, null, true),
  fc.constantFrom('read:messages', 'a b', ['read:messages'], [''], `${NOW + 600}`),
  fc.integer({ min: NOW - 400, max: NOW + 400 }),
  fc.double(),
  fc.string({ maxLength: 8 }),
  fc.jsonValue({ maxDepth: 1 }),
  fc.constant(undefined),
);

const CLAIM_NAMES = [
  'iss',
  'aud',
  'exp',
  'nbf',
  'iat',
  'sub',
  'client_id',
  'azp',
  'jti',
  'scope',
  'scp',
  'permissions',
  'nonce',
  'at_hash',
  'c_hash',
  's_hash',
  'cnf',
  'email',
  'sid',
] as const;

/** A valid access token payload, in one of its valid variants. */
const validPayload = fc.record(
  {
    iss: fc.constant(ISSUER),
    aud: fc.constantFrom(API, [API], [OTHER_API, API], [API, `${ISSUER}userinfo`]),
    exp: fc.integer({ min: NOW + 1, max: NOW + 86_400 }),
    iat: fc.integer({ min: NOW - 86_400, max: NOW }),
    nbf: fc.integer({ min: NOW - 86_400, max: NOW }),
    sub: fc.constant('auth0|123'),
    client_id: fc.constant('client-1'),
    jti: fc.uuid(),
    scope: fc.constant('read:messages write:messages'),
  },
  { requiredKeys: ['iss', 'aud', 'exp', 'sub'] },
);

/** A valid payload with one or more of its claims replaced (or removed, or added). */
const mutatedPayload = fc
  .tuple(
    validPayload,
    fc.array(fc.tuple(fc.constantFrom(...CLAIM_NAMES), claimValue), { minLength: 1, maxLength: 3 }),
  )
  .map(([payload, replacements]) => {
    const mutated: Record<string, unknown> = { ...payload };
    for (const [name, value] of replacements) {
      if (value === undefined) delete mutated[name];
      else mutated[name] = value;
    }
    return mutated;
  });

const isNumericDate = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);
const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

/** RFC 9068 §4 and this library's ID-token rules, written out independently of the code. */
function acceptable(payload: unknown, policy: ClaimPolicy, now: number): boolean {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return false;
  const claims = payload as Record<string, unknown>;
  const has = (name: string) => claims[name] !== undefined;
  // cnf is for the binding checks (lib/binding), which know how the token was presented.
  if (['nonce', 'at_hash', 'c_hash', 's_hash'].some(has)) return false;
  if (claims.iss !== policy.issuer) return false;
  const aud = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
  if (!isStringArray(aud) || !aud.some((a) => policy.audiences.includes(a))) return false;
  const tolerance = policy.clockToleranceSeconds;
  if (!isNumericDate(claims.exp) || !(now < claims.exp + tolerance)) return false;
  if (has('nbf') && !(isNumericDate(claims.nbf) && claims.nbf <= now + tolerance)) return false;
  if (has('iat') && !isNumericDate(claims.iat)) return false;
  const strings = ['sub', 'client_id', 'azp', 'jti', 'scope'];
  if (strings.some((name) => has(name) && typeof claims[name] !== 'string')) return false;
  if (has('scp') && typeof claims.scp !== 'string' && !isStringArray(claims.scp)) return false;
  if (has('permissions') && !isStringArray(claims.permissions)) return false;
  if (typeof claims.sub !== 'string' || claims.sub === '') return false;
  if (policy.strict && !['sub', 'client_id', 'iat', 'jti'].every(has)) return false;
  return true;
}

/** The claims, or the 401 refusal; any other exception (a TypeError, a RangeError) escapes. */
function validate(
  payload: unknown,
  policy: ClaimPolicy,
  now: number,
): AccessTokenClaims | InvalidTokenError {
  try {
    return validateClaims(payload, policy, now);
  } catch (error) {
    if (error instanceof InvalidTokenError) return error;
    throw error;
  }
}

/** Accepted (as the very same object) exactly when acceptable; otherwise a 401 invalid_token. */
function answersAsSpecified(payload: unknown, policy: ClaimPolicy, now: number): boolean {
  const result = validate(payload, policy, now);
  if (result instanceof InvalidTokenError) {
    return (
      result.code === 'invalid_token' && result.status === 401 && !acceptable(payload, policy, now)
    );
  }
  return result === payload && acceptable(payload, policy, now);
}

describe('validateClaims (properties)', () => {
  it('answers any value with its claims only when they are valid, otherwise with a 401 only', () => {
    const anyPayload = fc.anything({
      withBigInt: true,
      withBoxedValues: true,
      withMap: true,
      withNullPrototype: true,
      withSet: true,
      maxDepth: 2,
    });
    const property = fc.property(anyPayload, claimPolicy, (payload, policy) =>
      answersAsSpecified(payload, policy, NOW),
    );
    expect(() => fc.assert(property, bounded(15_000))).not.toThrow();
  });

  it('accepts a valid payload, with any claim replaced, exactly when it stays valid', () => {
    const now = fc.oneof(fc.constant(NOW), fc.integer({ min: NOW - 600, max: NOW + 90_000 }));
    const property = fc.property(mutatedPayload, claimPolicy, now, answersAsSpecified);
    expect(() => fc.assert(property, bounded(15_000))).not.toThrow();
  });

  it('accepts every valid payload (the refusals above are not a refusal of everything)', () => {
    const property = fc.property(validPayload, claimPolicy, (payload, policy) => {
      const complete = policy.strict ? { client_id: 'c', iat: NOW, jti: 'j', ...payload } : payload;
      return validate(complete, policy, NOW) === complete;
    });
    expect(() => fc.assert(property, bounded(10_000))).not.toThrow();
  });
});
