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

describe('AuthError subclasses', () => {
  it.each([
    [new MissingTokenError(), MissingTokenError, 'missing_token', 'missing_token', 401],
    [
      new InvalidRequestError('multiple_token_methods', 'two tokens'),
      InvalidRequestError,
      'invalid_request',
      'multiple_token_methods',
      400,
    ],
    [
      new InvalidTokenError('token_expired', 'expired'),
      InvalidTokenError,
      'invalid_token',
      'token_expired',
      401,
    ],
    [
      new InsufficientScopeError(['read'], 'needs read'),
      InsufficientScopeError,
      'insufficient_scope',
      'insufficient_scope',
      403,
    ],
    [
      new InsufficientUserAuthenticationError('acr_missing', 'no acr', { acrValues: ['mfa'] }),
      InsufficientUserAuthenticationError,
      'insufficient_user_authentication',
      'acr_missing',
      401,
    ],
    [
      new IssuerUnavailableError('down'),
      IssuerUnavailableError,
      'issuer_unavailable',
      'issuer_unavailable',
      503,
    ],
    [
      new UnsupportedContextError('ws'),
      UnsupportedContextError,
      'invalid_request',
      'unsupported_context',
      400,
    ],
  ])('%p maps to %p / %s / %s / %i', (error, errorClass, code, reason, status) => {
    expect(error).toBeInstanceOf(errorClass);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: errorClass.name, code, reason, status });
  });

  it('MissingTokenError has a default message', () => {
    expect(new MissingTokenError().message).not.toBe('');
  });

  it('InsufficientScopeError keeps the required scopes', () => {
    expect(new InsufficientScopeError(['a', 'b'], 'm').requiredScopes).toEqual(['a', 'b']);
  });

  it('IssuerUnavailableError keeps retryAfterSeconds and the cause', () => {
    const cause = new Error('ECONNREFUSED');
    const error = new IssuerUnavailableError('down', 30, { cause });
    expect(error.retryAfterSeconds).toBe(30);
    expect(error.cause).toBe(cause);
  });

  it('InvalidTokenError passes the cause on', () => {
    const cause = new SyntaxError('bad json');
    expect(new InvalidTokenError('malformed_jwt', 'm', { cause }).cause).toBe(cause);
  });

  it('UnsupportedContextError names the context it refused', () => {
    expect(new UnsupportedContextError('rpc').message).toContain("'rpc'");
  });
});
