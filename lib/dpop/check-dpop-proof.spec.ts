import { DpopKey } from '../../test/support/dpop-proofs';
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
