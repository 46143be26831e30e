import { InvalidTokenError } from '../errors/auth-error';
import type { IntrospectionResponse } from './introspection-client';
import { MalformedAnswerError } from './malformed-answer';
import { validateIntrospection } from './validate-introspection';

const NOW = 1_700_000_000;
const ISSUER = 'https://tenant.auth0.com/';
const API = 'https://api.example.com';
const options = { issuer: ISSUER, audiences: [API], clockToleranceSeconds: 5 };
const valid: IntrospectionResponse = {
  active: true,
  iss: ISSUER,
  aud: API,
  exp: NOW + 600,
  sub: 'auth0|123',
  scope: 'read:messages',
  client_id: 'client123',
};

function refusal(response: unknown): InvalidTokenError {
  try {
    validateIntrospection(response as IntrospectionResponse, options, NOW);
  } catch (error) {
    if (error instanceof InvalidTokenError) return error;
    throw error;
  }
  throw new Error('expected an InvalidTokenError, but nothing was thrown');
}

/** The provider's fault: a member of the wrong type is a 503 that names it, never a 401 or a grant. */
function malformed(response: unknown): MalformedAnswerError {
  try {
    validateIntrospection(response as IntrospectionResponse, options, NOW);
  } catch (error) {
    if (error instanceof MalformedAnswerError) return error;
    throw error;
  }
  throw new Error('expected a MalformedAnswerError, but nothing was thrown');
}

describe('validateIntrospection', () => {
  it('returns a valid response as it is', () => {
    const response = { ...valid, token_type: 'Bearer' };
    expect(validateIntrospection(response, options, NOW)).toBe(response);
  });

  it.each([
    [
      'without iss, exp, scope, client_id, with an aud array naming the API',
      { active: true, aud: [API], sub: 'auth0|123' },
    ],
    ['aud as an array with another audience and the API', { ...valid, aud: ['other', API] }],
    ['exp within the clock tolerance', { ...valid, exp: NOW - 4 }],
    ['exp huge', { ...valid, exp: 1e308 }],
  ])('accepts a response %s', (_, response) => {
    expect(validateIntrospection(response, options, NOW)).toBe(response);
  });

  it.each([
    ['without sub', { ...valid, sub: undefined }],
    ['with an empty sub', { ...valid, sub: '' }],
  ])('refuses an active response %s with 401 missing_claim', (_, response) => {
    const error = (() => {
      try {
        validateIntrospection(response, options, NOW);
      } catch (caught) {
        return caught as InvalidTokenError;
      }
      throw new Error('accepted');
    })();
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error.reason).toBe('missing_claim');
    expect(error.message).toContain('no sub claim');
  });

  it('accepts the second configured audience', () => {
    const response = { ...valid, aud: 'https://other.example.com' };
    const twoAudiences = { ...options, audiences: [API, 'https://other.example.com'] };
    expect(validateIntrospection(response, twoAudiences, NOW)).toBe(response);
  });

  it.each([
    ['active false', { ...valid, active: false }],
    ['active missing', { ...valid, active: undefined }],
    ['active "true"', { ...valid, active: 'true' }],
    ['active 1', { ...valid, active: 1 }],
    ['only active false', { active: false }],
  ])('refuses %s as inactive', (_, response) => {
    expect(refusal(response).reason).toBe('token_inactive');
  });

  it.each(['https://evil.example.com/', 'https://tenant.auth0.com', 'HTTPS://TENANT.AUTH0.COM/'])(
    'refuses iss %p',
    (iss) => {
      expect(refusal({ ...valid, iss }).reason).toBe('issuer_mismatch');
    },
  );

  it.each([
    ['missing', undefined],
    ['another API', 'https://other.example.com'],
    ['the API with a trailing slash', `${API}/`],
    ['an empty array', []],
    ['an array of other APIs', ['a', 'b']],
  ])('refuses aud %s', (_, aud) => {
    const error = refusal({ ...valid, aud });
    expect(error.reason).toBe('audience_mismatch');
    expect(error.message).toContain(`audience=${API}`);
  });

  it.each([
    ['expired past the tolerance', NOW - 100, 'token_expired'],
    ['exactly at the tolerance', NOW - 5, 'token_expired'],
  ])('refuses exp %s', (_, exp, reason) => {
    expect(refusal({ ...valid, exp }).reason).toBe(reason);
  });

  it('builds the message of a hugely negative exp without a RangeError', () => {
    const error = refusal({ ...valid, exp: -1e308 });
    expect(error.reason).toBe('token_expired');
    expect(error.message).toContain('-1e+308');
  });

  it.each([
    ['iss', null, 'a string'],
    ['iss', 42, 'a string'],
    ['aud', null, 'a string or an array of strings'],
    ['aud', 42, 'a string or an array of strings'],
    ['aud', { aud: API }, 'a string or an array of strings'],
    ['aud', [5, API], 'a string or an array of strings'],
    ['exp', String(NOW + 600), 'a NumericDate'],
    ['exp', null, 'a NumericDate'],
    ['exp', NaN, 'a NumericDate'],
    ['exp', Infinity, 'a NumericDate'],
    ['nbf', 'soon', 'a NumericDate'],
    ['iat', '2024', 'a NumericDate'],
    ['sub', 42, 'a string'],
    ['sub', null, 'a string'],
    ['scope', ['read:messages'], 'a string'],
    ['scope', 1, 'a string'],
    ['client_id', { id: 'client123' }, 'a string'],
    ['client_id', false, 'a string'],
    ['scp', 42, 'a string or an array of strings'],
    ['scp', {}, 'a string or an array of strings'],
    ['scp', ['read:messages', 7], 'a string or an array of strings'],
    ['permissions', 'admin', 'an array of strings'],
    ['permissions', [1, {}], 'an array of strings'],
    ['permissions', { 0: 'admin' }, 'an array of strings'],
  ])('answers %s %p as a malformed answer (503), never a grant', (claim, value, expected) => {
    const error = malformed({ ...valid, [claim]: value });
    expect(error).toMatchObject({
      status: 503,
      code: 'issuer_unavailable',
      endpoint: 'introspection',
      problem: { claim, expected },
    });
    expect(error.message).toContain(`its ${claim} must be ${expected}`);
  });

  it.each([
    ['scp', 'read:messages admin'],
    ['scp', ['read:messages']],
    ['permissions', ['read:messages']],
    ['permissions', []],
  ])('accepts %s %p', (claim, value) => {
    const response = { ...valid, [claim]: value };
    expect(validateIntrospection(response, options, NOW)).toBe(response);
  });
});

describe('validateIntrospection on sender-constrained tokens', () => {
  it.each([
    { cnf: { jkt: 'thumbprint' } },
    { token_type: 'DPoP' },
    { token_type: 'dpop', cnf: { jkt: 'x' } },
  ])('passes %j on to the binding checks of lib/binding', (members) => {
    const response = { ...valid, ...members };
    expect(validateIntrospection(response, options, NOW)).toBe(response);
  });
});

describe('validateIntrospection, as strict as the JWT path', () => {
  it('checks nbf', () => {
    expect(refusal({ ...valid, nbf: Number.MAX_VALUE }).reason).toBe('token_not_yet_valid');
  });
});
