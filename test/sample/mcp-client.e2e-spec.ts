import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  UnauthorizedError,
  type OAuthClientProvider,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { subjectForEmail } from '../../sample/dev-identity-provider-pages';
import { launchChromium } from '../support/chromium';
import { findLeaks } from '../support/log-capture';
import { printedExport, startDevSample, type SampleProcess } from '../support/sample-process';

/** The challenges the client received, for the closing note; git ignores test-output/. */
const OUTPUT = join(__dirname, '..', '..', 'test-output');
const API_AUDIENCE = 'https://api.example.com';
const EMAIL = 'ada@example.com';
/** Generous: each step goes through a real browser, a real provider and the sample's process. */
const STEP_TIMEOUT = 30_000;

/** One `WWW-Authenticate` header the MCP client received from the sample, with its status. */
interface Challenge {
  status: number;
  method: string;
  header: string;
}

/**
 * An MCP client app's `OAuthClientProvider`, in memory, as the SDK's examples write one: it
 * registers with a loopback redirect URI and, instead of opening a browser, records the
 * authorization URL for the test to drive.
 */
class InMemoryOAuthClientProvider implements OAuthClientProvider {
  readonly authorizationUrls: URL[] = [];
  readonly savedTokens: OAuthTokens[] = [];
  readonly codeVerifiers: string[] = [];
  private client?: OAuthClientInformationMixed;
  private currentState = '';

  constructor(readonly redirectUrl: string) {}

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'the MCP client test',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      // As the SDK's simpleOAuthClient example registers.
      token_endpoint_auth_method: 'client_secret_post',
    };
  }

  state(): string {
    this.currentState = randomBytes(16).toString('base64url');
    return this.currentState;
  }

  get expectedState(): string {
    return this.currentState;
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.client;
  }

  saveClientInformation(client: OAuthClientInformationMixed): void {
    this.client = client;
  }

  tokens(): OAuthTokens | undefined {
    return this.savedTokens.at(-1);
  }

  saveTokens(tokens: OAuthTokens): void {
    this.savedTokens.push(tokens);
  }

  redirectToAuthorization(authorizationUrl: URL): void {
    this.authorizationUrls.push(authorizationUrl);
  }

  saveCodeVerifier(codeVerifier: string): void {
    this.codeVerifiers.push(codeVerifier);
  }

  codeVerifier(): string {
    const verifier = this.codeVerifiers.at(-1);
    if (!verifier) throw new Error('No code verifier saved');
    return verifier;
  }
}

/** A JWT's payload, decoded without verification (the sample verifies it; the shape is tested). */
function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
}

/** The text of a tool result's first content, which is text for every tool of the sample. */
function textOf(result: Awaited<ReturnType<Client['callTool']>>): string {
  const [first] = result.content as { type: string; text?: string }[];
  expect(first?.type).toBe('text');
  return first!.text!;
}

/** The value of one parameter of a `Bearer` challenge. */
function param(header: string, name: string): string | undefined {
  return new RegExp(`[\\s,]${name}="([^"]*)"`).exec(header)?.[1];
}

/**
 * The official MCP SDK client (`Client`, `StreamableHTTPClientTransport`, an `OAuthClientProvider`)
 * against the sample's `POST /mcp` with its embedded provider, through the provider's real login
 * and consent pages in chromium: from the 401 through discovery, registration and PKCE to the
 * token, then the 403 on `write_messages` and the SDK's own upscoping.
 */
describe.each(['express', 'fastify'] as const)('the official MCP SDK client (%s)', (platform) => {
  let sample: SampleProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let loopback: Server;
  let base: string;
  let mcpUrl: string;
  let provider: InMemoryOAuthClientProvider;
  let client: Client;
  let transport: StreamableHTTPClientTransport;
  /** Every `WWW-Authenticate` header from the sample's `/mcp`, in order. */
  const challenges: Challenge[] = [];
  /** Every secret seen in the flow: authorization codes (the provider keeps the rest). */
  const codes: string[] = [];

  /** The transport's `fetch`, which keeps every challenge from `/mcp` and changes nothing. */
  const recordingFetch: FetchLike = async (url, init) => {
    const response = await fetch(url, init);
    const header = response.headers.get('www-authenticate');
    if (header && new URL(url).href === mcpUrl) {
      challenges.push({ status: response.status, method: init?.method ?? 'GET', header });
    }
    return response;
  };

  const newTransport = () =>
    new StreamableHTTPClientTransport(new URL(mcpUrl), {
      authProvider: provider,
      fetch: recordingFetch,
    });

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    loopback = createServer((_req, res) => res.end('Signed in: you may close this window.'));
    await new Promise<void>((resolve) => loopback.listen(0, '127.0.0.1', resolve));
    const { port } = loopback.address() as AddressInfo;
    [sample, browser] = await Promise.all([
      startDevSample({ SAMPLE_PLATFORM: platform }),
      launchChromium(),
    ]);
    await printedExport(sample, 'TOKEN');
    base = `http://localhost:${sample.port}`;
    mcpUrl = `${base}/mcp`;
    provider = new InMemoryOAuthClientProvider(`http://127.0.0.1:${port}/callback`);
    client = new Client({ name: 'mcp-client-e2e', version: '1.0.0' });
    context = await browser.newContext();
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
  }, STEP_TIMEOUT);

  afterAll(async () => {
    await client?.close();
    await browser?.close();
    await sample?.stop();
    loopback?.close();
  });

  /**
   * What the user does in the browser the SDK would open: the provider's login page (when there is
   * no session yet) and its consent page, to the loopback redirect. Returns the code and the text
   * of the consent page.
   */
  async function signInAt(authorizationUrl: URL): Promise<{ code: string; consent: string }> {
    const atCallback = (url: URL) => url.href.startsWith(provider.redirectUrl);
    await page.goto(authorizationUrl.href);
    await page.waitForURL((url) => atCallback(url) || url.pathname.startsWith('/interaction/'));
    if (await page.getByTestId('login-email').isVisible()) {
      await page.getByTestId('login-email').fill(EMAIL);
      await page.getByTestId('login-password').fill('any password at all');
      // The affirmative button is the first one.
      await page.locator('button').first().click();
      await page.waitForURL((url) => atCallback(url) || url.pathname.startsWith('/interaction/'));
    }
    let consent = '';
    if (!atCallback(new URL(page.url()))) {
      consent = await page.locator('body').innerText();
      await page.getByTestId('consent-allow').click();
      await page.waitForURL(atCallback);
    }
    const callback = new URL(page.url());
    expect(callback.searchParams.get('error')).toBeNull();
    expect(callback.searchParams.get('state')).toBe(provider.expectedState);
    const code = callback.searchParams.get('code');
    expect(code).toEqual(expect.any(String));
    codes.push(code!);
    return { code: code!, consent };
  }

  it(
    'goes from the 401 through discovery, registration and PKCE to a token, lists the tools and calls whoami',
    async () => {
      transport = newTransport();
      // The SDK gets the 401, discovers, registers and asks for a browser redirect.
      await expect(client.connect(transport)).rejects.toBeInstanceOf(UnauthorizedError);
      expect(challenges.map(({ status }) => status)).toEqual([401]);
      expect(provider.clientInformation()).toMatchObject({
        client_id: expect.any(String),
        redirect_uris: [provider.redirectUrl],
      });
      expect(provider.authorizationUrls).toHaveLength(1);
      const asked = provider.authorizationUrls[0]!;
      expect(asked.searchParams.get('scope')).toBe('read:messages');
      expect(asked.searchParams.get('resource')).toBe(mcpUrl);
      expect(asked.searchParams.get('code_challenge_method')).toBe('S256');
      expect(provider.savedTokens.length).toBe(0);

      const { code } = await signInAt(asked);
      await transport.finishAuth(code);
      expect(provider.savedTokens.length).toBe(1);
      const first = provider.savedTokens[0]!;
      expect(first.refresh_token).toBeUndefined();
      expect(jwtPayload(first.access_token)).toMatchObject({
        aud: mcpUrl,
        scope: 'read:messages',
        sub: subjectForEmail(EMAIL),
      });

      // As the SDK's examples do: connect again, on a new transport with the same provider.
      transport = newTransport();
      await client.connect(transport);
      const { tools } = await client.listTools();
      expect(tools.map(({ name }) => name).sort()).toEqual([
        'read_messages',
        'whoami',
        'write_messages',
      ]);
      const whoami = await client.callTool({ name: 'whoami', arguments: {} });
      expect(whoami.isError).toBeFalsy();
      expect(JSON.parse(textOf(whoami))).toEqual({ sub: subjectForEmail(EMAIL) });
      expect(challenges).toHaveLength(1);
    },
    STEP_TIMEOUT,
  );

  it(
    "gets the 403 on write_messages and re-authorizes with the wider scope by the SDK's own upscoping",
    async () => {
      const text = `hello from the MCP client on ${platform}`;
      const write = () => client.callTool({ name: 'write_messages', arguments: { text } });
      // The 403: the SDK asks for the challenge's scope, has no refresh token, so a browser redirect.
      await expect(write()).rejects.toBeInstanceOf(UnauthorizedError);
      expect(challenges.map(({ status }) => status)).toEqual([401, 403]);
      expect(provider.authorizationUrls).toHaveLength(2);
      const asked = provider.authorizationUrls[1]!;
      expect(asked.searchParams.get('scope')).toBe('read:messages write:messages');
      expect(asked.searchParams.get('resource')).toBe(mcpUrl);
      expect(provider.savedTokens.length).toBe(1);

      // The provider's session stands; its consent page asks for the new scope.
      const { code, consent } = await signInAt(asked);
      expect(consent).toContain('write:messages');
      await transport.finishAuth(code);
      expect(provider.savedTokens.length).toBe(2);
      const second = provider.savedTokens[1]!;
      expect(second.refresh_token).toBeUndefined();
      const claims = jwtPayload(second.access_token);
      expect(claims.aud).toBe(mcpUrl);
      expect(String(claims.scope).split(' ')).toEqual(
        expect.arrayContaining(['read:messages', 'write:messages']),
      );
      expect(claims.sub).toBe(subjectForEmail(EMAIL));

      // The call repeated, as the SDK's examples do, on the same transport and connection.
      const written = await write();
      expect(written.isError).toBeFalsy();
      expect(textOf(written)).toBe(`Stored: ${text}`);
      const read = await client.callTool({ name: 'read_messages', arguments: {} });
      expect(read.isError).toBeFalsy();
      expect(textOf(read).split('\n')).toContain(text);
      // No further challenge: the wider token is accepted for every tool.
      expect(challenges).toHaveLength(2);
    },
    STEP_TIMEOUT,
  );

  it('received a 401 and a 403 whose challenges name the scope and the resource metadata', () => {
    const metadataUrl = `${base}/.well-known/oauth-protected-resource/mcp`;
    const [unauthorized, forbidden] = challenges;
    expect(challenges).toHaveLength(2);
    for (const { header } of challenges) {
      // The SDK reads parameters only from a header that starts with `Bearer `.
      expect(header.startsWith('Bearer ')).toBe(true);
      expect(param(header, 'resource_metadata')).toBe(metadataUrl);
    }
    expect(unauthorized!.status).toBe(401);
    expect(param(unauthorized!.header, 'scope')).toBe('read:messages');
    expect(param(unauthorized!.header, 'error')).toBeUndefined();
    expect(forbidden!.status).toBe(403);
    expect(param(forbidden!.header, 'error')).toBe('insufficient_scope');
    expect(param(forbidden!.header, 'scope')).toBe('read:messages write:messages');
    // The SDK takes the first `scope=` it finds: none before the Bearer challenge's own.
    for (const { header } of challenges) {
      expect(header.indexOf('scope=')).toBe(header.indexOf(' scope="') + 1);
    }
    writeFileSync(
      join(OUTPUT, `mcp-challenges-${platform}.txt`),
      challenges
        .map(
          ({ status, method, header }) =>
            `${method} /mcp → ${status}\nWWW-Authenticate: ${header}\n`,
        )
        .join('\n'),
    );
  });

  /** A JSON-RPC `initialize` to `/mcp`, as a client's first request is. */
  const initialize = (path: string, authorization?: string) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(authorization ? { authorization } : {}),
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'curl', version: '1' },
        },
      }),
    });

  it("refuses the API's token at /mcp and the MCP token at /api/private: 401 invalid_token naming both audiences", async () => {
    const apiToken = await printedExport(sample, 'TOKEN');
    const mcpToken = provider.tokens()!.access_token;

    const atMcp = await initialize('/mcp', `Bearer ${apiToken}`);
    expect(atMcp.status).toBe(401);
    const mcpChallenge = atMcp.headers.get('www-authenticate')!;
    expect(param(mcpChallenge, 'error')).toBe('invalid_token');
    expect(param(mcpChallenge, 'error_description')).toEqual(expect.stringContaining(API_AUDIENCE));
    expect(param(mcpChallenge, 'error_description')).toEqual(expect.stringContaining(mcpUrl));

    const atApi = await fetch(`${base}/api/private`, {
      headers: { authorization: `Bearer ${mcpToken}` },
    });
    expect(atApi.status).toBe(401);
    const apiChallenge = atApi.headers.get('www-authenticate')!;
    expect(param(apiChallenge, 'error')).toBe('invalid_token');
    expect(param(apiChallenge, 'error_description')).toEqual(expect.stringContaining(API_AUDIENCE));
    expect(param(apiChallenge, 'error_description')).toEqual(expect.stringContaining(mcpUrl));

    // The same MCP token in a header is accepted at /mcp: the refusals are the audience's.
    expect((await initialize('/mcp', `Bearer ${mcpToken}`)).status).toBe(200);
  });

  it('never accepts a token in the query string (?access_token=): 401 with the challenge', async () => {
    const mcpToken = provider.tokens()!.access_token;
    const answer = await initialize(`/mcp?access_token=${encodeURIComponent(mcpToken)}`);
    expect(answer.status).toBe(401);
    const challenge = answer.headers.get('www-authenticate')!;
    expect(challenge.startsWith('Bearer ')).toBe(true);
    expect(param(challenge, 'scope')).toBe('read:messages');
    expect(await answer.text()).not.toContain('"result"');
  });

  it("prints no token, code or client secret in the sample's output", () => {
    const output = sample.output();
    const apiToken = /^export TOKEN=(\S+)\n/m.exec(output)![1]!;
    // The sample prints its own API token once, on purpose, for the developer; nothing else.
    expect(output.split(apiToken).length - 1).toBe(1);
    const lines = output.split('\n').filter((line) => !line.startsWith('export TOKEN='));
    const registered = provider.clientInformation() as { client_secret?: string };
    const secrets = [
      apiToken,
      ...provider.savedTokens.map(({ access_token }) => access_token),
      ...provider.codeVerifiers,
      ...codes,
      ...(registered.client_secret ? [registered.client_secret] : []),
    ];
    expect(provider.savedTokens.length).toBe(2);
    expect(findLeaks(lines, secrets)).toEqual([]);
  });
});
