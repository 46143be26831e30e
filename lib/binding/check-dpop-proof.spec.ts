import { createHash, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { CompactSign } from 'jose';
import { DpopKey } from '../../test/support/dpop-proofs';
import { signInput, withUnusedBits } from '../../test/support/key-server';
import { parseDpopProof, verifyProofSignature, type ProofExpectations } from './check-dpop-proof';
import { ProofKeys } from './proof-keys';

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

/** RFC 9449 §4.3 step 7: the proof's signature, with its own jwk, for each accepted family. */
describe('verifyProofSignature', () => {
  const url = 'http://host/x';
  type Pair = { publicKey: KeyObject; privateKey: KeyObject };
  // RSA pairs take long to generate: two, taken in turn, so that the next is another key.
  const rsa = [1, 2].map(() => generateKeyPairSync('rsa', { modulusLength: 2048 }));
  let rsaTurn = 0;
  const keys: Record<string, () => Pair> = {
    RSA: () => rsa[rsaTurn++ % 2],
    'P-256': () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    'P-384': () => generateKeyPairSync('ec', { namedCurve: 'P-384' }),
    'P-521': () => generateKeyPairSync('ec', { namedCurve: 'P-521' }),
    Ed25519: () => generateKeyPairSync('ed25519'),
    Ed448: () => generateKeyPairSync('ed448'),
  };

  /** A proof signed by jose (an independent implementation) with `pair`'s private key. */
  async function joseProof(alg: string, pair: Pair, jwk = pair.publicKey): Promise<string> {
    const claims = {
      htm: 'GET',
      htu: url,
      iat: Math.floor(Date.now() / 1000),
      jti: randomUUID(),
      ath: createHash('sha256').update(token).digest('base64url'),
    };
    const header = { typ: 'dpop+jwt', alg, jwk: jwk.export({ format: 'jwk' }) };
    if (pair.privateKey.asymmetricKeyType === 'ed448') {
      // jose cannot sign with Ed448 on Node 20 (WebCrypto has no Ed448 there): node:crypto does.
      const input = `${b64url(header)}.${b64url(claims)}`;
      return `${input}.${sign(null, Buffer.from(input), pair.privateKey).toString('base64url')}`;
    }
    return new CompactSign(Buffer.from(JSON.stringify(claims)))
      .setProtectedHeader(header)
      .sign(pair.privateKey);
  }

  function b64url(value: unknown): string {
    return Buffer.from(JSON.stringify(value)).toString('base64url');
  }

  /** The reason the proof's signature is refused for, or 'verified'. */
  async function answer(proof: string, alg: string): Promise<string> {
    const parsed = await parseDpopProof(proof, { ...expectations([url]), algorithms: [alg] });
    try {
      await verifyProofSignature(parsed, new ProofKeys());
      return 'verified';
    } catch (error) {
      return (error as { reason: string }).reason;
    }
  }

  /** `proof` with its signature's byte at `index` flipped. */
  function tampered(proof: string, index: number): string {
    const [header, payload, signature] = proof.split('.');
    const bytes = Buffer.from(signature, 'base64url');
    bytes[(index + bytes.length) % bytes.length] ^= 1;
    return `${header}.${payload}.${bytes.toString('base64url')}`;
  }

  it.each([
    ['RS256', 'RSA'],
    ['RS384', 'RSA'],
    ['RS512', 'RSA'],
    ['PS256', 'RSA'],
    ['PS384', 'RSA'],
    ['PS512', 'RSA'],
    ['ES256', 'P-256'],
    ['ES384', 'P-384'],
    ['ES512', 'P-521'],
    ['EdDSA', 'Ed25519'],
    ['EdDSA', 'Ed448'],
    ['Ed25519', 'Ed25519'],
  ])('verifies a %s proof with a %s key, and refuses it tampered', async (alg, curve) => {
    const pair = keys[curve]();
    const proof = await joseProof(alg, pair);
    expect(await answer(proof, alg)).toBe('verified');
    expect(await answer(tampered(proof, 0), alg)).toBe('dpop_proof_signature');
    expect(await answer(tampered(proof, -1), alg)).toBe('dpop_proof_signature');
    const other = keys[curve]();
    expect(await answer(await joseProof(alg, other, pair.publicKey), alg)).toBe(
      'dpop_proof_signature',
    );
  });

  it('refuses a proof signed RS256 but labelled PS256, as dpop_proof_signature', async () => {
    const rsaClient = new DpopKey('RS256');
    const proof = rsaClient.proof('GET', url, token);
    const [, payload, signature] = proof.split('.');
    const header = Buffer.from(
      JSON.stringify({ typ: 'dpop+jwt', alg: 'PS256', jwk: rsaClient.publicJwk }),
    ).toString('base64url');
    expect(await answer(`${header}.${payload}.${signature}`, 'PS256')).toBe('dpop_proof_signature');
  });

  it.each([0, 1, 63, 65, 96, 132])(
    'refuses an ES256 signature of %i bytes as dpop_proof_signature',
    async (length) => {
      const proof = await joseProof('ES256', keys['P-256']());
      const [header, payload, signature] = proof.split('.');
      const bytes = Buffer.alloc(length);
      Buffer.from(signature, 'base64url').copy(bytes);
      expect(await answer(`${header}.${payload}.${bytes.toString('base64url')}`, 'ES256')).toBe(
        'dpop_proof_signature',
      );
    },
  );

  it.each([
    ['an EC point off its curve', 'ES256', 'y'],
    ['an Ed25519 x of the wrong length', 'EdDSA', 'x'],
  ])('refuses %s as dpop_proof_jwk, not a usable key', async (_what, alg, member) => {
    const pair = alg === 'ES256' ? keys['P-256']() : keys.Ed25519();
    const [, payload, signature] = (await joseProof(alg, pair)).split('.');
    const jwk = pair.publicKey.export({ format: 'jwk' }) as Record<string, string>;
    const bytes = Buffer.from(jwk[member], 'base64url');
    const altered = alg === 'ES256' ? ((bytes[5] ^= 1), bytes) : bytes.subarray(1);
    const header = Buffer.from(
      JSON.stringify({
        typ: 'dpop+jwt',
        alg,
        jwk: { ...jwk, [member]: altered.toString('base64url') },
      }),
    ).toString('base64url');
    await expect(answer(`${header}.${payload}.${signature}`, alg)).resolves.toBe('dpop_proof_jwk');
    const parsed = await parseDpopProof(`${header}.${payload}.${signature}`, {
      ...expectations([url]),
      algorithms: [alg],
    });
    await expect(verifyProofSignature(parsed, new ProofKeys())).rejects.toMatchObject({
      reason: 'dpop_proof_jwk',
      message: expect.stringMatching(new RegExp(`not a usable public key for ${alg}`)),
    });
  });
});
