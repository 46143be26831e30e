import * as fc from 'fast-check';
import {
  AuthError,
  InsufficientScopeError,
  InvalidRequestError,
  InvalidTokenError,
  IssuerUnavailableError,
  MissingTokenError,
  UnsupportedContextError,
} from './auth-error';
import { buildChallenge } from './www-authenticate';

/** Runs per property, stopped after 3 s (a success if nothing failed so far) to bound CI time. */
const bounded = (numRuns: number) => ({ numRuns, plugins: [fc.interruptAfterTimeLimit(3000)] });

/** RFC 6750 §3: a realm, then error, error_description and scope as quoted printable ASCII. */
const CHALLENGE =
  /^Bearer realm="[\x20\x21\x23-\x5b\x5d-\x7e]*"(, (error|error_description|scope)="[\x20\x21\x23-\x5b\x5d-\x7e]*")*$/;

/** Text an error message may carry: claim values echoed back, quotes, CR/LF, any Unicode. */
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc
    .array(fc.constantFrom('"', '\\', '\r\n', ', error="x"', '\u0000', '\u00e9', '\ud800', 'ok'))
    .map((parts) => parts.join('')),
);

const anyAuthError: fc.Arbitrary<AuthError> = fc.oneof(
  text.map((message) => new MissingTokenError(message)),
  text.map((message) => new InvalidRequestError('malformed_authorization_header', message)),
  text.map((message) => new InvalidTokenError('audience_mismatch', message)),
  fc
    .tuple(fc.array(text, { maxLength: 3 }), text)
    .map(([scopes, message]) => new InsufficientScopeError(scopes, message)),
  text.map((message) => new IssuerUnavailableError(message, 5)),
  text.map((contextType) => new UnsupportedContextError(contextType)),
);

describe('buildChallenge (properties)', () => {
  it('answers a well-formed RFC 6750 challenge for any error text and realm', () => {
    const property = fc.property(anyAuthError, text, (error, realm) => {
      const challenge = buildChallenge(error, { realm });
      if (!CHALLENGE.test(challenge)) return false;
      // Quoted values hold no '"' once the pattern matched, so this reads each parameter whole.
      const params = [...challenge.matchAll(/(\w+)="([^"]*)"/g)].map(([, name, value]) => ({
        name,
        value,
      }));
      const withCode = error.code !== 'missing_token' && error.code !== 'issuer_unavailable';
      const withScope = error instanceof InsufficientScopeError && error.requiredScopes.length > 0;
      const expected = [
        'realm',
        ...(withCode ? ['error'] : []),
        ...(withScope ? ['scope'] : []),
        ...(withCode ? ['error_description'] : []),
      ];
      return (
        params.map((param) => param.name).join() === expected.join() &&
        (!withCode || params[1].value === error.code)
      );
    });
    expect(() => fc.assert(property, bounded(20_000))).not.toThrow();
  });

  it('finds the scope parameter first where an MCP client searches for "scope=" (any realm without "=")', () => {
    const scopeToken = fc.stringMatching(/^[\x21\x23-\x5b\x5d-\x7e]{1,12}$/);
    const property = fc.property(
      anyAuthError,
      text.filter((realm) => !realm.includes('=')),
      fc.array(scopeToken, { minLength: 1, maxLength: 3 }),
      (error, realm, scopes) => {
        const challenge = buildChallenge(error, { realm, scopes });
        const named = error instanceof InsufficientScopeError ? error.requiredScopes : scopes;
        if (!challenge.startsWith('Bearer ')) return false;
        // Scopes of the generated errors may be any text: the order is what is checked here.
        if (named.length === 0 || !named.every((s) => /^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s)))
          return true;
        // The MCP SDK's own reading (client/auth.js extractFieldFromWwwAuth).
        const found = /scope=(?:"([^"]+)"|([^\s,]+))/.exec(challenge);
        return found?.[1] === named.join(' ');
      },
    );
    expect(() => fc.assert(property, bounded(20_000))).not.toThrow();
  });
});
