import * as fc from 'fast-check';
import { InvalidRequestError } from '../errors/auth-error';
import { extractBearerToken, type ExtractOptions, type TokenSource } from './extract-token';

/**
 * Runs per property, stopped after 3 s (a success if nothing failed so far) to bound CI time.
 * Checks inside properties are plain predicates: a Jest `expect` costs ~90 µs, a run ~5 µs.
 */
const bounded = (numRuns: number) => ({ numRuns, plugins: [fc.interruptAfterTimeLimit(3000)] });

const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
const TOKEN68_BODY = [
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
  ...'-._~+/',
];

const token68 = fc
  .tuple(
    fc.string({ unit: fc.constantFrom(...TOKEN68_BODY), minLength: 1, maxLength: 60 }),
    fc.string({ unit: fc.constant('='), maxLength: 3 }),
  )
  .map(([body, padding]) => body + padding);

/** Strings that look like Authorization headers: schemes, spaces, tabs and token68 pieces. */
const headerLike = fc
  .array(
    fc.oneof(
      fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'DPoP', 'Bearerx', ' ', '  ', '\t'),
      fc.constantFrom(',', '=', '.', '"', '\u00a0', '\n', '\u2028', ''),
      token68,
      fc.string({ unit: 'grapheme', maxLength: 4 }),
    ),
    { maxLength: 6 },
  )
  .map((parts) => parts.join(''));

const anyHeaderString = fc.oneof(
  headerLike,
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 80 }),
);

const extractOptions: fc.Arbitrary<ExtractOptions> = fc.record({
  allowQueryToken: fc.boolean(),
  maxTokenLength: fc.integer({ min: 1, max: 64 }),
});

const tokenSource: fc.Arbitrary<TokenSource> = fc.record(
  {
    authorization: anyHeaderString,
    authorizationHeaders: fc.integer({ min: 0, max: 3 }),
    queryToken: fc.oneof(token68, anyHeaderString, fc.anything()),
  },
  { requiredKeys: [] },
);

/** The token, `undefined`, or the 400 refusal; any other exception escapes to fast-check. */
function extract(
  source: TokenSource,
  options: ExtractOptions,
): string | undefined | InvalidRequestError {
  try {
    return extractBearerToken(source, options);
  } catch (error) {
    if (error instanceof InvalidRequestError) return error;
    throw error;
  }
}

describe('extractBearerToken (properties)', () => {
  it('returns nothing, a bounded token68, or a 400 invalid_request, for any request', () => {
    const property = fc.property(tokenSource, extractOptions, (source, options) => {
      const result = extract(source, options);
      if (result instanceof InvalidRequestError) {
        return result.code === 'invalid_request' && result.status === 400;
      }
      return (
        result === undefined || (TOKEN68.test(result) && result.length <= options.maxTokenLength)
      );
    });
    expect(() => fc.assert(property, bounded(20_000))).not.toThrow();
  });

  it('extracts a well-formed "Bearer <token68>" exactly, whatever the scheme case and spaces', () => {
    const scheme = fc
      .array(fc.boolean(), { minLength: 6, maxLength: 6 })
      .map((upper) => [...'bearer'].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join(''));
    const spaces = fc.integer({ min: 1, max: 5 }).map((n) => ' '.repeat(n));
    const property = fc.property(
      scheme,
      spaces,
      token68,
      fc.boolean(),
      (name, gap, token, allowQueryToken) =>
        extract(
          { authorization: `${name}${gap}${token}` },
          { allowQueryToken, maxTokenLength: token.length },
        ) === token,
    );
    expect(() => fc.assert(property, bounded(20_000))).not.toThrow();
  });

  it('refuses a Bearer token separated by anything but spaces (tab, NBSP, newline)', () => {
    const badGap = fc
      .tuple(
        fc.string({ unit: fc.constant(' '), maxLength: 2 }),
        fc.constantFrom('\t', '\u00a0', '\n', '\r', '\u2028', '\u3000'),
        fc.string({ unit: fc.constantFrom(' ', '\t'), maxLength: 2 }),
      )
      .map((parts) => parts.join(''));
    const property = fc.property(
      badGap,
      token68,
      (gap, token) =>
        extract(
          { authorization: `Bearer${gap}${token}` },
          { allowQueryToken: false, maxTokenLength: 64 },
        ) instanceof InvalidRequestError,
    );
    expect(() => fc.assert(property, bounded(20_000))).not.toThrow();
  });

  it('ignores a header of another scheme when no query token is sent (RFC 6750 §3.1)', () => {
    const otherScheme = anyHeaderString.filter((value) => !/^bearer(\s|$)/i.test(value));
    const property = fc.property(
      otherScheme,
      extractOptions,
      (authorization, options) => extract({ authorization }, options) === undefined,
    );
    expect(() => fc.assert(property, bounded(20_000))).not.toThrow();
  });
});
