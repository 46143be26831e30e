import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { subjectForEmail } from '../../sample/dev-identity-provider-pages';
import { launchChromium } from '../support/chromium';
import { printedExport, startDevSample, type SampleProcess } from '../support/sample-process';

/** Screenshots of each step; git ignores test-output/. */
const SCREENSHOTS = join(__dirname, '..', '..', 'test-output', 'browser');
/** `UPDATE_DOCS_SCREENSHOT=1`: also writes the README's screenshot, docs/sign-in-page.png. */
const DOCS_SCREENSHOT = join(__dirname, '..', '..', 'docs', 'sign-in-page.png');
const AUDIENCE = 'https://api.example.com';
const EMAIL = 'ada@example.com';

/**
 * The sign-in page at `/`, in a real browser: auth0-spa-js against the embedded provider (set up
 * like an Auth0 tenant), through its real login form, then the API called with each token.
 */
describe.each(['express', 'fastify'] as const)('the sign-in page in chromium (%s)', (platform) => {
  let sample: SampleProcess;
  let browser: Browser;
  let page: Page;
  let base: string;
  const consoleMessages: string[] = [];
  /** Every token the provider's token endpoint handed to the page. */
  const issuedTokens: string[] = [];

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    [sample, browser] = await Promise.all([
      startDevSample({ SAMPLE_PLATFORM: platform, AUTH_SPA_CLIENT_ID: undefined }),
      launchChromium(),
    ]);
    await printedExport(sample, 'TOKEN');
    base = `http://localhost:${sample.port}`;
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    page = await context.newPage();
    page.setDefaultTimeout(5000);
    page.on('console', (message) => consoleMessages.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => consoleMessages.push(`pageerror: ${error.message}`));
    page.on('response', async (response) => {
      if (!response.url().endsWith('/oauth/token') || response.request().method() !== 'POST') {
        return;
      }
      const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      for (const name of ['access_token', 'id_token']) {
        if (typeof body[name] === 'string') issuedTokens.push(body[name]);
      }
    });
  });

  afterAll(async () => {
    await browser?.close();
    await sample?.stop();
  });

  const shot = (name: string) =>
    page.screenshot({ path: join(SCREENSHOTS, `${platform}-${name}.png`), fullPage: true });
  const byTestId = (id: string) => page.getByTestId(id);
  const claimRow = (panel: string, claim: string) =>
    byTestId(panel).locator(`tr[data-claim="${claim}"]`);
  /** How many issued tokens web storage holds (counted: a failure must not print a token). */
  const tokensInWebStorage = async () => {
    // An expression, evaluated in the page (this project compiles without the DOM library).
    const storage = await page.evaluate<string>(
      'JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } })',
    );
    return issuedTokens.filter((token) => storage.includes(token)).length;
  };
  const callAndRead = async (button: string) => {
    await byTestId('api-result').evaluate((node) => (node.textContent = ''));
    await byTestId(button).click();
    await byTestId('api-result')
      .filter({ hasText: /Status:|failed/ })
      .waitFor();
    return byTestId('api-result').innerText();
  };

  it('signs in through the provider login form (any email, any password), with audience', async () => {
    // `npm start` prints the page's URL.
    expect(sample.output()).toContain(
      `Sign in from a browser and see which token goes where: ${base}/`,
    );
    await page.goto(`${base}/`);
    await expect(byTestId('login').isEnabled()).resolves.toBe(true);
    await byTestId('login').click();
    // The provider's own origin, as a tenant's domain is.
    await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/interaction\//);
    await expect(page.locator('body').innerText()).resolves.toContain(AUDIENCE);
    await page.fill('input[name=email]', EMAIL);
    await page.fill('input[name=password]', 'any password at all');
    await shot('1-login-form');
    // The affirmative button is the first one, on the login page and on the consent page.
    await page.locator('button').first().click();
    await page.waitForURL(/\/interaction\//);
    await expect(page.locator('body').innerText()).resolves.toContain('read:messages');
    await page.locator('button').first().click();
    await page.waitForURL(`${base}/`);
    await expect(byTestId('status').innerText()).resolves.toContain(`Signed in as ${EMAIL}`);
  });

  it('shows both tokens side by side, marking the claims that tell them apart', async () => {
    expect(await claimRow('id-token', 'aud').innerText()).toContain('dev-spa');
    expect(await claimRow('id-token', 'aud').getAttribute('class')).toBe('marked');
    expect(await claimRow('id-token', 'nonce').innerText()).not.toContain('(absent)');
    expect(await claimRow('id-token', 'scope').innerText()).toContain('(absent)');
    expect(await claimRow('id-token', 'email').innerText()).toContain(EMAIL);
    expect(await claimRow('access-token', 'aud').innerText()).toContain(AUDIENCE);
    expect(await claimRow('access-token', 'typ (header)').innerText()).toContain('at+jwt');
    expect(await claimRow('access-token', 'scope').innerText()).toContain('read:messages');
    expect(await claimRow('access-token', 'nonce').innerText()).toContain('(absent)');
    expect(await byTestId('access-token').innerText()).toContain('the one the API wants');
    expect(await byTestId('id-token').innerText()).toContain('never send it to the API');
    // The SDK's in-memory cache holds them, not localStorage or sessionStorage.
    expect(issuedTokens.length).toBeGreaterThanOrEqual(2);
    expect(await tokensInWebStorage()).toBe(0);
    await shot('2-signed-in');
  });

  it('calls the API with the access token (200) and with the ID token (the ID token answer)', async () => {
    const withAccessToken = await callAndRead('call-with-access-token');
    expect(withAccessToken).toContain('Status: 200');
    expect(withAccessToken).toContain('WWW-Authenticate: (none)');
    const withIdToken = await callAndRead('call-with-id-token');
    expect(withIdToken).toContain('Status: 401');
    expect(withIdToken).toMatch(/WWW-Authenticate: Bearer realm="[^"]+", error="invalid_token"/);
    expect(withIdToken).toContain('is an ID token, not an access token');
    expect(withIdToken).toContain(`audience=${AUDIENCE}`);
    await shot('3-id-token-refused');
    if (process.env.UPDATE_DOCS_SCREENSHOT === '1' && platform === 'express') {
      await page.screenshot({ path: DOCS_SCREENSHOT, fullPage: true });
    }
    const me = await callAndRead('call-me');
    expect(me).toContain('Status: 200');
    expect(me).toContain(subjectForEmail(EMAIL));
    expect(me).toContain('"tokenType": "jwt"');
  });

  it('steps up (RFC 9470): /api/step-up refuses the password sign-in, then takes the multi-factor one', async () => {
    const weak = await callAndRead('call-step-up');
    expect(weak).toContain('Status: 401');
    expect(weak).toMatch(
      /WWW-Authenticate: Bearer realm="[^"]+", error="insufficient_user_authentication", acr_values="http:\/\/schemas\.openid\.net\/pape\/policies\/2007\/06\/multi-factor", max_age="300", error_description="[^"]*no acr claim/,
    );
    expect(weak).toContain('"reason": "acr_missing"');
    await shot('4-step-up-refused');
    await byTestId('login-step-up').click();
    // The provider's session is a password one: its login page again, now asking for a code.
    await page.waitForURL(/\/interaction\//);
    await byTestId('login-multi-factor').waitFor();
    await byTestId('login-email').fill(EMAIL);
    await byTestId('login-password').fill('any password at all');
    await byTestId('login-otp').fill('123456');
    await shot('5-step-up-login');
    // The affirmative button (multi-factor) is the first one.
    expect(await page.locator('button').first().getAttribute('data-testid')).toBe(
      'login-submit-mfa',
    );
    await page.locator('button').first().click();
    await page.waitForURL(
      (url) => url.href === `${base}/` || url.pathname.startsWith('/interaction/'),
    );
    if (page.url() !== `${base}/`) {
      await page.locator('button').first().click();
      await page.waitForURL(`${base}/`);
    }
    await byTestId('status').filter({ hasText: 'Signed in' }).waitFor();
    expect(await claimRow('access-token', 'acr').innerText()).toContain('multi-factor');
    const strong = await callAndRead('call-step-up');
    expect(strong).toContain('Status: 200');
    expect(strong).toContain(
      '"acr": "http://schemas.openid.net/pape/policies/2007/06/multi-factor"',
    );
    expect(strong).toContain(subjectForEmail(EMAIL));
    await shot('6-step-up-accepted');
  });

  it('signs in again without audience: an opaque token, /api/me through userinfo, 403 when scoped', async () => {
    await byTestId('login-no-audience').click();
    // The provider's session signs the user in again without the form (single sign-on).
    await byTestId('status').filter({ hasText: 'without audience' }).waitFor();
    expect(await byTestId('access-token').innerText()).toContain('This access token is opaque');
    expect(await claimRow('id-token', 'aud').innerText()).toContain('dev-spa');
    const me = await callAndRead('call-me');
    expect(me).toContain('Status: 200');
    expect(me).toContain('"tokenType": "opaque"');
    expect(me).toContain(EMAIL);
    const scoped = await callAndRead('call-scoped');
    expect(scoped).toContain('Status: 403');
    expect(scoped).toContain('error="insufficient_scope"');
    expect(scoped).toContain(`audience=${AUDIENCE}`);
    expect(await tokensInWebStorage()).toBe(0);
    await shot('7-opaque');
  });

  it('signs out at the provider and returns to the page (returnTo)', async () => {
    await byTestId('logout').click();
    await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\/oidc\/logout/);
    await shot('8-sign-out');
    await page.locator('button').first().click();
    await page.waitForURL(`${base}/`);
    await expect(byTestId('status').innerText()).resolves.toBe('Not signed in.');
    await expect(byTestId('call-with-access-token').isDisabled()).resolves.toBe(true);
    // The provider's session is gone: signing in shows the login form again.
    await byTestId('login').click();
    await page.waitForSelector('input[name=email]');
  });

  it('serves only its own files, with a Content-Security-Policy that allows no inline script', async () => {
    for (const path of ['..%2F..%2Fpackage.json', 'constructor', 'sign-in-page.controller.ts']) {
      expect((await fetch(`${base}/sign-in-page/${path}`)).status).toBe(404);
    }
    const csp = (await fetch(`${base}/`)).headers.get('content-security-policy');
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("default-src 'none'");
  });

  it('wrote no token to the console, and broke no Content-Security-Policy rule', async () => {
    expect(issuedTokens.length).toBeGreaterThanOrEqual(4);
    // Counted, not compared: a failure message must not print the token either.
    const everything = consoleMessages.join('\n');
    expect(issuedTokens.filter((token) => everything.includes(token))).toHaveLength(0);
    // The browser reports each 4xx answer (the refusals shown above); anything else is a fault.
    const expected =
      /^error: Failed to load resource: the server responded with a status of 40[13] /;
    const faults = consoleMessages.filter(
      (message) => /^(error|warning|pageerror)/.test(message) && !expected.test(message),
    );
    expect(faults).toEqual([]);
  });
});
