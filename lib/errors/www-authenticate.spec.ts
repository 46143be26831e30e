import {
  AuthError,
  InsufficientScopeError,
  InsufficientUserAuthenticationError,
  InvalidRequestError,
  InvalidTokenError,
  IssuerUnavailableError,
  MissingTokenError,
  UnsupportedContextError,
} from './auth-error';
import { AuthOptionsError } from './auth-options-error';
import {
  authErrorAnswer,
  buildChallenge,
  buildErrorBody,
  stepUpParameters,
  challengeRealm,
} from './www-authenticate';

/** RFC 6750 §3: auth-params whose quoted-string values hold only %x20-21 / %x23-5B / %x5D-7E. */
const CHALLENGE =
  /^Bearer (\w+="[\x20\x21\x23-\x5b\x5d-\x7e]*")(, \w+="[\x20\x21\x23-\x5b\x5d-\x7e]*")*$/;

/** Small seeded PRNG (mulberry32), so that a failing case can be reproduced. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NASTY = [
  '"',
  '\\',
  '\r',
  '\n',
  '\t',
  '\0',
  '\x7f',
  'é',
  'ß',
  '€',
  '😀',
  '\u2028',
  ', ',
  '="',
];

function randomText(next: () => number): string {
  let text = '';
  const length = Math.floor(next() * 40);
  for (let i = 0; i < length; i++) {
    text +=
      next() < 0.3
        ? NASTY[Math.floor(next() * NASTY.length)]
        : String.fromCharCode(Math.floor(next() * 0x80));
  }
  return text;
}

describe('buildChallenge', () => {
  it.each([
    ['no token', new MissingTokenError()],
    ['an unreachable issuer', new IssuerUnavailableError('down', 30)],
  ])('answers %s with the bare realm and no error code', (_, error) => {
    expect(buildChallenge(error, { realm: 'api' })).toBe('Bearer realm="api"');
  });

  it('gives invalid_token an error and an error_description', () => {
    expect(
      buildChallenge(new InvalidTokenError('token_expired', 'The token expired.'), {
        realm: 'api',
      }),
    ).toBe('Bearer realm="api", error="invalid_token", error_description="The token expired."');
  });

  it.each([
    new InvalidRequestError('multiple_token_methods', 'Two tokens.'),
    new UnsupportedContextError('ws'),
  ])('gives %p the invalid_request code', (error) => {
    expect(buildChallenge(error, { realm: 'api' })).toContain('error="invalid_request"');
  });

  it('lists the required scopes of insufficient_scope', () => {
    expect(
      buildChallenge(new InsufficientScopeError(['a', 'b'], 'Needs a and b.'), { realm: 'api' }),
    ).toBe(
      'Bearer realm="api", error="insufficient_scope", scope="a b", error_description="Needs a and b."',
    );
  });

  it.each([
    [
      'acr and max_age',
      { acrValues: ['urn:a', 'urn:b'], maxAge: 300 },
      'acr_values="urn:a urn:b", max_age="300", ',
    ],
    ['acr alone', { acrValues: ['urn:a'] }, 'acr_values="urn:a", '],
    ['max_age alone', { maxAge: 0 }, 'max_age="0", '],
  ])(
    'puts the step-up parameters (%s) after error and before error_description (RFC 9470 §3)',
    (_case, requirement, params) => {
      const error = new InsufficientUserAuthenticationError('acr_missing', 'No acr.', requirement);
      expect(
        buildChallenge(error, { realm: 'api', resourceMetadataUrl: 'https://api/.well-known/x' }),
      ).toBe(
        `Bearer realm="api", error="insufficient_user_authentication", ${params}` +
          'error_description="No acr.", resource_metadata="https://api/.well-known/x"',
      );
    },
  );

  it('gives the step-up parameters of step-up refusals only', () => {
    const error = new InsufficientUserAuthenticationError('authentication_too_old', 'Old.', {
      maxAge: 60,
    });
    expect(stepUpParameters(error)).toEqual({ max_age: 60 });
    expect(stepUpParameters(new InsufficientScopeError(['a'], 'm'))).toEqual({});
  });

  it("names the route's scopes in a 401, before the description (RFC 6750 §3, MCP)", () => {
    const challenge = {
      realm: 'api',
      scopes: ['read:messages', 'admin'],
      resourceMetadataUrl: 'https://api.example.com/.well-known/oauth-protected-resource',
    };
    expect(buildChallenge(new MissingTokenError(), challenge)).toBe(
      'Bearer realm="api", scope="read:messages admin", ' +
        'resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"',
    );
    expect(
      buildChallenge(new InvalidTokenError('token_expired', 'Ask for scope=other.'), challenge),
    ).toBe(
      'Bearer realm="api", error="invalid_token", scope="read:messages admin", ' +
        'error_description="Ask for scope=other.", ' +
        'resource_metadata="https://api.example.com/.well-known/oauth-protected-resource"',
    );
  });

  it("names the refusal's own scopes in a 403, not the route's", () => {
    const error = new InsufficientScopeError(['read:messages', 'write:messages'], 'Needs write.');
    expect(buildChallenge(error, { realm: 'api', scopes: ['read:messages'] })).toBe(
      'Bearer realm="api", error="insufficient_scope", scope="read:messages write:messages", ' +
        'error_description="Needs write."',
    );
  });

  it('names no scope in a 403 that no scope cures (a claim rule)', () => {
    const error = new (class extends AuthError {})(
      'insufficient_scope',
      'claim_rule_failed',
      'No.',
    );
    expect(buildChallenge(error, { realm: 'api', scopes: ['read:messages'] })).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="No."',
    );
  });

  it('names no scope when the route requires none', () => {
    expect(buildChallenge(new MissingTokenError(), { realm: 'api', scopes: [] })).toBe(
      'Bearer realm="api"',
    );
  });

  it('puts the scope in both challenges of a request without credentials where DPoP is on', () => {
    const dpopChallenge = { algorithms: ['ES256'], required: false };
    expect(
      buildChallenge(new MissingTokenError(), { realm: 'api', scopes: ['a'], dpopChallenge }),
    ).toBe('Bearer realm="api", scope="a", DPoP realm="api", scope="a", algs="ES256"');
  });

  it('uses the configured realm', () => {
    expect(buildChallenge(new MissingTokenError(), { realm: 'orders' })).toBe(
      'Bearer realm="orders"',
    );
  });

  it('replaces quotes, backslashes and non-ASCII in a description', () => {
    const error = new InvalidTokenError('issuer_mismatch', 'iss "x\\y" café\r\n');
    expect(buildChallenge(error, { realm: 'api' })).toBe(
      `Bearer realm="api", error="invalid_token", error_description="iss 'x?y' caf???"`,
    );
  });

  it('never breaks the quoted-string, whatever the text (500 seeded cases)', () => {
    const next = random(6750);
    for (let i = 0; i < 500; i++) {
      const message = randomText(next);
      const scopes = [randomText(next), randomText(next)];
      const realm = randomText(next);
      expect(buildChallenge(new InvalidTokenError('invalid_claim', message), { realm })).toMatch(
        CHALLENGE,
      );
      expect(buildChallenge(new InsufficientScopeError(scopes, message), { realm })).toMatch(
        CHALLENGE,
      );
    }
  });
});

describe('challengeRealm', () => {
  it('defaults to api and keeps a configured realm', () => {
    expect(challengeRealm(undefined)).toBe('api');
    expect(challengeRealm('orders')).toBe('orders');
  });

  it.each(['a scope=b', 'x=y', 'quote"d'])(
    'refuses %p (MCP clients search the header for "scope=")',
    (realm) => {
      expect(() => challengeRealm(realm)).toThrow(AuthOptionsError);
    },
  );
});

describe('buildErrorBody', () => {
  it('carries the status, the RFC 6750 code, the message and the reason', () => {
    expect(buildErrorBody(new InvalidTokenError('id_token', 'An ID token.'))).toStrictEqual({
      statusCode: 401,
      error: 'invalid_token',
      message: 'An ID token.',
      reason: 'id_token',
    });
  });

  it('answers an unreachable issuer with 503', () => {
    expect(buildErrorBody(new IssuerUnavailableError('down'))).toMatchObject({
      statusCode: 503,
      error: 'issuer_unavailable',
    });
  });
});

describe('authErrorAnswer', () => {
  it('answers a refusal of the caller with its challenge, status and body', () => {
    const error = new InsufficientScopeError(['read'], 'Needs read.');
    expect(authErrorAnswer(error, { realm: 'orders' })).toStrictEqual({
      status: 403,
      headers: {
        'WWW-Authenticate':
          'Bearer realm="orders", error="insufficient_scope", scope="read", error_description="Needs read."',
      },
      body: buildErrorBody(error),
    });
  });

  it('answers an unreachable issuer with Retry-After and no challenge', () => {
    expect(authErrorAnswer(new IssuerUnavailableError('down', 7), { realm: 'api' })).toMatchObject({
      status: 503,
      headers: { 'Retry-After': '7' },
    });
    expect(
      authErrorAnswer(new IssuerUnavailableError('down'), { realm: 'api' }).headers,
    ).toStrictEqual({});
  });
});
