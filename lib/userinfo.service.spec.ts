import type { AuthUser } from './token/auth-user';
import { AuthError, IssuerUnavailableError } from './errors/auth-error';
import { IssuerDiscovery } from './issuer/issuer-discovery';
import { attachToken } from './token/attached-token';
import { endpointOf } from './opaque/opaque-token.verifier';
import { UserinfoService } from './userinfo.service';

const limits = { timeoutMs: 1000, maxBytes: 1024 };
/** Discovery with jwksUri configured never fetches: its metadata is exactly what is configured. */
const withoutEndpoints = new IssuerDiscovery({
  issuer: 'https://tenant.example.com/',
  jwksUri: 'https://tenant.example.com/jwks',
  limits,
  maxAgeMs: 60_000,
});

describe('endpointOf', () => {
  it.each([
    ['userinfoEndpoint', /publishes no userinfo_endpoint; configure userinfoEndpoint/],
    [
      'introspectionEndpoint',
      /publishes no introspection_endpoint; configure introspection\.endpoint/,
    ],
  ] as const)('answers 503 naming the option to set when %s is unknown', async (name, message) => {
    const error = await endpointOf(withoutEndpoints, name).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IssuerUnavailableError);
    expect((error as IssuerUnavailableError).retryAfterSeconds).toBe(60);
    expect((error as Error).message).toMatch(message);
  });
});

describe('UserinfoService.fetchProfile', () => {
  // Only the arguments fetchProfile reaches before its precondition matter here.
  const service = new UserinfoService(null!, null!, null!, limits, null!);
  const user = { sub: 'alice', claims: { sub: 'alice' }, tokenHash: 'h' } as unknown as AuthUser;

  it('is a programming error (not a refusal) on a request the guard did not authenticate', async () => {
    const withoutToken = { user };
    const withoutUser = {};
    attachToken(withoutUser, 'token-value');
    for (const request of [withoutToken, withoutUser]) {
      const error = await service.fetchProfile(request).catch((e: unknown) => e);
      expect(error).not.toBeInstanceOf(AuthError);
      expect((error as Error).message).toMatch(/needs a request authenticated by AccessTokenGuard/);
    }
  });
});
