import type { AccessTokenStrategy, AccessTokenVerifier, AuthUser } from '../../lib';
import { AuthError } from '../../lib';
import { attachToken } from '../../lib/token/attached-token';

/**
 * What the verifier answers each token (`ok:<describe(user)>` or `<code>:<reason>`), having failed
 * the test unless Passport's path (the strategy) answers the very same.
 */
export async function outcomesThroughBothPaths(
  verifier: AccessTokenVerifier,
  strategy: AccessTokenStrategy,
  tokens: string[],
  describe: (user: AuthUser) => string,
): Promise<string[]> {
  const outcome = async (run: () => Promise<AuthUser>) => {
    try {
      return `ok:${describe(await run())}`;
    } catch (error) {
      if (error instanceof AuthError) return `${error.code}:${error.reason}`;
      throw error;
    }
  };
  const results: string[] = [];
  for (const token of tokens) {
    const direct = await outcome(() => verifier.verify(token));
    const passportRequest = { headers: { authorization: `Bearer ${token}` } };
    attachToken(passportRequest, token);
    expect(await outcome(() => strategy.authenticateWithPassport(passportRequest, {}))).toBe(
      direct,
    );
    results.push(direct);
  }
  return results;
}
