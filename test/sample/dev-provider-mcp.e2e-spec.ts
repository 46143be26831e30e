import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  discoverAuthorizationServerMetadata,
  exchangeAuthorization,
  registerClient,
  startAuthorization,
} from '@modelcontextprotocol/sdk/client/auth.js';
import type {
  AuthorizationServerMetadata,
  OAuthClientInformationFull,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  MULTI_FACTOR_ACR,
  startDevIdentityProvider,
  type DevIdentityProvider,
} from '../../sample/dev-identity-provider';
import { launchChromium } from '../support/chromium';

const AUDIENCE = 'https://api.example.com';
/** The MCP endpoint's resource identifier (nothing needs to serve it for these tests). */
const MCP = 'http://localhost:3999/mcp';
const MCP_SCOPES = ['read:messages', 'write:messages'];

/** A loopback redirect receiver, as a native MCP client runs one on a port of its own. */
async function startLoopback(): Promise<{ port: number; server: Server }> {
  const server = createServer((_req, res) => res.end('Signed in: you may close this window.'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, server };
}

/** A JWT's header and payload, decoded without verification (the shape is what is tested). */
function decodeJwt(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  const [header, payload] = token
    .split('.')
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')));
  return { header, payload };
}

/**
 * The embedded provider as an authorization server in front of an MCP server, seen by the official
 * MCP SDK's client-side OAuth functions: RFC 8414 discovery, open dynamic registration (RFC 7591),
 * PKCE, RFC 8707 resource tokens, no refresh token, and step-up through the real login page.
 */
describe('the embedded provider for MCP clients', () => {
  let idp: DevIdentityProvider;
  let browser: Browser;
  let metadata: AuthorizationServerMetadata;
  const loopbacks: Server[] = [];

  beforeAll(async () => {
    [idp, browser] = await Promise.all([
      startDevIdentityProvider({ audience: AUDIENCE, mcp: { resource: MCP, scopes: MCP_SCOPES } }),
      launchChromium(),
    ]);
    metadata = (await discoverAuthorizationServerMetadata(idp.issuer))!;
  });

  afterAll(async () => {
    await browser?.close();
    await idp?.close();
    for (const server of loopbacks) server.close();
  });

  /** Registers a client (as the SDK does) whose redirect URI is a loopback URL on a new port. */
  async function register(
    host: '127.0.0.1' | 'localhost',
    extra: Record<string, unknown> = {},
  ): Promise<{ client: OAuthClientInformationFull; redirectUrl: string }> {
    const { port, server } = await startLoopback();
    loopbacks.push(server);
    const redirectUrl = `http://${host}:${port}/callback`;
    const client = await registerClient(idp.issuer, {
      metadata,
      clientMetadata: {
        client_name: 'an MCP client',
        redirect_uris: [redirectUrl],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        ...extra,
      },
      scope: 'read:messages',
    });
    return { client, redirectUrl };
  }

  /**
   * Starts an authorization with PKCE and `resource`, and goes through the login page (with a
   * one-time code when `otp` is given) and the consent page to the loopback redirect.
   */
  async function authorize(
    page: Page,
    registered: { client: OAuthClientInformationFull; redirectUrl: string },
    {
      scope = MCP_SCOPES.join(' '),
      acrValues,
      otp,
    }: {
      scope?: string;
      acrValues?: string;
      otp?: string;
    } = {},
  ) {
    const { authorizationUrl, codeVerifier } = await startAuthorization(idp.issuer, {
      metadata,
      clientInformation: registered.client,
      redirectUrl: registered.redirectUrl,
      scope,
      state: 'state-1',
      resource: new URL(MCP),
    });
    if (acrValues) authorizationUrl.searchParams.set('acr_values', acrValues);
    await page.goto(authorizationUrl.href);
    const atCallback = (url: URL) => url.href.startsWith(registered.redirectUrl);
    const refusal = () => {
      const callback = new URL(page.url());
      if (!atCallback(callback) || !callback.searchParams.has('error')) return undefined;
      return `${callback.searchParams.get('error')}: ${callback.searchParams.get('error_description')}`;
    };
    await page.waitForURL((url) => atCallback(url) || url.pathname.startsWith('/interaction/'));
    expect(refusal()).toBeUndefined();
    if (await page.getByTestId('login-email').isVisible()) {
      await page.getByTestId('login-email').fill('ada@example.com');
      await page.getByTestId('login-password').fill('any password at all');
      if (otp !== undefined) await page.getByTestId('login-otp').fill(otp);
      // The affirmative button is the first one.
      await page.locator('button').first().click();
      await page.waitForURL((url) => atCallback(url) || url.pathname.startsWith('/interaction/'));
    }
    if (!atCallback(new URL(page.url()))) {
      await page.getByTestId('consent-allow').click();
      await page.waitForURL(atCallback);
    }
    const callback = new URL(page.url());
    expect(callback.searchParams.get('state')).toBe('state-1');
    return { code: callback.searchParams.get('code')!, codeVerifier };
  }

  const exchange = (
    registered: { client: OAuthClientInformationFull; redirectUrl: string },
    code: string,
    codeVerifier: string,
  ) =>
    exchangeAuthorization(idp.issuer, {
      metadata,
      clientInformation: registered.client,
      authorizationCode: code,
      codeVerifier,
      redirectUri: registered.redirectUrl,
      resource: new URL(MCP),
    });

  it('publishes RFC 8414 metadata, the same as OpenID discovery, with a registration endpoint and S256', async () => {
    const get = async (path: string) =>
      (await (await fetch(`${idp.domain}${path}`)).json()) as Record<string, unknown>;
    const oauth = await get('/.well-known/oauth-authorization-server');
    expect(oauth).toEqual(await get('/.well-known/openid-configuration'));
    expect(oauth).toMatchObject({
      issuer: idp.issuer,
      registration_endpoint: `${idp.domain}/oidc/register`,
      code_challenge_methods_supported: ['S256'],
      scopes_supported: expect.arrayContaining(MCP_SCOPES),
      token_endpoint_auth_methods_supported: expect.arrayContaining([
        'none',
        'client_secret_basic',
        'client_secret_post',
      ]),
    });
    // What the SDK finds first, at the issuer's origin.
    expect(metadata).toMatchObject({
      issuer: idp.issuer,
      registration_endpoint: expect.any(String),
    });
  });

  it.each([
    ['a public client (none) at 127.0.0.1', '127.0.0.1', 'none'],
    [
      'a confidential client (client_secret_basic) at localhost',
      'localhost',
      'client_secret_basic',
    ],
    ['a confidential client (client_secret_post) at 127.0.0.1', '127.0.0.1', 'client_secret_post'],
  ] as const)(
    'registers %s and gives it a JWT for the MCP resource only, with more scope than registered and no refresh token',
    async (_name, host, method) => {
      const registered = await register(host, { token_endpoint_auth_method: method });
      expect(registered.client.token_endpoint_auth_method).toBe(method);
      expect(registered.client.client_secret === undefined).toBe(method === 'none');
      // Registered without the refresh_token grant: MCP clients get none (SDK issue #2255).
      expect(registered.client.grant_types).toEqual(['authorization_code']);
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(5000);
        const { code, codeVerifier } = await authorize(page, registered, {
          scope: `${MCP_SCOPES.join(' ')} offline_access`,
        });
        const tokens = await exchange(registered, code, codeVerifier);
        expect(tokens.refresh_token).toBeUndefined();
        expect(tokens.scope?.split(' ').sort()).toEqual(MCP_SCOPES);
        const { header, payload } = decodeJwt(tokens.access_token);
        expect(header.typ).toBe('at+jwt');
        expect([payload.aud].flat()).toEqual([MCP]);
        expect(payload.scope).toBe(MCP_SCOPES.join(' '));
        expect(payload.client_id).toBe(registered.client.client_id);
      } finally {
        await context.close();
      }
    },
  );

  it('refuses a registration whose redirect URI is not a loopback URL', async () => {
    const response = await fetch(metadata.registration_endpoint!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        redirect_uris: ['https://evil.example/callback'],
        token_endpoint_auth_method: 'none',
      }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toBe('invalid_redirect_uri');
  });

  it('requires PKCE, of confidential clients too: a request without code_challenge, and an exchange without code_verifier, are refused', async () => {
    const registered = await register('127.0.0.1', {
      token_endpoint_auth_method: 'client_secret_post',
    });
    const noChallenge = new URL(metadata.authorization_endpoint);
    noChallenge.search = new URLSearchParams({
      client_id: registered.client.client_id,
      response_type: 'code',
      redirect_uri: registered.redirectUrl,
      scope: 'read:messages',
      resource: MCP,
    }).toString();
    const refused = await fetch(noChallenge, { redirect: 'manual' });
    const back = new URL(refused.headers.get('location')!);
    expect(back.href.startsWith(registered.redirectUrl)).toBe(true);
    expect(back.searchParams.get('error')).toBe('invalid_request');

    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(5000);
      const { code } = await authorize(page, registered);
      const response = await fetch(metadata.token_endpoint, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: registered.client.client_id,
          client_secret: registered.client.client_secret!,
          code,
          redirect_uri: registered.redirectUrl,
          resource: MCP,
        }),
      });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBe('invalid_grant');
    } finally {
      await context.close();
    }
  });

  describe('step-up (acr_values)', () => {
    let context: BrowserContext;
    let page: Page;
    let registered: { client: OAuthClientInformationFull; redirectUrl: string };

    beforeAll(async () => {
      registered = await register('127.0.0.1');
      context = await browser.newContext();
      page = await context.newPage();
      page.setDefaultTimeout(5000);
    });

    afterAll(() => context?.close());

    it('signs in as before without acr_values: no one-time code, no acr in the token', async () => {
      const { authorizationUrl } = await startAuthorization(idp.issuer, {
        metadata,
        clientInformation: registered.client,
        redirectUrl: registered.redirectUrl,
        scope: 'read:messages',
        resource: new URL(MCP),
      });
      await page.goto(authorizationUrl.href);
      await page.getByTestId('login-email').waitFor();
      await expect(page.getByTestId('login-otp').count()).resolves.toBe(0);
      await expect(page.getByTestId('login-submit-mfa').count()).resolves.toBe(0);
      const { code, codeVerifier } = await authorize(page, registered, { scope: 'read:messages' });
      const { payload } = decodeJwt((await exchange(registered, code, codeVerifier)).access_token);
      expect(payload.acr).toBeUndefined();
      expect(typeof payload.auth_time).toBe('number');
    });

    it('asks the signed-in user to sign in again with a one-time code; the token carries the acr and a fresh auth_time', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const { authorizationUrl, codeVerifier } = await startAuthorization(idp.issuer, {
        metadata,
        clientInformation: registered.client,
        redirectUrl: registered.redirectUrl,
        scope: 'openid read:messages',
        state: 'state-1',
        resource: new URL(MCP),
      });
      authorizationUrl.searchParams.set('acr_values', MULTI_FACTOR_ACR);
      await page.goto(authorizationUrl.href);
      // The provider's session (password only) is not enough: the login page again, with a code.
      await page.getByTestId('login-otp').waitFor();
      const body = await page.locator('body').innerText();
      expect(body).toContain('multi-factor');
      // A code that is not six digits is refused, and the form shown again.
      await page.getByTestId('login-email').fill('ada@example.com');
      await page.getByTestId('login-password').fill('x');
      await page.getByTestId('login-otp').fill('12ab');
      await page.getByTestId('login-submit-mfa').click();
      await page.getByTestId('login-otp').waitFor();
      await expect(page.locator('p.error').innerText()).resolves.toContain('6 digits');
      await page.getByTestId('login-email').fill('ada@example.com');
      await page.getByTestId('login-password').fill('x');
      await page.getByTestId('login-otp').fill('123456');
      // The multi-factor button is the first one.
      await page.locator('button').first().click();
      await page.waitForURL(
        (url) =>
          url.href.startsWith(registered.redirectUrl) || url.pathname.startsWith('/interaction/'),
      );
      if (!page.url().startsWith(registered.redirectUrl)) {
        await page.getByTestId('consent-allow').click();
        await page.waitForURL((url) => url.href.startsWith(registered.redirectUrl));
      }
      const code = new URL(page.url()).searchParams.get('code')!;
      const tokens = await exchange(registered, code, codeVerifier);
      const { payload } = decodeJwt(tokens.access_token);
      expect([payload.aud].flat()).toEqual([MCP]);
      expect(payload.acr).toBe(MULTI_FACTOR_ACR);
      expect(Math.abs((payload.auth_time as number) - Date.now() / 1000)).toBeLessThan(5);
      expect(tokens.refresh_token).toBeUndefined();
    });

    it('signs in with a password only when the user declines the code: no acr in the token', async () => {
      const { authorizationUrl, codeVerifier } = await startAuthorization(idp.issuer, {
        metadata,
        clientInformation: registered.client,
        redirectUrl: registered.redirectUrl,
        scope: 'openid read:messages',
        resource: new URL(MCP),
      });
      authorizationUrl.searchParams.set('acr_values', MULTI_FACTOR_ACR);
      // A new browser: no session at the provider.
      const fresh = await browser.newContext();
      try {
        const other = await fresh.newPage();
        other.setDefaultTimeout(5000);
        await other.goto(authorizationUrl.href);
        await other.getByTestId('login-email').fill('ada@example.com');
        await other.getByTestId('login-password').fill('x');
        await other.getByTestId('login-submit').click();
        await other.getByTestId('consent-allow').click();
        await other.waitForURL((url) => url.href.startsWith(registered.redirectUrl));
        const code = new URL(other.url()).searchParams.get('code')!;
        const { payload } = decodeJwt(
          (await exchange(registered, code, codeVerifier)).access_token,
        );
        expect(payload.acr).toBeUndefined();
      } finally {
        await fresh.close();
      }
    });
  });
});
