import type { AuthModuleOptions } from '../options/auth-options.interface';
import { AuthOptionsError } from '../errors/auth-options-error';
import { resolveAuthOptions } from '../options/resolve-auth-options';
import { claimEquals } from './claim-rules';

const base = { issuerUrl: 'https://tenant.auth0.com/', audience: 'https://api.example.com' };
const resolve = (claimRules: unknown) =>
  resolveAuthOptions({ ...base, claimRules } as unknown as AuthModuleOptions);

describe('claimRules option', () => {
  it('defaults to no rule and keeps the rules given', () => {
    expect(resolve(undefined).claimRules).toEqual([]);
    const rule = claimEquals('org_id', 'acme');
    expect(resolve([rule]).claimRules).toEqual([rule]);
  });

  it.each([
    [
      {},
      "AuthModule option 'claimRules': must be an array of rules (claimEquals, claimIncludes, claimCheck).",
    ],
    [
      [claimEquals('a', 'b'), (claims: { a?: string }) => claims.a === 'b'],
      "AuthModule option 'claimRules[1]': is not a rule: make it with claimEquals, claimIncludes or claimCheck.",
    ],
  ])('refuses %p at bootstrap', (value, message) => {
    expect(() => resolve(value)).toThrow(AuthOptionsError);
    expect(() => resolve(value)).toThrow(message);
  });
});
