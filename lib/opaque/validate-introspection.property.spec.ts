import * as fc from 'fast-check';
import { InvalidTokenError } from '../errors/auth-error';
import type { IntrospectionResponse } from './introspection-client';
import { MalformedAnswerError } from './malformed-answer';
import { validateIntrospection, type IntrospectedClaims } from './validate-introspection';

/** Runs per property, stopped after 3 s (a success if nothing failed so far) to bound CI time. */
const bounded = (numRuns: number) => ({ numRuns, plugins: [fc.interruptAfterTimeLimit(3000)] });

const NOW = 1_700_000_000;
const ISSUER = 'https://tenant.auth0.com/';
const API = 'https://api.example.com';
const OTHER_API = 'https://other.example.com';

type Options = Parameters<typeof validateIntrospection>[1];

const introspectionOptions: fc.Arbitrary<Options> = fc.record({
  issuer: fc.constant(ISSUER),
  audiences: fc.constantFrom([API], [API, OTHER_API]),
  clockToleranceSeconds: fc.constantFrom(0, 5, 300),
});

/** Values where a member is expected: near misses of the valid ones, odd numbers, any JSON. */
const memberValue = fc.oneof(
  fc.constantFrom(true, false, 'true', 1, null, ISSUER, ISSUER.toUpperCase(), API, OTHER_API, ''),
  fc.constantFrom([API], [5, API], [], [[API]], { 0: API }, 'Bearer', 'DPoP', 'dpop', 'N_A'),
  fc.constantFrom(NOW, NOW - 1, NOW + 1, NOW - 300, NOW + 300, 0, -0, 1e308, -1e308, NaN),
  fc.constantFrom(Infinity, -Infinity, `${NOW + 600}`, 'read:messages', { jkt: 'x' }),
  fc.constantFrom(['read:messages'], ['read:messages', 1], [{}], 42, {}, 'admin'),
  fc.integer({ min: NOW - 400, max: NOW + 400 }),
  fc.double(),
  fc.string({ maxLength: 8 }),
  fc.jsonValue({ maxDepth: 1 }),
  fc.constant(undefined),
);

const MEMBER_NAMES = [
  'active',
  'iss',
  'aud',
  'exp',
  'sub',
  'scope',
  'client_id',
  'token_type',
  'nbf',
  'iat',
  'cnf',
  'scp',
  'permissions',
  'azp',
  'jti',
  'username',
] as const;

const validResponse = fc.record(
  {
    active: fc.constant(true as const),
    iss: fc.constant(ISSUER),
    aud: fc.constantFrom(API, [API], [OTHER_API, API]),
    exp: fc.integer({ min: NOW + 1, max: NOW + 86_400 }),
    sub: fc.constant('auth0|123'),
    scope: fc.constant('read:messages'),
    client_id: fc.constant('client-1'),
    token_type: fc.constantFrom('Bearer', 'access_token'),
  },
  { requiredKeys: ['active', 'aud', 'sub'] },
);

/** A valid response with one or more members replaced (or removed, or added). */
const mutatedResponse = fc
  .tuple(
    validResponse,
    fc.array(fc.tuple(fc.constantFrom(...MEMBER_NAMES), memberValue), {
      minLength: 1,
      maxLength: 3,
    }),
  )
  .map(([response, replacements]) => {
    const mutated: Record<string, unknown> = { ...response };
    for (const [name, value] of replacements) {
      if (value === undefined) delete mutated[name];
      else mutated[name] = value;
    }
    return mutated;
  });

type Outcome = 'accepted' | 'refused' | 'malformed';

const isString = (value: unknown) => typeof value === 'string';
const isFiniteNumber = (value: unknown) => typeof value === 'number' && Number.isFinite(value);
const isStrings = (value: unknown) => Array.isArray(value) && value.every(isString);
/** The registered members and their types, written out independently of the code. */
const MEMBER_TYPES: Record<string, (value: unknown) => boolean> = {
  iss: isString,
  aud: (value) => isString(value) || isStrings(value),
  exp: isFiniteNumber,
  nbf: isFiniteNumber,
  iat: isFiniteNumber,
  sub: isString,
  client_id: isString,
  azp: isString,
  jti: isString,
  scope: isString,
  scp: (value) => isString(value) || isStrings(value),
  permissions: isStrings,
};

/**
 * RFC 7662 §2.2 plus this library's rules: an inactive token is refused; an active one with a
 * registered member of the wrong type is the provider's fault (malformed, 503); then the checks.
 */
function expectedOutcome(
  response: Record<string, unknown>,
  options: Options,
  now: number,
): Outcome {
  const has = (name: string) => response[name] !== undefined;
  if (response.active !== true) return 'refused';
  if (Object.entries(MEMBER_TYPES).some(([name, fits]) => has(name) && !fits(response[name])))
    return 'malformed';
  // cnf and token_type DPoP are for the binding checks (lib/binding).
  if (has('iss') && response.iss !== options.issuer) return 'refused';
  const aud = (typeof response.aud === 'string' ? [response.aud] : response.aud) as
    string[] | undefined;
  if (!aud || !aud.some((a) => options.audiences.includes(a))) return 'refused';
  const { exp, nbf } = response as { exp?: number; nbf?: number };
  if (exp !== undefined && !(now < exp + options.clockToleranceSeconds)) return 'refused';
  if (nbf !== undefined && now + options.clockToleranceSeconds < nbf) return 'refused';
  if (!response.sub) return 'refused';
  return 'accepted';
}

/** What validateIntrospection did: accepted (the response itself), refused (401) or malformed (503). */
function outcome(response: Record<string, unknown>, options: Options): Outcome {
  try {
    const result: IntrospectedClaims = validateIntrospection(
      response as IntrospectionResponse,
      options,
      NOW,
    );
    if (result !== response) throw new Error('validateIntrospection returned another object');
    return 'accepted';
  } catch (error) {
    if (error instanceof MalformedAnswerError && error.status === 503) return 'malformed';
    if (error instanceof InvalidTokenError && error.status === 401) return 'refused';
    throw error;
  }
}

function answersAsSpecified(response: Record<string, unknown>, options: Options): boolean {
  return outcome(response, options) === expectedOutcome(response, options, NOW);
}

describe('validateIntrospection (properties)', () => {
  it('accepts any object only when it is valid; otherwise a 401, or a 503 when it is malformed', () => {
    const anyObject = fc.oneof(
      fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 }),
      fc.object({ maxDepth: 2, withNullPrototype: true, withBoxedValues: true }),
      fc.record(
        { active: memberValue, aud: memberValue, exp: memberValue, token_type: memberValue },
        { requiredKeys: [] },
      ),
    ) as fc.Arbitrary<Record<string, unknown>>;
    const property = fc.property(anyObject, introspectionOptions, answersAsSpecified);
    expect(() => fc.assert(property, bounded(10_000))).not.toThrow();
  });

  it('accepts a valid response, with any member replaced, exactly when it stays valid', () => {
    const property = fc.property(mutatedResponse, introspectionOptions, answersAsSpecified);
    expect(() => fc.assert(property, bounded(15_000))).not.toThrow();
  });
});
