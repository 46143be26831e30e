import { createSecretKey, generateKeyPairSync } from 'node:crypto';
import { resolveAuthOptions } from '../options/resolve-auth-options';
import { TrustedIssuers, type IssuerFactories } from './trusted-issuers';

const options = resolveAuthOptions({
  issuerUrl: 'https://tenant.example.com/',
  audience: 'https://api.example.com',
});
/** No discovery or key store may be made: every case here is refused before any is needed. */
const factories: IssuerFactories = {
  discovery: () => {
    throw new Error('no discovery may be made');
  },
  keyStore: () => {
    throw new Error('no key store may be made');
  },
};

describe('TrustedIssuers (the locks behind the header check)', () => {
  it('refuses an HMAC algorithm without a secret, before any key store is made', async () => {
    const issuers = new TrustedIssuers(options, factories);
    expect(issuers.cachedKey(issuers.first, { alg: 'HS256' })).toBeUndefined();
    await expect(issuers.key(issuers.first, { alg: 'HS256' })).rejects.toMatchObject({
      reason: 'alg_not_allowed',
      message: expect.stringContaining('"HS256", which this API does not accept without a secret'),
    });
    expect(issuers.first.keysIfMade).toBeUndefined();
  });

  it('with a secret, refuses an asymmetric algorithm and answers the secret for HMAC', async () => {
    const secret = createSecretKey(Buffer.alloc(32, 7));
    const issuers = new TrustedIssuers(options, factories, secret);
    await expect(issuers.key(issuers.first, { alg: 'RS256' })).rejects.toMatchObject({
      reason: 'alg_not_allowed',
    });
    await expect(issuers.key(issuers.first, { alg: 'HS256' })).resolves.toBe(secret);
    expect(issuers.keyStanding('https://tenant.example.com/', secret)).toBe('current');
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(issuers.keyStanding('https://tenant.example.com/', publicKey)).toBe('gone');
    await expect(issuers.health()).resolves.toEqual([]);
  });
});
