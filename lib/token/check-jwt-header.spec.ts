import { InvalidTokenError } from '../errors/auth-error';
import { checkJwtHeader, SUPPORTED_ALGORITHMS, type HeaderPolicy } from './check-jwt-header';

const lenient: HeaderPolicy = { strict: false };
const strict: HeaderPolicy = { strict: true };

function reasonOf(header: Record<string, unknown>, policy: HeaderPolicy = lenient): string {
  try {
    checkJwtHeader(header, policy);
  } catch (error) {
    if (error instanceof InvalidTokenError) return error.reason;
    throw error;
  }
  throw new Error('expected an InvalidTokenError, but nothing was thrown');
}

describe('checkJwtHeader', () => {
  it.each(SUPPORTED_ALGORITHMS)('accepts alg %s', (alg) => {
    expect(checkJwtHeader({ alg }, lenient)).toStrictEqual({ alg });
  });

  it.each([
    'none',
    'None',
    'NONE',
    'HS256',
    'HS512',
    'rs256',
    'Rs256',
    'RS256 ',
    'EdDSA',
    '',
    undefined,
    null,
    256,
    ['RS256'],
    { name: 'RS256' },
  ])('refuses alg %p', (alg) => {
    expect(reasonOf({ alg })).toBe('alg_not_allowed');
  });

  it('applies the configured allow-list', () => {
    const policy = { strict: false, algorithms: ['ES256'] };
    expect(checkJwtHeader({ alg: 'ES256' }, policy)).toStrictEqual({ alg: 'ES256' });
    expect(reasonOf({ alg: 'RS256' }, policy)).toBe('alg_not_allowed');
  });

  it('refuses HMAC even when the allow-list names it', () => {
    expect(reasonOf({ alg: 'HS256' }, { strict: false, algorithms: ['HS256'] })).toBe(
      'alg_not_allowed',
    );
  });

  it.each([undefined, 'JWT', 'jwt', 'at+jwt', 'AT+JWT', 'application/at+jwt', 'Application/JWT'])(
    'accepts typ %p',
    (typ) => {
      expect(checkJwtHeader({ alg: 'RS256', typ }, lenient)).toStrictEqual({ alg: 'RS256' });
    },
  );

  it.each(['dpop+jwt', 'logout+jwt', 'secevent+jwt', 'JOSE', '', null, 42, ['JWT']])(
    'refuses typ %p',
    (typ) => {
      expect(reasonOf({ alg: 'RS256', typ })).toBe('unsupported_typ');
    },
  );

  it.each(['at+jwt', 'AT+JWT', 'application/at+jwt'])('accepts typ %p in strict mode', (typ) => {
    expect(checkJwtHeader({ alg: 'RS256', typ }, strict)).toStrictEqual({ alg: 'RS256' });
  });

  it.each([undefined, 'JWT', 'jwt', 'dpop+jwt'])('refuses typ %p in strict mode', (typ) => {
    expect(reasonOf({ alg: 'RS256', typ }, strict)).toBe('unsupported_typ');
  });

  it.each([['exp'], [], 'b64'])('refuses crit %p', (crit) => {
    expect(reasonOf({ alg: 'RS256', crit })).toBe('unsupported_crit');
  });

  it.each([false, 'false', 0, null])('refuses b64 %p', (b64) => {
    expect(reasonOf({ alg: 'RS256', b64 })).toBe('unencoded_payload');
  });

  it.each(['k1', 'a'.repeat(256)])('accepts kid %p', (kid) => {
    expect(checkJwtHeader({ alg: 'RS256', kid }, lenient)).toStrictEqual({ alg: 'RS256', kid });
  });

  it.each(['', 'a'.repeat(257), 42, null, ['k1'], { kid: 'k1' }])('refuses kid %p', (kid) => {
    expect(reasonOf({ alg: 'RS256', kid })).toBe('invalid_kid');
  });

  it('ignores embedded keys and key URLs: only alg and kid come back', () => {
    const header = {
      alg: 'RS256',
      kid: 'k1',
      typ: 'JWT',
      jwk: { kty: 'RSA', n: 'AQAB', e: 'AQAB' },
      jku: 'https://attacker.example/jwks.json',
      x5u: 'https://attacker.example/cert.pem',
      x5c: ['MIIBIjANBgkq'],
    };
    expect(checkJwtHeader(header, lenient)).toStrictEqual({ alg: 'RS256', kid: 'k1' });
  });
});
