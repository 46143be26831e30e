import { Logger } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { Public } from '../decorators/public.decorator';
import { RESOLVED_AUTH_OPTIONS } from '../auth.constants';
import type { AuthUser } from '../token/auth-user';
import { AuthError, InvalidTokenError, IssuerUnavailableError } from '../errors/auth-error';
import { AccessTokenVerifier } from '../verifier/access-token.verifier';
import { HandshakeAuthenticator, type HandshakeAccess } from './handshake-authenticator';

const GATEWAY_METADATA = 'websockets:is_gateway';
const GATEWAY_OPTIONS = 'websockets:gateway_options';

/** A gateway class as `@WebSocketGateway(options)` marks it, public or not. */
function gateway(options: Record<string, unknown>, access: HandshakeAccess = 'required') {
  const type = class {
    readonly options = options;
  };
  Reflect.defineMetadata(GATEWAY_METADATA, true, type);
  Reflect.defineMetadata(GATEWAY_OPTIONS, options, type);
  if (access === 'public') Public()(type);
  return type;
}

const TTL_MS = 60_000;

/** An authenticator over an app holding `gateways` and a verifier that answers `verify`. */
function authenticator(
  gateways: (new () => object)[] = [],
  verify: (token: string) => Promise<AuthUser> = () => Promise.reject(new Error('unused')),
) {
  const modules = new Map([
    ['Gateways', { providers: new Map(gateways.map((type) => [type, { metatype: type }])) }],
  ]);
  const verifier = { verify: jest.fn(verify) };
  const options = { realm: 'api', clockToleranceSeconds: 5, cache: { ttlMs: TTL_MS } };
  const parts = new Map<unknown, unknown>([
    [AccessTokenVerifier, verifier],
    [RESOLVED_AUTH_OPTIONS, options],
    [ModulesContainer, modules],
  ]);
  const app = { get: (token: unknown) => parts.get(token) };
  return { auth: new HandshakeAuthenticator(app as never), verifier };
}

const user = (claims: Record<string, unknown>) => ({ sub: 'auth0|user-1', claims }) as AuthUser;

describe('HandshakeAuthenticator.access (socket.io namespaces)', () => {
  it('matches a RegExp namespace, without the state a g or y flag gives test()', () => {
    const { auth } = authenticator([
      gateway({ namespace: /^\/lobby-\d+$/gy }, 'public'),
      gateway({ namespace: /^\/room-\d+$/ }),
    ]);
    // With the gateway's own RegExp, the second test() would start at lastIndex and miss.
    expect(auth.access({ namespace: '/lobby-1' })).toBe('public');
    expect(auth.access({ namespace: '/lobby-1' })).toBe('public');
    expect(auth.access({ namespace: '/room-2' })).toBe('required');
    // Where no RegExp matches, no gateway is known: a token is required.
    expect(auth.access({ namespace: '/lobby-x' })).toBe('required');
  });

  it('a namespace it cannot evaluate (a function) requires a token wherever it may match', () => {
    const dynamic = () => true;
    const { auth } = authenticator([
      gateway({ namespace: dynamic }),
      gateway({ namespace: '/open' }, 'public'),
    ]);
    expect(auth.access({ namespace: '/open' })).toBe('required');
    expect(auth.access({ namespace: '/anything' })).toBe('required');
  });

  it('a public gateway with such a namespace opens nothing', () => {
    const { auth } = authenticator([gateway({ namespace: () => true }, 'public')]);
    expect(auth.access({ namespace: '/anything' })).toBe('required');
  });
});

describe('HandshakeAuthenticator.refusalOf', () => {
  it('passes an AuthError on as it is', () => {
    const { auth } = authenticator();
    const error = new InvalidTokenError('token_expired', 'expired');
    expect(auth.refusalOf(error)).toBe(error);
  });

  it.each([
    ['an Error', new TypeError('secret detail'), 'TypeError'],
    ['a thrown string', 'secret detail', 'string'],
  ])('refuses on %s with issuer_unavailable, logging its kind only', (_case, thrown, kind) => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const refusal = authenticator().auth.refusalOf(thrown);
      expect(refusal).toBeInstanceOf(IssuerUnavailableError);
      expect(refusal).toMatchObject({ status: 503, code: 'issuer_unavailable' });
      expect(logged).toHaveBeenCalledTimes(1);
      expect(logged.mock.calls[0][0]).toBe(`Handshake refused on an unexpected error: ${kind}`);
      expect(JSON.stringify(logged.mock.calls)).not.toContain('secret detail');
    } finally {
      logged.mockRestore();
    }
  });
});

describe('HandshakeAuthenticator.watchExpiry', () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  const MAX_TIMER_MS = 2 ** 31 - 1;

  it('waits past the longest setTimeout in steps for a token that expires in 30 days', async () => {
    const { auth } = authenticator();
    const exp = Math.floor(Date.now() / 1000) + 30 * 86_400;
    const end = jest.fn<void, [AuthError]>();
    auth.watchExpiry(user({ exp }), 'token', end);
    await jest.advanceTimersByTimeAsync(MAX_TIMER_MS);
    // The first timer fired early (setTimeout's limit): nothing ends yet.
    expect(end).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync((exp + 5) * 1000 - Date.now() - 1);
    expect(end).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);
    expect(end).toHaveBeenCalledTimes(1);
    expect(end.mock.calls[0][0]).toMatchObject({ status: 401, reason: 'token_expired' });
  });

  it('checks a token without exp again every cache TTL while the verifier accepts it', async () => {
    let accepted = true;
    const { auth, verifier } = authenticator([], async () => {
      if (accepted) return user({});
      throw new InvalidTokenError('token_inactive', 'no longer active');
    });
    const end = jest.fn<void, [AuthError]>();
    auth.watchExpiry(user({}), 'opaque', end);
    await jest.advanceTimersByTimeAsync(TTL_MS - 1);
    expect(verifier.verify).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);
    await jest.advanceTimersByTimeAsync(TTL_MS);
    expect(verifier.verify).toHaveBeenCalledTimes(2);
    expect(verifier.verify).toHaveBeenCalledWith('opaque');
    expect(end).not.toHaveBeenCalled();
    accepted = false;
    await jest.advanceTimersByTimeAsync(TTL_MS);
    expect(end).toHaveBeenCalledTimes(1);
    expect(end.mock.calls[0][0]).toMatchObject({ reason: 'token_inactive' });
    // Ended: no further checks.
    await jest.advanceTimersByTimeAsync(TTL_MS * 3);
    expect(verifier.verify).toHaveBeenCalledTimes(3);
  });

  it('ends on a verifier failure with issuer_unavailable', async () => {
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const { auth } = authenticator([], () => Promise.reject(new RangeError('bug')));
      const end = jest.fn<void, [AuthError]>();
      auth.watchExpiry(user({}), 'opaque', end);
      await jest.advanceTimersByTimeAsync(TTL_MS);
      expect(end).toHaveBeenCalledTimes(1);
      expect(end.mock.calls[0][0]).toBeInstanceOf(IssuerUnavailableError);
    } finally {
      logged.mockRestore();
    }
  });

  it.each([
    ['accepts', () => Promise.resolve(user({}))],
    ['refuses', () => Promise.reject(new InvalidTokenError('token_inactive', 'inactive'))],
  ])(
    'stopped while the verifier is asked, neither reschedules nor ends when it %s',
    async (_case, answer) => {
      let release!: () => void;
      const asked = new Promise<void>((resolve) => (release = resolve));
      const { auth, verifier } = authenticator([], () => asked.then(answer));
      const end = jest.fn<void, [AuthError]>();
      const stop = auth.watchExpiry(user({}), 'opaque', end);
      await jest.advanceTimersByTimeAsync(TTL_MS);
      expect(verifier.verify).toHaveBeenCalledTimes(1);
      stop();
      release();
      await jest.advanceTimersByTimeAsync(TTL_MS * 3);
      expect(verifier.verify).toHaveBeenCalledTimes(1);
      expect(end).not.toHaveBeenCalled();
    },
  );

  it('stopped before its time, never checks', async () => {
    const { auth, verifier } = authenticator([], () => Promise.resolve(user({})));
    const end = jest.fn<void, [AuthError]>();
    const exp = Math.floor(Date.now() / 1000) + 10;
    auth.watchExpiry(user({ exp }), 'jwt', end)();
    auth.watchExpiry(user({}), 'opaque', end)();
    await jest.advanceTimersByTimeAsync(TTL_MS * 2);
    expect(end).not.toHaveBeenCalled();
    expect(verifier.verify).not.toHaveBeenCalled();
  });
});
