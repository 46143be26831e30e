import { AuthError, InvalidTokenError, IssuerUnavailableError } from '../errors/auth-error';
import { RemoteFetchError } from '../issuer/fetch-json';
import { upstreamFailure } from './userinfo-client';

function statusError(status: number, retryAfterSeconds?: number): RemoteFetchError {
  return new RemoteFetchError('status', `https://idp.example.com/userinfo answered ${status}.`, {
    status,
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
  });
}

describe('upstreamFailure', () => {
  it.each([401, 403])('maps HTTP %i to a refusal of the token', (status) => {
    const cause = statusError(status);
    const error = upstreamFailure(cause, 'userinfo');
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({
      code: 'invalid_token',
      reason: 'token_rejected_by_issuer',
      status: 401,
      cause,
    });
    expect(error.message).toContain('userinfo');
  });

  it.each([
    ['429 with Retry-After 17', statusError(429, 17), 17],
    ['429 with Retry-After 0', statusError(429, 0), 0],
    ['429 without Retry-After', statusError(429), 60],
    ['500', statusError(500), 5],
    ['502', statusError(502), 5],
    ['503 with Retry-After 30', statusError(503, 30), 30],
    ['404', statusError(404), 5],
    ['a timeout', new RemoteFetchError('timeout', 'did not answer in time.'), 5],
    ['a network failure', new RemoteFetchError('network', 'could not be reached.'), 5],
    ['too large a body', new RemoteFetchError('too_large', 'answered too much.'), 5],
    ['invalid JSON', new RemoteFetchError('invalid_json', 'not JSON.'), 5],
    ['a redirect', new RemoteFetchError('redirect', 'answered a redirect (302).'), 5],
    ['a plain Error', new Error('socket hang up'), 5],
    ['a thrown string', 'oops', 5],
    ['undefined', undefined, 5],
  ])('maps %s to 503 with Retry-After %p', (_, cause, retryAfterSeconds) => {
    const error = upstreamFailure(cause, 'introspection');
    expect(error).toBeInstanceOf(IssuerUnavailableError);
    expect(error).toMatchObject({
      code: 'issuer_unavailable',
      reason: 'issuer_unavailable',
      status: 503,
      retryAfterSeconds,
    });
    expect((error as AuthError).cause).toBe(cause);
    expect(error.message).toContain('introspection');
  });
});
