import type { AuthUser } from './token/auth-user';
import { InvalidTokenError, type AuthErrorReason } from './errors/auth-error';
import { resolveAuthOptions } from './options/resolve-auth-options';
import type { AccessTokenVerifier } from './verifier/access-token.verifier';
import { GRAPHQL_WS_CLOSE_CODES, GraphqlWsAuth } from './graphql-ws-auth.service';
import type { GraphqlWsContext } from './contexts/graphql.face';

const options = resolveAuthOptions({
  issuerUrl: 'https://tenant.example.com/',
  audience: 'https://api.example.com',
});

/** A verifier that answers `outcome` for every token (the real one is exercised end to end). */
const verifierAnswering = (outcome: () => Promise<AuthUser>) =>
  ({ verify: jest.fn(outcome) }) as unknown as AccessTokenVerifier;

const userExpiringAt = (exp: unknown) =>
  ({ sub: 'alice', claims: { sub: 'alice', exp }, tokenHash: 'h' }) as unknown as AuthUser;

function connection(socket?: object): GraphqlWsContext {
  return {
    connectionInitReceived: true,
    connectionParams: { authorization: 'Bearer opaque-token-value' },
    extra: socket ? { socket } : {},
  } as GraphqlWsContext;
}

function fakeSocket() {
  return { close: jest.fn(), once: jest.fn() };
}

describe('GraphqlWsAuth.onConnect', () => {
  afterEach(() => jest.useRealTimers());

  it('passes on an error that is not a refusal (a bug), without closing the socket', async () => {
    const bug = new TypeError('bug in the verifier');
    const socket = fakeSocket();
    const auth = new GraphqlWsAuth(
      options,
      verifierAnswering(() => Promise.reject(bug)),
    );
    await expect(auth.onConnect(connection(socket))).rejects.toBe(bug);
    expect(socket.close).not.toHaveBeenCalled();
  });

  it('keeps the close reason within the 123 bytes a close frame allows', async () => {
    const longReason = 'a_reason_of_a_subclass_'.repeat(6) as AuthErrorReason;
    const socket = fakeSocket();
    const auth = new GraphqlWsAuth(
      options,
      verifierAnswering(() => Promise.reject(new InvalidTokenError(longReason, 'refused'))),
    );
    await expect(auth.onConnect(connection(socket))).resolves.toBe(false);
    expect(socket.close).toHaveBeenCalledWith(
      GRAPHQL_WS_CLOSE_CODES.UNAUTHENTICATED,
      '{"code":"UNAUTHENTICATED"}',
    );
  });

  it('accepts a connection without a socket or without exp, and arms no expiry timer', async () => {
    jest.useFakeTimers();
    const withoutSocket = connection();
    const auth = new GraphqlWsAuth(
      options,
      verifierAnswering(async () => userExpiringAt(Math.floor(Date.now() / 1000) + 60)),
    );
    await expect(auth.onConnect(withoutSocket)).resolves.toBe(true);
    expect(withoutSocket.user?.sub).toBe('alice');
    const socket = fakeSocket();
    const noExp = new GraphqlWsAuth(
      options,
      verifierAnswering(async () => userExpiringAt(undefined)),
    );
    await expect(noExp.onConnect(connection(socket))).resolves.toBe(true);
    expect(jest.getTimerCount()).toBe(0);
    expect(socket.once).not.toHaveBeenCalled();
  });

  it('re-arms the expiry timer of a token that outlives the longest timer, and closes at exp', async () => {
    jest.useFakeTimers();
    const maxTimerMs = 2 ** 31 - 1;
    const exp = Math.floor((Date.now() + maxTimerMs + 3_600_000) / 1000);
    const socket = fakeSocket();
    const auth = new GraphqlWsAuth(
      options,
      verifierAnswering(async () => userExpiringAt(exp)),
    );
    await expect(auth.onConnect(connection(socket))).resolves.toBe(true);
    jest.advanceTimersByTime(maxTimerMs);
    expect(socket.close).not.toHaveBeenCalled();
    expect(jest.getTimerCount()).toBe(1);
    expect(socket.once).toHaveBeenCalledTimes(2);
    jest.advanceTimersByTime(3_600_000 + (options.clockToleranceSeconds + 1) * 1000);
    expect(socket.close).toHaveBeenCalledWith(
      GRAPHQL_WS_CLOSE_CODES.UNAUTHENTICATED,
      JSON.stringify({ code: 'UNAUTHENTICATED', error: 'invalid_token', reason: 'token_expired' }),
    );
  });
});
