import {
  startDevIdentityProvider,
  type DevIdentityProvider,
} from '../../sample/dev-identity-provider';
import { profileOfSubject, subjectForEmail } from '../../sample/dev-identity-provider-pages';

const AUDIENCE = 'https://api.example.com';
const APP = 'http://localhost:5555';

/**
 * The embedded provider as an Auth0 tenant's Single Page Application sees it (what the browser
 * test relies on), and the attacks on it refused: foreign redirect and return URLs, foreign
 * origins at the token endpoint, unknown audiences, bad login form input.
 */
describe('the embedded provider for a Single Page Application', () => {
  let idp: DevIdentityProvider;

  beforeAll(async () => {
    idp = await startDevIdentityProvider({ audience: AUDIENCE, spaOrigins: [APP] });
  });

  afterAll(() => idp.close());

  const authorizeUrl = (params: Record<string, string> = {}) =>
    `${idp.domain}/authorize?${new URLSearchParams({
      client_id: idp.spaClientId,
      response_type: 'code',
      redirect_uri: `${APP}/`,
      scope: 'openid profile email',
      state: 'state-1',
      nonce: 'nonce-1',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGcSJw-cM0',
      code_challenge_method: 'S256',
      ...params,
    }).toString()}`;
  const get = (url: string, headers: Record<string, string> = {}) =>
    fetch(url, { redirect: 'manual', headers, signal: AbortSignal.timeout(5000) });
  const cookiesOf = (response: Response) =>
    response.headers
      .getSetCookie()
      .map((cookie) => cookie.split(';')[0])
      .join('; ');

  /** Starts a sign-in and returns the login form's URL and the interaction cookies. */
  async function startSignIn(params: Record<string, string> = {}) {
    const authorize = await get(authorizeUrl(params));
    expect(authorize.status).toBe(303);
    const location = new URL(authorize.headers.get('location')!, idp.domain);
    return { form: location.href, cookie: cookiesOf(authorize) };
  }
  const postForm = (url: string, cookie: string, body: string) =>
    fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body,
      signal: AbortSignal.timeout(5000),
    });

  it("publishes Auth0's endpoint paths and an issuer with a trailing slash", async () => {
    const discovery = (await (
      await get(`${idp.domain}/.well-known/openid-configuration`)
    ).json()) as Record<string, string>;
    expect(idp.issuer).toBe(`${idp.domain}/`);
    expect(discovery).toMatchObject({
      issuer: idp.issuer,
      authorization_endpoint: `${idp.domain}/authorize`,
      token_endpoint: `${idp.domain}/oauth/token`,
      userinfo_endpoint: `${idp.domain}/userinfo`,
      jwks_uri: `${idp.domain}/.well-known/jwks.json`,
      end_session_endpoint: `${idp.domain}/oidc/logout`,
    });
    // The development client's tokens still come from the (moved) token endpoint.
    expect((await idp.getAccessToken()).split('.')).toHaveLength(3);
  });

  it('shows a login form naming the requested audience; refuses a bad email with 400', async () => {
    const { form, cookie } = await startSignIn({ audience: AUDIENCE });
    const page = await get(form, { cookie });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(AUDIENCE);
    // The affirmative button is the first one.
    expect(html.indexOf('>Sign in</button>')).toBeLessThan(html.indexOf('>Cancel</button>'));
    const refused = await postForm(`${form}/login`, cookie, 'email=not-an-email&password=x');
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('Enter an email address');
    const tooLarge = await postForm(`${form}/login`, cookie, `email=${'a'.repeat(9000)}`);
    expect(tooLarge.status).toBe(413);
    const signedIn = await postForm(`${form}/login`, cookie, 'email=ada%40example.com&password=x');
    expect(signedIn.status).toBe(303);
  });

  it('refuses a login form post without the browser that started the sign-in', async () => {
    const { form } = await startSignIn();
    const forged = await postForm(`${form}/login`, '', 'email=ada%40example.com&password=x');
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('expired');
  });

  it('refuses an audience it does not know, as Auth0 does (error sent back to the application)', async () => {
    const res = await get(authorizeUrl({ audience: 'https://other.example' }));
    expect(res.status).toBe(303);
    const back = new URL(res.headers.get('location')!);
    expect([back.origin, back.searchParams.get('error')]).toEqual([APP, 'invalid_target']);
  });

  it('refuses a redirect_uri that is not registered (no redirect to it)', async () => {
    const res = await get(authorizeUrl({ redirect_uri: 'https://evil.example/' }));
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });

  it("answers the token endpoint's CORS for the page's origin only (Allowed Web Origins)", async () => {
    const tokenRequest = (origin: string) =>
      fetch(`${idp.domain}/oauth/token`, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: idp.spaClientId,
          code: 'not-a-code',
          redirect_uri: `${APP}/`,
          code_verifier: 'v'.repeat(43),
        }),
        signal: AbortSignal.timeout(5000),
      });
    const allowed = await tokenRequest(APP);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(APP);
    const foreign = await tokenRequest('https://evil.example');
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    expect(((await foreign.json()) as { error: string }).error).toBe('invalid_request');
  });

  it("answers Auth0's /v2/logout with the end-session endpoint; a foreign returnTo is refused", async () => {
    const logout = await get(
      `${idp.domain}/v2/logout?client_id=${idp.spaClientId}&returnTo=${encodeURIComponent(`${APP}/`)}`,
    );
    expect(logout.status).toBe(302);
    const endSession = new URL(logout.headers.get('location')!, idp.domain);
    expect(endSession.pathname).toBe('/oidc/logout');
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${APP}/`);
    // Without a session there is nothing to confirm (the browser test clicks the signed-in page).
    expect((await get(endSession.href)).status).toBe(200);

    const foreign = await get(
      `${idp.domain}/v2/logout?client_id=${idp.spaClientId}&returnTo=https%3A%2F%2Fevil.example%2F`,
    );
    const refused = await get(new URL(foreign.headers.get('location')!, idp.domain).href);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('post_logout_redirect_uri not registered');
  });

  it('derives a stateless sub from the email, and knows no other subject', () => {
    const sub = subjectForEmail('Ada@Example.com');
    expect(profileOfSubject(sub)).toEqual({ sub, email: 'ada@example.com', name: 'ada' });
    expect(profileOfSubject('auth0|' + Buffer.from('no-at-sign').toString('base64url'))).toBe(
      undefined,
    );
    expect(profileOfSubject('google-oauth2|123')).toBeUndefined();
  });
});
