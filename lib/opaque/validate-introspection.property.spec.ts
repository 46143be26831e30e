import * as fc from 'fast-check';
import { InvalidTokenError } from '../errors/auth-error';
import type { IntrospectionResponse } from './introspection-client';
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
  'cnf',
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
  { requiredKeys: ['active', 'aud'] },
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

/** RFC 7662 §2.2 plus this library's rules, written out independently of the code. */
function acceptable(response: Record<string, unknown>, options: Options, now: number): boolean {
  const has = (name: string) => response[name] !== undefined;
  if (response.active !== true || has('cnf')) return false;
  if (typeof response.token_type === 'string' && response.token_type.toLowerCase() === 'dpop')
    return false;
  if (has('iss') && response.iss !== options.issuer) return false;
  const aud = typeof response.aud === 'string' ? [response.aud] : response.aud;
  if (!Array.isArray(aud) || !aud.every((a) => typeof a === 'string')) return false;
  if (!aud.some((a) => options.audiences.includes(a))) return false;
  const exp = response.exp;
  if (has('exp') && !(typeof exp === 'number' && Number.isFinite(exp))) return false;
  if (typeof exp === 'number' && !(now < exp + options.clockToleranceSeconds)) return false;
  const nbf = response.nbf;
  if (has('nbf') && !(typeof nbf === 'number' && Number.isFinite(nbf))) return false;
  if (typeof nbf === 'number' && now + options.clockToleranceSeconds < nbf) return false;
  return ['sub', 'scope', 'client_id'].every(
    (name) => !has(name) || typeof response[name] === 'string',
  );
}

/** The checked response, or the 401 refusal; any other exception escapes. */
function validate(
  response: Record<string, unknown>,
  options: Options,
): IntrospectedClaims | InvalidTokenError {
  try {
    return validateIntrospection(response as IntrospectionResponse, options, NOW);
  } catch (error) {
    if (error instanceof InvalidTokenError) return error;
    throw error;
  }
}

function answersAsSpecified(response: Record<string, unknown>, options: Options): boolean {
  const result = validate(response, options);
  if (result instanceof InvalidTokenError) {
    return result.status === 401 && !acceptable(response, options, NOW);
  }
  return result === response && acceptable(response, options, NOW);
}

describe('validateIntrospection (properties)', () => {
  it('answers any object with the claims only when they are valid, otherwise a 401 only', () => {
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
