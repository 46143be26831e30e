import {
  InsufficientScopeError,
  InvalidDpopProofError,
  InvalidTokenError,
  MissingTokenError,
  UseDpopNonceError,
} from '../errors/auth-error';
import { authErrorAnswer, buildChallenge } from '../errors/www-authenticate';

const allowed = {
  realm: 'api',
  dpopChallenge: { algorithms: ['ES256', 'EdDSA'], required: false },
};
const required = { realm: 'api', dpopChallenge: { algorithms: ['ES256'], required: true } };

describe('DPoP challenges (RFC 9449 §7.1, §7.2)', () => {
  it('offers both schemes to a request without a token where DPoP is allowed', () => {
    expect(buildChallenge(new MissingTokenError(), allowed)).toBe(
      'Bearer realm="api", DPoP realm="api", algs="ES256 EdDSA"',
    );
  });

  it('offers only DPoP where it is required', () => {
    expect(buildChallenge(new MissingTokenError(), required)).toBe(
      'DPoP realm="api", algs="ES256"',
    );
  });

  it('answers a proof error in a DPoP challenge, with its code', () => {
    expect(buildChallenge(new InvalidDpopProofError('dpop_proof_htm', 'wrong htm'), allowed)).toBe(
      'DPoP realm="api", error="invalid_dpop_proof", error_description="wrong htm", algs="ES256 EdDSA"',
    );
  });

  it('answers a token error in the scheme the request used', () => {
    const error = new InvalidTokenError('token_expired', 'expired');
    expect(buildChallenge(error, allowed)).toBe(
      'Bearer realm="api", error="invalid_token", error_description="expired"',
    );
    expect(
      buildChallenge(error, {
        ...allowed,
        dpopChallenge: { ...allowed.dpopChallenge, presented: true },
      }),
    ).toMatch(/^DPoP realm="api", error="invalid_token", .*, algs="ES256 EdDSA"$/);
    expect(buildChallenge(new InsufficientScopeError(['a'], 'no'), required)).toMatch(
      /^DPoP realm="api", error="insufficient_scope", scope="a", .*, algs="ES256"$/,
    );
  });

  it('sends the nonce with use_dpop_nonce, in a DPoP-Nonce header', () => {
    const answer = authErrorAnswer(new UseDpopNonceError('n-1', 'use the nonce'), allowed);
    expect(answer).toMatchObject({
      status: 401,
      headers: {
        'WWW-Authenticate': expect.stringMatching(/^DPoP realm="api", error="use_dpop_nonce"/),
        'DPoP-Nonce': 'n-1',
      },
      body: { error: 'use_dpop_nonce', reason: 'dpop_nonce_required' },
    });
  });
});
