import type { ArgumentsHost } from '@nestjs/common';
import { IssuerUnavailableError, InvalidTokenError } from '../errors/auth-error';
import { authHttpException } from '../errors/auth-http-exception';
import { AuthHttpExceptionFilter } from './auth-http-exception.filter';

function hostOf(type: string, response: object): ArgumentsHost {
  return {
    getType: () => type,
    switchToHttp: () => ({ getResponse: () => response }),
  } as unknown as ArgumentsHost;
}

/** A response that records what the filter sends: Express's shape (`setHeader`) or Fastify's. */
function recordingResponse(shape: 'express' | 'fastify') {
  const sent: { headers: Record<string, string>; status?: number; body?: unknown } = {
    headers: {},
  };
  const write = (name: string, value: string) => {
    sent.headers[name] = value;
  };
  const response = {
    ...(shape === 'express' ? { setHeader: write } : { header: write }),
    status(code: number) {
      sent.status = code;
      return { send: (body: unknown) => (sent.body = body) };
    },
  };
  return { response, sent };
}

describe('AuthHttpExceptionFilter', () => {
  const filter = new AuthHttpExceptionFilter();
  const expired = authHttpException(new InvalidTokenError('token_expired', 'expired'), {
    realm: 'api',
  });

  it.each(['express', 'fastify'] as const)(
    'sends status, body and WWW-Authenticate on a %s response',
    (shape) => {
      const { response, sent } = recordingResponse(shape);
      expect(filter.catch(expired, hostOf('http', response))).toBeUndefined();
      expect(sent.status).toBe(401);
      expect(sent.headers['WWW-Authenticate']).toMatch(
        /^Bearer realm="api", error="invalid_token"/,
      );
      expect(sent.body).toMatchObject({ error: 'invalid_token', reason: 'token_expired' });
    },
  );

  it('sends Retry-After with a 503', () => {
    const { response, sent } = recordingResponse('express');
    filter.catch(
      authHttpException(new IssuerUnavailableError('down', 5), { realm: 'api' }),
      hostOf('http', response),
    );
    expect([sent.status, sent.headers]).toEqual([503, { 'Retry-After': '5' }]);
  });

  it('passes the exception on, untouched, outside HTTP (a Passport guard on a resolver)', () => {
    const { response, sent } = recordingResponse('express');
    expect(filter.catch(expired, hostOf('graphql', response))).toBe(expired);
    expect(sent).toEqual({ headers: {} });
  });
});
