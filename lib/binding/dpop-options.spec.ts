import { AuthOptionsError } from '../errors/auth-options-error';
import { resolveAuthOptions } from '../options/resolve-auth-options';

const base = { issuerUrl: 'https://tenant.auth0.com/', audience: 'https://api.example.com' };

function optionError(dpop: unknown): string {
  try {
    resolveAuthOptions({ ...base, dpop } as never);
  } catch (error) {
    if (error instanceof AuthOptionsError) return error.message;
    throw error;
  }
  throw new Error('expected an AuthOptionsError, but nothing was thrown');
}

describe('the dpop option', () => {
  it.each<[unknown, RegExp]>([
    ['on', /'dpop': must be an object/],
    [[], /'dpop': must be an object/],
    [{ enabled: true }, /'dpop.enabled': is not an option; the options here are mode, algorithms/],
    [{ mode: 'optional' }, /'dpop.mode': must be 'allowed', 'required' or 'disabled'/],
    [{ algorithms: [] }, /'dpop.algorithms': must be a non-empty array/],
    [{ algorithms: 'ES256' }, /'dpop.algorithms': must be a non-empty array/],
    [
      { algorithms: ['ES256', 'HS256'] },
      /'dpop.algorithms': HS256 not supported for proofs.*never none or HMAC/,
    ],
    [{ algorithms: ['none'] }, /'dpop.algorithms': none not supported/],
    [{ algorithms: ['es256'] }, /'dpop.algorithms': es256 not supported/],
    [{ iatWindowSeconds: 0 }, /'dpop.iatWindowSeconds': must be a number from 1 to 3600/],
    [{ iatWindowSeconds: '300' }, /'dpop.iatWindowSeconds'/],
    [{ maxReplayEntries: 10 }, /'dpop.maxReplayEntries': must be a number from 100/],
    [{ trustForwardedHeaders: 'yes' }, /'dpop.trustForwardedHeaders': must be true or false/],
    [{ publicBaseUrl: 42 }, /'dpop.publicBaseUrl': must be a string/],
    [{ publicBaseUrl: 'api.example.com' }, /'dpop.publicBaseUrl': must be an absolute URL/],
    [
      { publicBaseUrl: 'ftp://api.example.com' },
      /'dpop.publicBaseUrl': must be an http or https URL/,
    ],
    [{ publicBaseUrl: 'https://api.example.com/?a=1' }, /'dpop.publicBaseUrl': must have no query/],
    [{ nonce: 'secret' }, /'dpop.nonce': must be \{ secret, rotateSeconds\? \}/],
    [
      { nonce: { secret: 'short' } },
      /'dpop.nonce.secret': must be a string or bytes of at least 32 bytes/,
    ],
    [{ nonce: { secret: 42 } }, /'dpop.nonce.secret'/],
    [{ nonce: { secret: 'x'.repeat(32), rotate: 5 } }, /'dpop.nonce.rotate': is not an option/],
    [
      { nonce: { secret: 'x'.repeat(32), rotateSeconds: 1 } },
      /'dpop.nonce.rotateSeconds': must be a number from 10/,
    ],
  ])('refuses %j, naming the option', (dpop, message) => {
    expect(optionError(dpop)).toMatch(message);
  });

  it('accepts a nonce secret as bytes, and keeps it out of the resolved options', () => {
    const secret = new Uint8Array(32).fill(7);
    expect(resolveAuthOptions({ ...base, dpop: { nonce: { secret } } }).dpop.nonce).toEqual({
      rotateSeconds: 300,
    });
  });
});
