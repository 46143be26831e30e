import { InvalidRequestError } from '../errors/auth-error';
import {
  extractBearerToken,
  missingTokenError,
  type ExtractOptions,
  type TokenSource,
} from './extract-token';

const headerOnly: ExtractOptions = { allowQueryToken: false, maxTokenLength: 64 };
const withQuery: ExtractOptions = { allowQueryToken: true, maxTokenLength: 64 };

function refusal(source: TokenSource, options: ExtractOptions): InvalidRequestError {
  try {
    extractBearerToken(source, options);
  } catch (error) {
    if (error instanceof InvalidRequestError) return error;
    throw error;
  }
  throw new Error('expected an InvalidRequestError, but nothing was thrown');
}

describe('extractBearerToken', () => {
  it.each([
    ['Bearer abc.def.ghi', 'abc.def.ghi'],
    ['bearer tok', 'tok'],
    ['BEARER tok', 'tok'],
    ['Bearer    tok', 'tok'],
    ['Bearer a-b_c~d+e/f.g', 'a-b_c~d+e/f.g'],
    ['Bearer abc==', 'abc=='],
    [`Bearer ${'a'.repeat(64)}`, 'a'.repeat(64)],
  ])('reads %p as %p', (authorization, token) => {
    expect(extractBearerToken({ authorization }, headerOnly)).toBe(token);
  });

  it.each([
    ['no header', {}],
    ['a Basic header', { authorization: 'Basic dXNlcjpwYXNz' }],
    ['a DPoP header', { authorization: 'DPoP tok' }],
    ['another scheme that starts with "Bearer"', { authorization: 'Bearertok' }],
  ])('finds no token in %s', (_, source: TokenSource) => {
    expect(extractBearerToken(source, headerOnly)).toBeUndefined();
  });

  it.each([
    'Bearer',
    'Bearer ',
    'Bearer a b',
    'Bearer tok ',
    'Bearer tok%',
    'Bearer tok"',
    'Bearer a=b',
    'Bearer\ttok',
    'Bearer\t',
    'Bearer \ttok',
  ])('refuses %p as a malformed header', (authorization) => {
    expect(refusal({ authorization }, headerOnly)).toMatchObject({
      code: 'invalid_request',
      reason: 'malformed_authorization_header',
      status: 400,
    });
  });

  it('refuses a token longer than maxTokenLength', () => {
    expect(refusal({ authorization: `Bearer ${'a'.repeat(65)}` }, headerOnly)).toMatchObject({
      code: 'invalid_request',
      reason: 'token_too_large',
    });
  });

  it('reads the header when the request carried exactly one', () => {
    expect(
      extractBearerToken({ authorization: 'Bearer tok', authorizationHeaders: 1 }, headerOnly),
    ).toBe('tok');
  });

  it.each([2, 3])('refuses a request that carried %i Authorization headers', (count) => {
    expect(
      refusal({ authorization: 'Bearer a', authorizationHeaders: count }, headerOnly),
    ).toMatchObject({ code: 'invalid_request', reason: 'multiple_token_methods' });
  });

  describe('access_token query parameter', () => {
    it.each([
      ['alone', { queryToken: 'q' }, undefined],
      ['beside a header', { authorization: 'Bearer h', queryToken: 'q' }, 'h'],
      ['as an array', { queryToken: ['a', 'b'] }, undefined],
    ])('is ignored %s unless allowQueryToken is set', (_, source: TokenSource, token) => {
      expect(extractBearerToken(source, headerOnly)).toBe(token);
    });

    it('is read when allowQueryToken is set', () => {
      expect(extractBearerToken({ queryToken: 'abc.def.ghi' }, withQuery)).toBe('abc.def.ghi');
    });

    it.each([
      ['beside a header', { authorization: 'Bearer h', queryToken: 'q' }],
      ['given twice (an array)', { queryToken: ['a', 'b'] }],
    ])('is refused %s', (_, source: TokenSource) => {
      expect(refusal(source, withQuery)).toMatchObject({
        code: 'invalid_request',
        reason: 'multiple_token_methods',
      });
    });

    it.each([
      ['', 'malformed_authorization_header'],
      ['tok%', 'malformed_authorization_header'],
      ['a'.repeat(65), 'token_too_large'],
    ])('refuses %p with %s', (queryToken, reason) => {
      expect(refusal({ queryToken }, withQuery)).toMatchObject({ code: 'invalid_request', reason });
    });
  });
});

describe('missingTokenError', () => {
  it('says the scheme is missing when the Authorization header holds a bare token', () => {
    for (const authorization of [
      'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln',
      ' abcdefghijklmnopq ',
    ]) {
      const error = missingTokenError({ authorization });
      expect([error.status, error.code, error.reason]).toEqual([
        401,
        'missing_token',
        'missing_token',
      ]);
      expect(error.message).toBe(
        'The Authorization header has no scheme: send it as `Authorization: Bearer <token>`.',
      );
    }
  });

  it('names another scheme, bounded, and says which one to use', () => {
    expect(missingTokenError({ authorization: 'Basic dXNlcjpwYXNz' }).message).toBe(
      'The Authorization header uses the "Basic" scheme, which carries no access token here: ' +
        'send `Authorization: Bearer <token>`.',
    );
    expect(
      missingTokenError({ authorization: `${'X'.repeat(500)} y` }).message.length,
    ).toBeLessThan(200);
    expect(missingTokenError({ authorization: 'Basic' }).message).toMatch(/"Basic" scheme/);
  });

  it('keeps the given description, or the default, when there is no Authorization header', () => {
    expect(missingTokenError({}).message).toBe(
      'This route requires a bearer access token in the Authorization header.',
    );
    expect(missingTokenError({ authorization: '' }, 'Send a token.').message).toBe('Send a token.');
  });
});
