import { InvalidTokenError } from '../errors/auth-error';
import { validateClaims, type ClaimPolicy } from './validate-claims';

const NOW = 1_700_000_000;
const ISSUER = 'https://tenant.auth0.com/';
const API = 'https://api.example.com';
const policy: ClaimPolicy = {
  issuer: ISSUER,
  audiences: [API],
  clockToleranceSeconds: 5,
  strict: false,
};
const valid = {
  iss: ISSUER,
  aud: API,
  exp: NOW + 600,
  iat: NOW - 10,
  sub: 'auth0|123',
  scope: 'read:messages',
};

function refusal(payload: unknown, claimPolicy: ClaimPolicy = policy): InvalidTokenError {
  try {
    validateClaims(payload, claimPolicy, NOW);
  } catch (error) {
    if (error instanceof InvalidTokenError) return error;
    throw error;
  }
  throw new Error('expected an InvalidTokenError, but nothing was thrown');
}

describe('validateClaims', () => {
  it('returns the claims of a valid access token', () => {
    expect(validateClaims(valid, policy, NOW)).toStrictEqual(valid);
  });

  it.each([
    ['an array with the API and /userinfo', [API, `${ISSUER}userinfo`], policy],
    [
      'the second configured audience',
      'https://other.example.com',
      { ...policy, audiences: [API, 'https://other.example.com'] },
    ],
  ])('accepts aud as %s', (_, aud, claimPolicy) => {
    expect(validateClaims({ ...valid, aud }, claimPolicy, NOW)).toMatchObject({ aud });
  });

  it.each([null, undefined, 'claims', 42, [valid]])('refuses payload %p', (payload) => {
    expect(refusal(payload).reason).toBe('malformed_jwt');
  });

  describe('ID tokens', () => {
    it.each(['nonce', 'at_hash', 'c_hash', 's_hash'])(
      'names a token with %s an ID token, even for the right audience',
      (claim) => {
        const error = refusal({ ...valid, [claim]: 'x' });
        expect(error.reason).toBe('id_token');
        expect(error.message).toContain('ID token');
        expect(error.message).toContain(`audience=${API}`);
      },
    );

    it('names a token whose aud is its azp (the client) an ID token', () => {
      const error = refusal({ ...valid, aud: 'client123', azp: 'client123' });
      expect(error.reason).toBe('id_token');
      expect(error.message).toContain('ID token');
      expect(error.message).toContain(`audience=${API}`);
    });

    it('does not call a token with client_id an ID token', () => {
      const token = { ...valid, aud: 'client123', azp: 'client123', client_id: 'client123' };
      expect(refusal(token).reason).toBe('audience_mismatch');
    });
  });

  it.each([
    'https://tenant.auth0.com',
    'https://TENANT.auth0.com/',
    'https://evil.example.com/',
    undefined,
    42,
  ])('refuses iss %p', (iss) => {
    expect(refusal({ ...valid, iss }).reason).toBe('issuer_mismatch');
  });

  it.each([undefined, []])('refuses aud %p as missing', (aud) => {
    expect(refusal({ ...valid, aud }).reason).toBe('missing_claim');
  });

  it.each([42, { aud: API }, [API, 42]])('refuses aud %p as invalid', (aud) => {
    expect(refusal({ ...valid, aud }).reason).toBe('invalid_claim');
  });

  it.each(['https://tenant.auth0.com/userinfo', ['https://tenant.auth0.com/userinfo']])(
    'names aud %p a userinfo-only token',
    (aud) => {
      const error = refusal({ ...valid, aud });
      expect(error.reason).toBe('userinfo_audience_only');
      expect(error.message).toContain(`audience=${API}`);
    },
  );

  it.each(['https://other.example.com', `${API}/`, 'HTTPS://API.EXAMPLE.COM', '', ['a', 'b']])(
    'refuses aud %p as another audience',
    (aud) => {
      const error = refusal({ ...valid, aud });
      expect(error.reason).toBe('audience_mismatch');
      expect(error.message).toContain(`audience=${API}`);
    },
  );

  describe('time claims (now = NOW, tolerance 5 s)', () => {
    it.each([
      ['missing exp', { exp: undefined }, 'missing_claim'],
      ['exp as a string', { exp: String(NOW + 600) }, 'invalid_claim'],
      ['exp as null', { exp: null }, 'invalid_claim'],
      ['exp past the tolerance', { exp: NOW - 100 }, 'token_expired'],
      ['exp exactly at the tolerance', { exp: NOW - 5 }, 'token_expired'],
      ['nbf past the tolerance', { nbf: NOW + 6 }, 'token_not_yet_valid'],
      ['nbf as a string', { nbf: String(NOW) }, 'invalid_claim'],
      ['iat as a string', { iat: 'yesterday' }, 'invalid_claim'],
    ])('refuses %s', (_, overrides, reason) => {
      expect(refusal({ ...valid, ...overrides }).reason).toBe(reason);
    });

    it.each([
      ['exp within the tolerance', { exp: NOW - 4 }],
      ['nbf within the tolerance', { nbf: NOW + 5 }],
      ['nbf in the past', { nbf: NOW - 60 }],
      ['iat in the future', { iat: NOW + 60 }],
    ])('accepts %s', (_, overrides) => {
      expect(validateClaims({ ...valid, ...overrides }, policy, NOW)).toMatchObject(overrides);
    });

    it('says an expired token expired', () => {
      expect(refusal({ ...valid, exp: NOW - 100 }).message).toMatch(/expired/);
    });

    it('refuses exp = now without tolerance', () => {
      expect(refusal({ ...valid, exp: NOW }, { ...policy, clockToleranceSeconds: 0 }).reason).toBe(
        'token_expired',
      );
    });
  });

  it.each([
    ['sub', 42],
    ['client_id', 1],
    ['azp', false],
    ['jti', {}],
    ['scope', ['read:messages']],
    ['scp', 42],
    ['scp', ['read', 1]],
    ['permissions', 'read:messages'],
    ['permissions', ['read', 1]],
  ])('refuses %s = %p', (claim, value) => {
    expect(refusal({ ...valid, [claim]: value }).reason).toBe('invalid_claim');
  });

  it.each([
    ['scp', 'read write'],
    ['scp', ['read', 'write']],
    ['permissions', ['read:messages']],
    ['permissions', []],
  ])('accepts %s = %p', (claim, value) => {
    expect(validateClaims({ ...valid, [claim]: value }, policy, NOW)).toMatchObject({
      [claim]: value,
    });
  });

  describe('strict mode (RFC 9068)', () => {
    const strictPolicy = { ...policy, strict: true };
    const complete = { ...valid, client_id: 'client123', jti: 'id-1' };

    it('accepts a token with sub, client_id, iat and jti', () => {
      expect(validateClaims(complete, strictPolicy, NOW)).toStrictEqual(complete);
    });

    it.each(['sub', 'client_id', 'iat', 'jti'])('refuses a token without %s', (claim) => {
      expect(refusal({ ...complete, [claim]: undefined }, strictPolicy).reason).toBe(
        'missing_claim',
      );
    });

    it('does not require client_id, iat and jti outside strict mode', () => {
      const minimal = { iss: ISSUER, aud: API, exp: NOW + 60, sub: 'auth0|1' };
      expect(validateClaims(minimal, policy, NOW)).toStrictEqual(minimal);
    });
  });

  describe('sub (AuthUser.sub is always a string)', () => {
    it('refuses a token without sub, in every mode, naming the claim', () => {
      const error = refusal({ ...valid, sub: undefined });
      expect(error.reason).toBe('missing_claim');
      expect(error.message).toContain('no sub claim');
    });

    it.each([
      ['an empty string', ''],
      ['a number', 42],
      ['null', null],
    ])('refuses sub as %s as invalid_claim', (_, sub) => {
      const error = refusal({ ...valid, sub });
      expect(error.reason).toBe('invalid_claim');
      expect(error.message).toContain('sub claim must be a');
    });
  });
});

describe('validateClaims on edge cases found in review', () => {
  it.each([
    [{ exp: -1e20 }, 'token_expired'],
    [{ exp: -8.7e15 }, 'token_expired'],
    [{ nbf: 1e20 }, 'token_not_yet_valid'],
    [{ nbf: 1e308 }, 'token_not_yet_valid'],
  ])('refuses out-of-range time %j without throwing anything else', (claims, reason) => {
    const error = refusal({ ...valid, ...claims });
    expect(error.reason).toBe(reason);
    expect(error.message).toMatch(/seconds since 1970/);
  });

  it('names an ID token whose audience is a client id, without nonce or azp', () => {
    const { scope: _scope, ...withoutScope } = valid;
    const idToken = {
      ...withoutScope,
      aud: 'Xk3bQ9aPz1LmN0vR7tY2uW5sD8fG4hJ6',
      sid: 's-1',
      email: 'a@b.c',
    };
    expect(refusal(idToken).reason).toBe('id_token');
  });

  it('keeps calling a machine token for another API an audience mismatch', () => {
    expect(refusal({ ...valid, aud: 'https://other.example' }).reason).toBe('audience_mismatch');
    const { scope: _scope, ...noScope } = valid;
    expect(refusal({ ...noScope, aud: 'https://other.example' }).reason).toBe('audience_mismatch');
  });
});

describe('validateClaims on sender-constrained tokens', () => {
  it.each([{ cnf: { jkt: 'thumbprint' } }, { cnf: { 'x5t#S256': 'cert-hash' } }])(
    'passes cnf (%j) on to the binding checks of lib/binding, which know how the token came',
    (claims) => {
      expect(validateClaims({ ...valid, ...claims }, policy, NOW).cnf).toEqual(claims.cnf);
    },
  );
});
