import { DpopKey } from '../../test/support/dpop-proofs';
import { signInput, withUnusedBits } from '../../test/support/key-server';
import { parseDpopProof, type ProofExpectations } from './check-dpop-proof';

const client = new DpopKey();
const token = 'the-access-token';

const expectations = (urls: string[]): ProofExpectations => ({
  method: 'GET',
  urls,
  accessToken: token,
  algorithms: ['ES256'],
  nowSeconds: Date.now() / 1000,
  iatWindowSeconds: 300,
  leewaySeconds: 0,
});

/** The reason a proof with `htu` is refused for a request to `url`, or 'accepted'. */
async function htuAnswer(htu: string, url: string): Promise<string> {
  const proof = client.proof('GET', htu, token);
  try {
    await parseDpopProof(proof, expectations([url]));
    return 'accepted';
  } catch (error) {
    return (error as { reason: string }).reason;
  }
}

/** RFC 9449 §4.3 step 9: htu against the request's URL, without query and fragment, normalized. */
describe('parseDpopProof: htu', () => {
  it.each([
    ['/%7Ex', 'http://host/~x'],
    ['/~x', 'http://host/%7Ex'],
    ['/%7ex', 'http://host/~x'],
    ['/a%2fb', 'http://host/a%2Fb'],
  ])('matches a path %s to %s (percent-encoding normalized)', async (path, url) => {
    expect(await htuAnswer(`http://host${path}`, url)).toBe('accepted');
  });

  it.each([
    ['HTTP://HOST:80/x', 'http://host/x'],
    ['https://host:443/x', 'https://HOST/x'],
    ['http://host/a/./b/../x', 'http://host/a/x'],
    ['http://host/x?page=2', 'http://host/x'],
    ['http://host/x#top', 'http://host/x'],
  ])('matches %s to %s', async (htu, url) => {
    expect(await htuAnswer(htu, url)).toBe('accepted');
  });

  it.each([
    ['http://host/a%2Fb', 'http://host/a/b'],
    ['http://host:8080/x', 'http://host/x'],
    ['https://host/x', 'http://host/x'],
    ['http://host/X', 'http://host/x'],
  ])('refuses %s for %s', async (htu, url) => {
    expect(await htuAnswer(htu, url)).toBe('dpop_proof_htu');
  });

  it.each([
    'http://user:pass@host/x',
    'http://user@host/x',
    'http://@host/x',
    'http://:@host/x',
    'HTTP://u@HOST/x',
    'http:\\\\u@host/x',
  ])('refuses %s, an htu with userinfo (RFC 9110 §4.2.4: an error), saying so', async (htu) => {
    const proof = client.proof('GET', htu, token);
    const refusal = await parseDpopProof(proof, expectations(['http://host/x'])).catch(
      (error: { reason: string; message: string }) => error,
    );
    expect(refusal).toMatchObject({
      reason: 'dpop_proof_htu',
      message: expect.stringMatching(/userinfo/),
    });
  });
});

/** Strict decoding of the proof's segments (RFC 4648 §3.5) and of its JSON (RFC 7519 §7.2). */
describe('parseDpopProof: encoding', () => {
  const url = 'http://host/x';

  /** The reason `proof` is refused for, or 'accepted'. */
  async function answer(proof: string): Promise<string> {
    try {
      await parseDpopProof(proof, expectations([url]));
      return 'accepted';
    } catch (error) {
      return (error as { reason: string }).reason;
    }
  }

  /** A proof's header and payload segments, the payload padded to end with unused bits. */
  function segments(): [string, string] {
    for (const pad of [undefined, 'a']) {
      const [header, payload] = client.proof('GET', url, token, { pad }).split('.');
      if (payload.length % 4 !== 0) return [header, payload];
    }
    throw new Error('unreachable: one of two lengths 10 bytes apart is not a multiple of 3');
  }

  it('refuses a payload segment that is not canonical base64url, signed as sent', async () => {
    const [header, payload] = segments();
    expect(await answer(signInput(`${header}.${payload}`, 'ES256', client.privateKey))).toBe(
      'accepted',
    );
    const proof = signInput(`${header}.${withUnusedBits(payload)}`, 'ES256', client.privateKey);
    expect(await answer(proof)).toBe('dpop_proof_malformed');
  });

  it('refuses a signature segment that is not canonical base64url, or of 4n+1 characters', async () => {
    const [header, payload, signature] = client.proof('GET', url, token).split('.');
    expect(signature.length % 4).toBe(2); // ES256: 64 bytes, 86 characters
    const nonCanonical = `${header}.${payload}.${withUnusedBits(signature)}`;
    expect(await answer(nonCanonical)).toBe('dpop_proof_malformed');
    expect(await answer(`${header}.${payload}.${signature}AAA`)).toBe('dpop_proof_malformed');
  });

  it('refuses claims that are not UTF-8 (an overlong "/" in jti) with invalid_encoding', async () => {
    const [header, payload] = segments();
    const text = Buffer.from(payload, 'base64url').toString('utf8');
    const at = text.indexOf('"jti":"') + '"jti":"'.length;
    const bytes = Buffer.concat([
      Buffer.from(text.slice(0, at)),
      Buffer.from([0xc0, 0xaf]),
      Buffer.from(text.slice(at)),
    ]);
    const proof = signInput(`${header}.${bytes.toString('base64url')}`, 'ES256', client.privateKey);
    await expect(parseDpopProof(proof, expectations([url]))).rejects.toMatchObject({
      code: 'invalid_dpop_proof',
      reason: 'invalid_encoding',
      message: expect.stringMatching(/payload is not valid UTF-8/),
    });
  });

  it('refuses a header that is not UTF-8 with invalid_encoding', async () => {
    const [header, payload] = segments();
    const text = Buffer.from(header, 'base64url').toString('utf8');
    const bytes = Buffer.concat([
      Buffer.from(`${text.slice(0, -1)},"x":"`),
      Buffer.from([0x80]),
      Buffer.from('"}'),
    ]);
    const proof = signInput(
      `${bytes.toString('base64url')}.${payload}`,
      'ES256',
      client.privateKey,
    );
    expect(await answer(proof)).toBe('invalid_encoding');
  });
});
