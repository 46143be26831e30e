import { InvalidTokenError } from './auth-error';
import { AuthHttpException, authHttpException } from './auth-http-exception';

describe('authHttpException', () => {
  const refusal = new InvalidTokenError('token_expired', 'The access token expired.');

  it("writes the challenge with Express's setHeader or Fastify's header", () => {
    for (const method of ['setHeader', 'header'] as const) {
      const written: Record<string, string> = {};
      const response = { [method]: (name: string, value: string) => (written[name] = value) };
      const exception = authHttpException(refusal, { realm: 'api' }, response);
      expect(exception).toBeInstanceOf(AuthHttpException);
      expect(exception.getStatus()).toBe(401);
      expect(written['WWW-Authenticate']).toMatch(/^Bearer realm="api", error="invalid_token"/);
    }
  });

  it('writes nothing to a response that has neither, or to none, and still carries the headers', () => {
    for (const response of [{}, undefined]) {
      const exception = authHttpException(refusal, { realm: 'api' }, response);
      expect(exception.headers['WWW-Authenticate']).toMatch(/^Bearer realm="api"/);
      expect(exception.cause).toBe(refusal);
    }
  });
});
