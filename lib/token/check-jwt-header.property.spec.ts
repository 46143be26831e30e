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

const mixedCase = (value: string) =>
  fc
    .array(fc.boolean(), { minLength: value.length, maxLength: value.length })
    .map((upper) => [...value].map((c, i) => (upper[i] ? c.toUpperCase() : c.toLowerCase())).join(''));

const alg = fc.oneof(
  fc.constantFrom(...SUPPORTED_ALGORITHMS),
  fc.constantFrom('none', 'HS256', 'HS384', 'HS512', 'RS256 ', ' RS256', 'RS256\u0000', 'EdDSA'),
  fc.constantFrom('ES256K', 'RSA-OAEP', 'dir', '', 'RS1', 'RS', 'RS2560'),
  fc.constantFrom(...SUPPORTED_ALGORITHMS, 'none', 'HS256').chain(mixedCase),
  fc.string({ maxLength: 8 }),
  fc.jsonValue({ maxDepth: 1 }),
);
const typ = fc.oneof(
  fc.constantFrom(...ACCESS_TOKEN_TYPES).chain(mixedCase),
  fc.constantFrom('JOSE', 'JOSE+JSON', 'id+jwt', 'logout+jwt', 'at+jwt ', '', 'at+jwt; q=1'),
  fc.string({ maxLength: 12 }),
  fc.jsonValue({ maxDepth: 1 }),
);
const kid = fc.oneof(
  fc.integer({ min: 0, max: 300 }).map((n) => 'k'.repeat(n)),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.jsonValue({ maxDepth: 1 }),
);
const anyJson = fc.jsonValue({ maxDepth: 2 });

/** Headers biased towards the members the checks look at, each present or absent. */
const joseHeader: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    fc.record(
      {
        alg,
        typ,
        kid,
        crit: fc.oneof(fc.constantFrom(['b64'], [], null, 'exp'), anyJson),
        b64: fc.oneof(fc.boolean(), anyJson),
        jwk: anyJson,
        jku: fc.oneof(fc.webUrl(), anyJson),
        x5u: fc.webUrl(),
        x5c: fc.array(fc.base64String(), { maxLength: 2 }),
      },
      { requiredKeys: [] },
    ),
    fc.dictionary(fc.string({ maxLength: 5 }), anyJson, { maxKeys: 3 }),
  )
  .map(([members, extra]) => ({ ...extra, ...members }));

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
  const allowed = headerPolicy.algorithms === undefined || headerPolicy.algorithms.includes(a as string);
  const types = headerPolicy.strict ? STRICT_TYPES : ACCESS_TOKEN_TYPES;
  const typOk = t === undefined ? !headerPolicy.strict : typeof t === 'string' && types.includes(t.toLowerCase());
  const kidOk = k === undefined || (typeof k === 'string' && k.length >= 1 && k.length <= 256);
  return supported && allowed && typOk && kidOk && crit === undefined && (b64 === undefined || b64 === true);
}

/** The checked header, or the 401 refusal; any other exception escapes to fast-check. */
function check(header: Record<string, unknown>, headerPolicy: HeaderPolicy): CheckedHeader | InvalidTokenError {
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
    expect(() => fc.assert(property, bounded(30_000))).not.toThrow();
  });

  it('never accepts none or an HMAC algorithm, in any case, whatever the policy lists', () => {
    const forbidden = fc.oneof(
      fc.constantFrom('none', 'HS256', 'HS384', 'HS512').chain(mixedCase),
      fc.string({ maxLength: 6 }).map((suffix) => `HS${suffix}`),
    );
    const property = fc.property(forbidden, joseHeader, policy, (a, header, headerPolicy) => {
      const lenientPolicy = { ...headerPolicy, algorithms: [...(headerPolicy.algorithms ?? []), a] };
      return check({ ...header, alg: a }, lenientPolicy) instanceof InvalidTokenError;
    });
    expect(() => fc.assert(property, bounded(20_000))).not.toThrow();
  });

  it('accepts every well-formed access-token header the policy allows', () => {
    const wellFormed = fc
      .tuple(policy, fc.nat(), fc.boolean(), fc.option(fc.string({ minLength: 1, maxLength: 256 })))
      .chain(([headerPolicy, index, withTyp, k]) => {
        const allowed = (headerPolicy.algorithms ?? SUPPORTED_ALGORITHMS).filter((a) =>
          (SUPPORTED_ALGORITHMS as readonly string[]).includes(a),
        );
        if (allowed.length === 0) return fc.constant(undefined);
        const types = headerPolicy.strict ? STRICT_TYPES : ACCESS_TOKEN_TYPES;
        return fc.constantFrom(...types).chain(mixedCase).map((t) => ({
          headerPolicy,
          header: {
            alg: allowed[index % allowed.length],
            ...(withTyp || headerPolicy.strict ? { typ: t } : {}),
            ...(k === null ? {} : { kid: k }),
            jku: 'https://attacker.example/jwks.json',
          },
        }));
      });
    const property = fc.property(wellFormed, (input) => {
      if (input === undefined) return true;
      const result = check(input.header, input.headerPolicy);
      return !(result instanceof InvalidTokenError) && result.alg === input.header.alg;
    });
    expect(() => fc.assert(property, bounded(20_000))).not.toThrow();
  });
});
