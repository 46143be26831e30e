import type { AuthUser, JwtAuthUser } from './auth-user';
import type { AccessTokenClaims } from './validate-claims';

/**
 * The types of AuthUser as the checks guarantee them. `npm run typecheck` compiles this file: a
 * `@ts-expect-error` line that stops being an error fails it, as a wrong assignment does.
 */
interface AppClaims extends AccessTokenClaims {
  'https://example.com/roles'?: string[];
  tenant: string;
}

function typed(user: AuthUser<AppClaims>): string[] {
  // Every caller has a sub (JWT: validateClaims; introspection and userinfo: required too).
  const sub: string = user.sub;
  // The application's own claims keep their types on either kind of token...
  const roles: string[] | undefined = user.claims['https://example.com/roles'];
  // ...but an opaque token's answer may lack them, so a required claim is optional until narrowed.
  // @ts-expect-error tenant may be missing from an introspection or userinfo answer
  const anyTenant: string = user.claims.tenant;
  // @ts-expect-error exp may be missing from an introspection answer
  const anyExp: number = user.claims.exp;
  if (user.tokenType === 'jwt') {
    const tenant: string = user.claims.tenant;
    const exp: number = user.claims.exp;
    const iss: string = user.claims.iss;
    return [sub, tenant, String(exp), iss, anyTenant, String(anyExp), ...(roles ?? [])];
  }
  const opaqueSub: string = user.claims.sub;
  return [opaqueSub];
}

describe('AuthUser<TClaims>', () => {
  it('reads the application claims of a JWT caller', () => {
    const user: JwtAuthUser<AppClaims> = {
      sub: 'auth0|1',
      scopes: [],
      tokenType: 'jwt',
      tokenHash: 'abc',
      claims: {
        iss: 'https://tenant/',
        aud: 'api',
        exp: 1,
        sub: 'auth0|1',
        tenant: 't1',
        'https://example.com/roles': ['editor'],
      },
    };
    expect(typed(user)).toEqual(['auth0|1', 't1', '1', 'https://tenant/', 't1', '1', 'editor']);
  });

  it('reads what an opaque caller has', () => {
    expect(
      typed({
        sub: 'alice',
        scopes: [],
        tokenType: 'opaque',
        tokenHash: 'h',
        claims: { sub: 'alice' },
      }),
    ).toEqual(['alice']);
  });
});
