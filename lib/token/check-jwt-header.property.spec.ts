import * as fc from 'fast-check';
import { InvalidTokenError } from '../errors/auth-error';
import {
  checkJwtHeader,
  SUPPORTED_ALGORITHMS,
  type CheckedHeader,
  type HeaderPolicy,
} from './check-jwt-header';

/** Runs per property, stopped after 3 s (a success if nothing failed so far) to bound CI time. */
const bounded = (numRuns: number) => ({ numRuns, plugins: [fc.interruptAfterTimeLimit(3000)] });

const ACCESS_TOKEN_TYPES = ['at+jwt', 'application/at+jwt', 'jwt', 'application/jwt'];
const STRICT_TYPES = ['at+jwt', 'application/at+jwt'];

/** One of `values` with each letter upper- or lower-cased at random (a bit mask per letter). */
const anyCase = (...values: string[]) =>
  fc
    .tuple(fc.constantFrom(...values), fc.nat())
    .map(([value, mask]) =>
      [...value].map((c, i) => (mask & (1 << i) ? c.toUpperCase() : c.toLowerCase())).join(''),
    );

/** JSON values where a header member is expected: edge cases first, then arbitrary ones. */
const anyJson = fc.oneof(
  fc.constantFrom(null, true, false, 0, -0, 1, 1e308, '', 'RS256', [], {}, ['b64'], {
    alg: 'RS256',
  }),
  fc.string({ maxLength: 8 }),
  fc.jsonValue({ maxDepth: 1 }),
);
const alg = fc.oneof(
  fc.constantFrom(...SUPPORTED_ALGORITHMS),
  fc.constantFrom('none', 'HS256', 'HS384', 'HS512', 'RS256 ', ' RS256', 'RS256\u0000', 'EdDSA'),
  fc.constantFrom('ES256K', 'RSA-OAEP', 'dir', '', 'RS1', 'RS', 'RS2560'),
  anyCase(...SUPPORTED_ALGORITHMS, 'none', 'HS256'),
  fc.string({ maxLength: 8 }),
  anyJson,
);
const typ = fc.oneof(
  anyCase(...ACCESS_TOKEN_TYPES),
  fc.constantFrom('JOSE', 'JOSE+JSON', 'id+jwt', 'logout+jwt', 'at+jwt ', '', 'at+jwt; q=1'),
  fc.string({ maxLength: 12 }),
  anyJson,
);
const kid = fc.oneof(
  fc.constantFrom(0, 1, 255, 256, 257, 1000).map((n) => 'k'.repeat(n)),
  fc.string({ unit: 'binary', maxLength: 20 }),
  anyJson,
);
const attackerUrl = fc.constantFrom(
  'https://attacker.example/jwks.json',
  'http://127.0.0.1:1/',
  '',
);

/** A header member as a valid header has it (most often), absent, or one of `others`. */
const member = (valid: fc.Arbitrary<unknown>, others: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { arbitrary: valid, weight: 3 },
    { arbitrary: fc.constant(undefined), weight: 1 },
    { arbitrary: others, weight: 2 },
  );

/** Headers near a valid one: each member the checks look at kept, dropped or replaced. */
const joseHeader: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    fc.record({
      alg: member(fc.constantFrom(...SUPPORTED_ALGORITHMS), alg),
      typ: member(anyCase(...ACCESS_TOKEN_TYPES), typ),
      kid: member(fc.string({ minLength: 1, maxLength: 8 }), kid),
      crit: member(fc.constant(undefined), fc.oneof(fc.constantFrom(['b64'], [], null), anyJson)),
      b64: member(fc.constant(true), fc.oneof(fc.constant(false), anyJson)),
      jwk: member(fc.constant(undefined), anyJson),
      jku: member(fc.constant(undefined), fc.oneof(attackerUrl, anyJson)),
      x5u: member(fc.constant(undefined), attackerUrl),
      x5c: member(fc.constant(undefined), fc.array(fc.base64String(), { maxLength: 2 })),
    }),
    fc.dictionary(fc.string({ maxLength: 5 }), anyJson, { maxKeys: 2 }),
  )
  .map(([members, extra]) => {
    const header: Record<string, unknown> = { ...extra };
    for (const [name, value] of Object.entries(members)) {
      if (value === undefined) delete header[name];
      else header[name] = value;
    }
    return header;
  });

const anyHeader: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  { arbitrary: joseHeader, weight: 4 },
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 }),
  fc.object({ maxDepth: 2 }) as fc.Arbitrary<Record<string, unknown>>,
);

/** Policies, sometimes listing algorithms the library must refuse anyway. */
const policy: fc.Arbitrary<HeaderPolicy> = fc.record(
  {
    algorithms: fc.subarray([...SUPPORTED_ALGORITHMS, 'HS256', 'none', 'EdDSA'], {
      minLength: 1,
    }),
    strict: fc.boolean(),
  },
  { requiredKeys: ['strict'] },
);

/** The checks of RFC 8725 and RFC 9068 §4, written out independently of the implementation. */
function acceptable(header: Record<string, unknown>, headerPolicy: HeaderPolicy): boolean {
  const { alg: a, typ: t, kid: k, crit, b64 } = header;
  const supported = (SUPPORTED_ALGORITHMS as readonly unknown[]).includes(a);
  const allowed =
    headerPolicy.algorithms === undefined || headerPolicy.algorithms.includes(a as string);
  const types = headerPolicy.strict ? STRICT_TYPES : ACCESS_TOKEN_TYPES;
  const typOk =
    t === undefined
      ? !headerPolicy.strict
      : typeof t === 'string' && types.includes(t.toLowerCase());
  const kidOk = k === undefined || (typeof k === 'string' && k.length >= 1 && k.length <= 256);
  return (
    supported &&
    allowed &&
    typOk &&
    kidOk &&
    crit === undefined &&
    (b64 === undefined || b64 === true)
  );
}

/** The checked header, or the 401 refusal; any other exception escapes to fast-check. */
function check(
  header: Record<string, unknown>,
  headerPolicy: HeaderPolicy,
): CheckedHeader | InvalidTokenError {
  try {
    return checkJwtHeader(header, headerPolicy);
  } catch (error) {
    if (error instanceof InvalidTokenError) return error;
    throw error;
  }
}

describe('checkJwtHeader (properties)', () => {
  it('accepts exactly the headers that pass every check, and answers only {alg, kid?} or a 401', () => {
    const property = fc.property(anyHeader, policy, (header, headerPolicy) => {
      const result = check(header, headerPolicy);
      if (result instanceof InvalidTokenError) {
        return result.code === 'invalid_token' && !acceptable(header, headerPolicy);
      }
      const keys = Object.keys(result).sort().join(',');
      return (
        acceptable(header, headerPolicy) &&
        result.alg === header.alg &&
        result.kid === header.kid &&
        keys === (header.kid === undefined ? 'alg' : 'alg,kid')
      );
    });
    expect(() => fc.assert(property, bounded(15_000))).not.toThrow();
  });

  it('never accepts none or an HMAC algorithm, in any case, whatever the policy lists', () => {
    const forbidden = fc.oneof(
      anyCase('none', 'HS256', 'HS384', 'HS512'),
      fc.string({ maxLength: 6 }).map((suffix) => `HS${suffix}`),
    );
    const property = fc.property(forbidden, joseHeader, policy, (a, header, headerPolicy) => {
      const lenientPolicy = {
        ...headerPolicy,
        algorithms: [...(headerPolicy.algorithms ?? []), a],
      };
      return check({ ...header, alg: a }, lenientPolicy) instanceof InvalidTokenError;
    });
    expect(() => fc.assert(property, bounded(10_000))).not.toThrow();
  });

  it('accepts every well-formed access-token header the policy allows', () => {
    const property = fc.property(
      policy,
      fc.nat(),
      anyCase(...STRICT_TYPES),
      anyCase(...ACCESS_TOKEN_TYPES),
      fc.option(fc.string({ minLength: 1, maxLength: 256 }), { nil: undefined }),
      (headerPolicy, index, strictTyp, lenientTyp, k) => {
        const allowed = (headerPolicy.algorithms ?? SUPPORTED_ALGORITHMS).filter((a) =>
          (SUPPORTED_ALGORITHMS as readonly string[]).includes(a),
        );
        fc.pre(allowed.length > 0);
        const header = {
          alg: allowed[index % allowed.length],
          typ: headerPolicy.strict ? strictTyp : lenientTyp,
          ...(k === undefined ? {} : { kid: k }),
          // Embedded keys are ignored, never refused nor used.
          jku: 'https://attacker.example/jwks.json',
          jwk: { kty: 'oct', k: 'c2VjcmV0' },
        };
        const result = check(header, headerPolicy);
        return (
          !(result instanceof InvalidTokenError) && result.alg === header.alg && result.kid === k
        );
      },
    );
    expect(() => fc.assert(property, bounded(10_000))).not.toThrow();
  });
});
