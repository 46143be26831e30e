import { InvalidRequestError } from '../errors/auth-error';
import type { AuthUser } from '../token/auth-user';
import { mcpAuthInfo, mcpUser } from './mcp-auth-info';
import { mcpOperations } from './mcp-request';
import { McpScopes } from './mcp-scopes';

/** A server that records what it was asked to register, as McpServer's methods are called. */
function fakeServer() {
  const registered: unknown[][] = [];
  return {
    registered,
    registerTool: (...args: unknown[]) => registered.push(['tool', ...args]),
    registerResource: (...args: unknown[]) => registered.push(['resource', ...args]),
    registerPrompt: (...args: unknown[]) => registered.push(['prompt', ...args]),
  };
}

const template = (pattern: RegExp | 'throws') => ({
  uriTemplate: {
    match: (uri: string) => {
      if (pattern === 'throws') throw new Error('too long');
      return pattern.test(uri) ? {} : null;
    },
    toString: () => String(pattern),
  },
});

const endpoint = [{ mode: 'all' as const, scopes: ['read'] }];

describe('McpScopes', () => {
  it('records each operation and registers it on the server unchanged', () => {
    const scopes = new McpScopes();
    const server = fakeServer();
    const cb = () => undefined;
    scopes.withScopes(server, 'write').registerTool('write', { description: 'd' }, cb);
    scopes.withScopes(server, 'write').registerPrompt('compose', {}, cb);
    scopes.withScopes(server, 'archive').registerResource('a', 'x://a', {}, cb);
    scopes.withScopes(server).registerTool('whoami', {}, cb);
    expect(server.registered[0]).toStrictEqual(['tool', 'write', { description: 'd' }, cb]);
    expect(server.registered).toHaveLength(4);
    expect(
      scopes.requirements(endpoint, [
        { kind: 'tool', name: 'write' },
        { kind: 'prompt', name: 'compose' },
        { kind: 'resource', uri: 'x://a' },
        { kind: 'tool', name: 'whoami' },
        { kind: 'tool', name: 'unknown' },
      ]),
    ).toStrictEqual([
      ...endpoint,
      { mode: 'all', scopes: ['write'] },
      { mode: 'all', scopes: ['write'] },
      { mode: 'all', scopes: ['archive'] },
    ]);
  });

  it('requires the scopes of every template a resource URI matches, and of one that throws', () => {
    const scopes = new McpScopes();
    const server = fakeServer();
    scopes.withScopes(server, 'a').registerResource('a', template(/^x:\/\/a\//), {}, () => 1);
    scopes.withScopes(server, 'b').registerResource('b', template(/^y:/), {}, () => 1);
    scopes.withScopes(server, 'c').registerResource('c', template('throws'), {}, () => 1);
    const required = scopes.requirements([], [{ kind: 'resource', uri: 'x://a/1' }]);
    expect(required.flatMap((r) => r.scopes)).toStrictEqual(['a', 'c']);
  });

  it('accepts the same declaration again after startup (a server per request)', () => {
    const scopes = new McpScopes();
    scopes.withScopes(fakeServer(), 'write').registerTool('write', {}, () => 1);
    scopes.onApplicationBootstrap();
    const server = fakeServer();
    scopes.withScopes(server, 'write').registerTool('write', {}, () => 1);
    expect(server.registered).toHaveLength(1);
  });

  it('refuses a new declaration after startup, and never registers its operation', () => {
    const scopes = new McpScopes();
    scopes.onApplicationBootstrap();
    const server = fakeServer();
    expect(() => scopes.withScopes(server, 'write').registerTool('late', {}, () => 1)).toThrow(
      /after the application started/,
    );
    expect(server.registered).toHaveLength(0);
  });

  it('gives the step-up requirements of the operations declared withStepUp, and only theirs', () => {
    const scopes = new McpScopes();
    const server = fakeServer();
    const cb = () => undefined;
    const mfa = { acr: 'urn:mfa', maxAge: 60 };
    scopes.withStepUp(server, mfa, 'admin').registerTool('purge', {}, cb);
    scopes.withStepUp(server, { maxAge: 30 }).registerPrompt('secret', {}, cb);
    scopes.withStepUp(server, { acr: 'urn:a' }).registerResource('k', 'x://keys', {}, cb);
    scopes
      .withStepUp(server, { acr: 'urn:t' })
      .registerResource('t', template(/^x:\/\/t\//), {}, cb);
    scopes.withScopes(server).registerTool('whoami', {}, cb);
    expect(scopes.stepUpRequirements([{ kind: 'tool', name: 'purge' }])).toEqual([
      { acr: ['urn:mfa'], maxAge: 60 },
    ]);
    expect(scopes.requirements(endpoint, [{ kind: 'tool', name: 'purge' }])).toEqual([
      ...endpoint,
      { mode: 'all', scopes: ['admin'] },
    ]);
    expect(scopes.stepUpRequirements([{ kind: 'prompt', name: 'secret' }])).toEqual([
      { maxAge: 30 },
    ]);
    expect(scopes.stepUpRequirements([{ kind: 'resource', uri: 'x://keys' }])).toEqual([
      { acr: ['urn:a'] },
    ]);
    expect(scopes.stepUpRequirements([{ kind: 'resource', uri: 'x://t/1' }])).toEqual([
      { acr: ['urn:t'] },
    ]);
    expect(scopes.stepUpRequirements([{ kind: 'tool', name: 'whoami' }])).toEqual([]);
    expect(() => scopes.withStepUp(server, { maxAge: -1 })).toThrow(/@StepUp\(\): maxAge/);
    // The same tool again with another (or no) step-up is refused: declare it once.
    expect(() => scopes.withScopes(server, 'admin').registerTool('purge', {}, cb)).toThrow(
      /another step-up requirement/,
    );
    scopes.onApplicationBootstrap();
    scopes.withStepUp(server, mfa, 'admin').registerTool('purge', {}, cb);
  });

  it("names a declared tool or prompt in a refusal, never a caller's unknown name", () => {
    const scopes = new McpScopes();
    const server = fakeServer();
    scopes.withScopes(server, 'write').registerTool('write', {}, () => undefined);
    scopes.withScopes(server, 'write').registerPrompt('compose', {}, () => undefined);
    expect(scopes.subjectOf([{ kind: 'tool', name: 'write' }])).toBe('The MCP tool write');
    expect(scopes.subjectOf([{ kind: 'prompt', name: 'compose' }])).toBe('The MCP prompt compose');
    expect(scopes.subjectOf([{ kind: 'tool', name: 'x scope=admin' }])).toBe('This MCP request');
    expect(scopes.subjectOf([{ kind: 'prompt', name: 'other' }])).toBe('This MCP request');
    expect(scopes.subjectOf([{ kind: 'resource', uri: 'x://a' }])).toBe('This MCP request');
    expect(scopes.subjectOf([])).toBe('This MCP request');
    const two = [
      { kind: 'tool', name: 'write' },
      { kind: 'prompt', name: 'compose' },
    ] as const;
    expect(scopes.subjectOf(two)).toBe('This MCP request');
  });

  it('refuses an operation declared twice with different scopes', () => {
    const scopes = new McpScopes();
    scopes.withScopes(fakeServer(), 'a').registerTool('t', {}, () => 1);
    expect(() => scopes.withScopes(fakeServer(), 'b').registerTool('t', {}, () => 1)).toThrow(
      /declare it once/,
    );
  });

  it.each([[''], ['a b'], ['a"']])('refuses the scope %p', (scope) => {
    expect(() => new McpScopes().withScopes(fakeServer(), scope)).toThrow(TypeError);
    expect(() => new McpScopes().declare('tool', 't', scope)).toThrow(TypeError);
  });

  it('takes a declaration by name, for operations another framework registers (@rekog/mcp-nest)', () => {
    const scopes = new McpScopes();
    scopes.declare('tool', 'write', 'write');
    scopes.declare('prompt', 'compose', 'write');
    scopes.declare('resource', 'x://a', 'archive');
    expect(
      scopes.requirements(endpoint, [
        { kind: 'tool', name: 'write' },
        { kind: 'prompt', name: 'compose' },
        { kind: 'resource', uri: 'x://a' },
      ]),
    ).toStrictEqual([
      ...endpoint,
      { mode: 'all', scopes: ['write'] },
      { mode: 'all', scopes: ['write'] },
      { mode: 'all', scopes: ['archive'] },
    ]);
    expect(scopes.subjectOf([{ kind: 'tool', name: 'write' }])).toBe('The MCP tool write');
    expect(scopes.declaredScopes()).toStrictEqual(['archive', 'write']);
    // The same rules as withScopes: once, and before the application started.
    expect(() => scopes.declare('tool', 'write', 'admin')).toThrow(/declare it once/);
    scopes.onApplicationBootstrap();
    scopes.declare('tool', 'write', 'write');
    expect(() => scopes.declare('tool', 'late', 'write')).toThrow(/after the application started/);
    expect(() => scopes.declare('template' as 'tool', 'x', 'write')).toThrow(TypeError);
    expect(() => scopes.declare('constructor' as 'tool', 'x', 'write')).toThrow(TypeError);
  });
});

describe('mcpOperations', () => {
  const post = (body: unknown) => mcpOperations({ method: 'POST', body });

  it('reads tools/call, prompts/get and resources/read, in every member of a batch', () => {
    expect(
      post([
        { method: 'tools/call', params: { name: 't' } },
        { method: 'prompts/get', params: { name: 'p' } },
        { method: 'resources/read', params: { uri: 'x://r' } },
        { method: 'tools/list', params: {} },
        { method: 'tools/call', params: { name: 7 } },
        { method: 'tools/call' },
        'junk',
        null,
      ]),
    ).toStrictEqual([
      { kind: 'tool', name: 't' },
      { kind: 'prompt', name: 'p' },
      { kind: 'resource', uri: 'x://r' },
    ]);
  });

  it('reads nothing of a GET or DELETE', () => {
    expect(mcpOperations({ method: 'GET' })).toStrictEqual([]);
  });

  it.each([undefined, 'text', 42, null])('refuses a POST whose body is %p (400)', (body) => {
    expect(() => post(body)).toThrow(InvalidRequestError);
  });
});

describe('mcpAuthInfo and mcpUser', () => {
  const user: AuthUser = {
    sub: 'u',
    scopes: ['read'],
    tokenHash: 'abc123',
    tokenType: 'jwt',
    claims: { iss: 'i', aud: 'a', exp: 99, sub: 'u', azp: 'client' },
  };

  it('gives the SDK the scopes, client, expiry and user, and the hash for the token', () => {
    expect(mcpAuthInfo(user)).toStrictEqual({
      token: 'abc123',
      clientId: 'client',
      scopes: ['read'],
      expiresAt: 99,
      extra: { user },
    });
    expect(mcpUser({ authInfo: mcpAuthInfo(user) })).toBe(user);
  });

  it('omits an expiry the token does not have (opaque tokens)', () => {
    const opaque = { ...user, tokenType: 'opaque', claims: { sub: 'u' } } as AuthUser;
    expect(mcpAuthInfo(opaque)).not.toHaveProperty('expiresAt');
  });

  it('throws when no guard set the user', () => {
    expect(() => mcpUser({})).toThrow(/McpEndpoint/);
  });
});
