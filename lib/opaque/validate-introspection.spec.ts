import { InvalidTokenError } from '../errors/auth-error';
import type { IntrospectionResponse } from './introspection-client';
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

describe('validateIntrospection', () => {
  it('returns a valid response as it is', () => {
    const response = { ...valid, token_type: 'Bearer' };
    expect(validateIntrospection(response, options, NOW)).toBe(response);
  });

  it.each([
    [
      'without iss, aud array with the API, exp, sub, scope, client_id',
      { active: true, aud: [API] },
    ],
    ['aud as an array with another audience and the API', { ...valid, aud: ['other', API] }],
    ['exp within the clock tolerance', { ...valid, exp: NOW - 4 }],
    ['exp huge', { ...valid, exp: 1e308 }],
  ])('accepts a response %s', (_, response) => {
    expect(validateIntrospection(response, options, NOW)).toBe(response);
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

  it.each([
    'https://evil.example.com/',
    'https://tenant.auth0.com',
    'HTTPS://TENANT.AUTH0.COM/',
    null,
    42,
  ])('refuses iss %p', (iss) => {
    expect(refusal({ ...valid, iss }).reason).toBe('issuer_mismatch');
  });

  it.each([
    ['missing', undefined],
    ['null', null],
    ['another API', 'https://other.example.com'],
    ['the API with a trailing slash', `${API}/`],
    ['an empty array', []],
    ['an array of other APIs', ['a', 'b']],
    ['a number', 42],
    ['an object', { aud: API }],
  ])('refuses aud %s', (_, aud) => {
    const error = refusal({ ...valid, aud });
    expect(error.reason).toBe('audience_mismatch');
    expect(error.message).toContain(`audience=${API}`);
  });

  it.each([
    ['expired past the tolerance', NOW - 100, 'token_expired'],
    ['exactly at the tolerance', NOW - 5, 'token_expired'],
    ['a string', String(NOW + 600), 'invalid_claim'],
    ['null', null, 'invalid_claim'],
    ['NaN', NaN, 'invalid_claim'],
    ['Infinity', Infinity, 'invalid_claim'],
  ])('refuses exp %s', (_, exp, reason) => {
    expect(refusal({ ...valid, exp }).reason).toBe(reason);
  });

  it('builds the message of a hugely negative exp without a RangeError', () => {
    const error = refusal({ ...valid, exp: -1e308 });
    expect(error.reason).toBe('token_expired');
    expect(error.message).toContain('-1e+308');
  });

  it.each([
    ['sub', 42],
    ['sub', null],
    ['scope', ['read:messages']],
    ['scope', 1],
    ['client_id', { id: 'client123' }],
    ['client_id', false],
  ])('refuses %s %p', (name, value) => {
    const error = refusal({ ...valid, [name]: value });
    expect(error.reason).toBe('invalid_claim');
    expect(error.message).toContain(name);
  });
});

describe('validateIntrospection on sender-constrained tokens', () => {
  it.each([
    { cnf: { jkt: 'thumbprint' } },
    { token_type: 'DPoP' },
    { token_type: 'dpop', cnf: { jkt: 'x' } },
  ])('refuses %j as a bearer token', (members) => {
    expect(refusal({ ...valid, ...members }).reason).toBe('sender_constrained_token');
  });
});

describe('validateIntrospection, as strict as the JWT path', () => {
  it('refuses an aud array with a member that is not a string', () => {
    expect(refusal({ ...valid, aud: [5, ...[valid.aud].flat()] }).reason).toBe('invalid_claim');
  });

  it.each([
    [{ nbf: 'soon' }, 'invalid_claim'],
    [{ nbf: Number.MAX_VALUE }, 'token_not_yet_valid'],
  ])('checks nbf: %j', (members, reason) => {
    expect(refusal({ ...valid, ...members }).reason).toBe(reason);
  });
});
