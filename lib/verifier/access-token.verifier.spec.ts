import type { AuthUser } from '../token/auth-user';
import { InsufficientScopeError } from '../errors/auth-error';
import type { TrustedIssuers } from '../issuer/trusted-issuers';
import type { OpaqueTokenVerifier } from '../opaque/opaque-token.verifier';
import { resolveAuthOptions } from '../options/resolve-auth-options';
import type { ScopeRequirement } from '../token/scopes';
import { FAKE_TIMERS, settlesWithin } from '../../test/support/fake-timers';
import { AccessTokenVerifier } from './access-token.verifier';

const verifier = new AccessTokenVerifier(
  resolveAuthOptions({ issuerUrl: 'https://tenant.auth0.com/', audience: 'https://api' }),
  {} as TrustedIssuers,
  { enabled: false } as OpaqueTokenVerifier,
);
const user = (scopes: string[]): AuthUser => ({
  sub: 'auth0|1',
  scopes,
  tokenType: 'jwt',
  tokenHash: 'abc',
  claims: { iss: 'https://tenant.auth0.com/', aud: 'https://api', exp: 2e9, sub: 'auth0|1' },
});

function refusal(scopes: string[], requirements: ScopeRequirement[]): InsufficientScopeError {
  try {
    verifier.checkScopes(user(scopes), requirements);
  } catch (error) {
    if (error instanceof InsufficientScopeError) return error;
    throw error;
  }
  throw new Error('expected a 403');
}

describe('AccessTokenVerifier.checkScopes', () => {
  it.each<[ScopeRequirement[], string]>([
    [
      [{ mode: 'any', scopes: ['read:messages', 'admin'] }],
      'requires one of the scopes read:messages, admin.',
    ],
    [[{ mode: 'all', scopes: ['read:messages'] }], 'requires the scope read:messages.'],
    [
      [{ mode: 'all', scopes: ['read:messages', 'write:messages'] }],
      'requires the scopes read:messages and write:messages.',
    ],
    [
      [
        { mode: 'all', scopes: ['write:messages'] },
        { mode: 'any', scopes: ['admin', 'owner'] },
      ],
      'requires the scope write:messages; and one of the scopes admin, owner.',
    ],
  ])('describes %j in words', (requirements, words) => {
    const error = refusal(['profile'], requirements);
    expect(error.message).toContain(`This route ${words} The token grants: profile.`);
  });

  it('names every scope the request needs in the challenge, the ones already granted included', () => {
    // An MCP client replaces its requested scope with the challenge's: it must not lose any.
    const requirements: ScopeRequirement[] = [
      { mode: 'all', scopes: ['read:messages'] },
      { mode: 'all', scopes: ['write:messages', 'read:messages'] },
    ];
    expect(refusal(['read:messages'], requirements).requiredScopes).toStrictEqual([
      'read:messages',
      'write:messages',
    ]);
  });

  it('passes a caller that meets every requirement', () => {
    expect(() =>
      verifier.checkScopes(user(['admin']), [{ mode: 'any', scopes: ['read:messages', 'admin'] }]),
    ).not.toThrow();
  });
});

describe('AccessTokenVerifier.verify under fake timers', () => {
  it.each(FAKE_TIMERS)(
    'settles when fake timers (%s) were installed before the library loaded',
    async (_, install) => {
      const uninstall = install();
      try {
        let fresh!: typeof import('./access-token.verifier');
        jest.isolateModules(() => {
          fresh = jest.requireActual('./access-token.verifier');
        });
        const verifying = new fresh.AccessTokenVerifier(
          resolveAuthOptions({ issuerUrl: 'https://tenant.auth0.com/', audience: 'https://api' }),
          {} as TrustedIssuers,
          { enabled: false } as OpaqueTokenVerifier,
        ).verify('not-a-jwt');
        await expect(settlesWithin(verifying)).resolves.toBe('settled');
        await expect(verifying).rejects.toMatchObject({ reason: 'not_a_jwt' });
      } finally {
        uninstall();
      }
    },
  );
});
