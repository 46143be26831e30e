import { InvalidTokenError } from '../errors/auth-error';
import {
  ClaimRuleError,
  claimCheck,
  claimEquals,
  claimIncludes,
  enforceClaimRules,
  isClaimRule,
} from './claim-rules';
import type { AuthUser } from './auth-user';

const user = (claims: Record<string, unknown>, tokenType: 'jwt' | 'opaque' = 'jwt'): AuthUser =>
  ({
    sub: 'auth0|1',
    scopes: [],
    tokenType,
    tokenHash: 'abc',
    claims: { sub: 'auth0|1', ...claims },
  }) as AuthUser;

const logger = { error: jest.fn() };

function refusal(fn: () => void): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a refusal');
}

describe('claim rules', () => {
  beforeEach(() => logger.error.mockClear());

  describe('claimEquals', () => {
    const rule = claimEquals('org_id', 'acme');

    it('passes on the exact value', () => {
      expect(() =>
        enforceClaimRules(user({ org_id: 'acme' }), [rule], 'route', logger),
      ).not.toThrow();
    });

    it.each([
      [
        { org_id: 'globex' },
        `The token's org_id claim is "globex"; this route requires org_id "acme".`,
      ],
      [
        { org_id: 'ACME' },
        `The token's org_id claim is "ACME"; this route requires org_id "acme".`,
      ],
      [{}, `The token has no org_id claim; this route requires org_id "acme".`],
      [
        { org_id: ['acme'] },
        `The token's org_id claim is ['acme']; this route requires org_id "acme".`,
      ],
    ])('refuses %p with 403 insufficient_scope naming the claim', (claims, message) => {
      const error = refusal(() => enforceClaimRules(user(claims), [rule], 'route', logger));
      expect(error).toBeInstanceOf(ClaimRuleError);
      expect(error).toMatchObject({
        status: 403,
        code: 'insufficient_scope',
        reason: 'claim_rule_failed',
        message,
      });
    });

    it('refuses with 401 invalid_token at module level, naming the API', () => {
      const error = refusal(() =>
        enforceClaimRules(user({ org_id: 'x' }), [rule], 'module', logger),
      );
      expect(error).toBeInstanceOf(InvalidTokenError);
      expect(error).toMatchObject({
        status: 401,
        code: 'invalid_token',
        reason: 'claim_rule_failed',
      });
      expect(error.message).toBe(
        `The token's org_id claim is "x"; this API requires org_id "acme".`,
      );
    });

    it('takes the status the rule declares over the level default', () => {
      expect(
        refusal(() => enforceClaimRules(user({}), [rule.withStatus(401)], 'route', logger)),
      ).toMatchObject({ status: 401 });
      expect(
        refusal(() => enforceClaimRules(user({}), [rule.withStatus(403)], 'module', logger)),
      ).toMatchObject({ status: 403 });
      expect(rule.status).toBeUndefined();
    });

    it('compares numbers and booleans strictly', () => {
      const rules = [claimEquals('tier', 2), claimEquals('verified', true)];
      expect(() =>
        enforceClaimRules(user({ tier: 2, verified: true }), rules, 'route', logger),
      ).not.toThrow();
      expect(
        refusal(() =>
          enforceClaimRules(user({ tier: '2', verified: true }), rules, 'route', logger),
        ).message,
      ).toMatch(/tier claim is "2"; this route requires tier 2\./);
    });

    it('never echoes a long or non-printable value whole', () => {
      const error = refusal(() =>
        enforceClaimRules(user({ org_id: `${'x'.repeat(500)}\u0000"\n` }), [rule], 'route', logger),
      );
      expect(error.message.length).toBeLessThan(160);
      expect(error.message).not.toMatch(/[^\x20-\x7e]/);
    });

    it('reads only own claims (no prototype lookups)', () => {
      expect(
        refusal(() =>
          enforceClaimRules(user({}), [claimEquals('constructor', 'x')], 'route', logger),
        ).message,
      ).toMatch(/has no constructor claim/);
    });
  });

  describe('claimIncludes', () => {
    const rule = claimIncludes('roles', 'admin', 'editor');

    it.each([[{ roles: ['reader', 'admin', 'editor'] }], [{ roles: 'admin editor reader' }]])(
      'passes when the claim holds every value (%p)',
      (claims) => {
        expect(() => enforceClaimRules(user(claims), [rule], 'route', logger)).not.toThrow();
      },
    );

    it.each([
      [
        { roles: ['admin'] },
        `The token's roles claim lacks editor; this route requires roles to include admin and editor.`,
      ],
      [
        { roles: 'admin' },
        `The token's roles claim lacks editor; this route requires roles to include admin and editor.`,
      ],
      [
        { roles: 'administrator editor' },
        `The token's roles claim lacks admin; this route requires roles to include admin and editor.`,
      ],
      [{}, `The token has no roles claim; this route requires roles to include admin and editor.`],
      [
        { roles: { admin: true } },
        `The token's roles claim is {'admin':true}, not an array or a space-separated string; this route requires roles to include admin and editor.`,
      ],
      [
        { roles: [1, 'admin', 'editor'] },
        `The token's roles claim is [1,'admin','editor'], not an array or a space-separated string; this route requires roles to include admin and editor.`,
      ],
    ])('refuses %p', (claims, message) => {
      expect(refusal(() => enforceClaimRules(user(claims), [rule], 'route', logger)).message).toBe(
        message,
      );
    });
  });

  describe('claimCheck', () => {
    it('passes only when the predicate returns true', () => {
      const rule = claimCheck((claims) => claims.email_verified === true, 'a verified email');
      expect(() =>
        enforceClaimRules(user({ email_verified: true }), [rule], 'route', logger),
      ).not.toThrow();
      expect(refusal(() => enforceClaimRules(user({}), [rule], 'route', logger)).message).toBe(
        'The token does not meet a claim rule of this route: a verified email.',
      );
      const truthy = claimCheck(() => 'yes' as unknown as boolean, 'truthy is not true');
      expect(refusal(() => enforceClaimRules(user({}), [truthy], 'route', logger))).toBeInstanceOf(
        ClaimRuleError,
      );
    });

    it('refuses (fail closed) and logs when the predicate throws', () => {
      const rule = claimCheck(() => {
        throw new TypeError('boom');
      }, 'an org');
      const error = refusal(() => enforceClaimRules(user({}), [rule], 'route', logger));
      expect(error).toMatchObject({ status: 403, reason: 'claim_rule_failed' });
      expect(error.message).toBe(
        "The claim rule 'an org' of this route could not be checked (its predicate threw); the request is refused.",
      );
      expect(logger.error).toHaveBeenCalledWith(
        "Claim rule 'an org' threw TypeError for token abc; refused. Fix the predicate.",
      );
      expect(refusal(() => enforceClaimRules(user({}), [rule], 'module', logger))).toMatchObject({
        status: 401,
      });
    });

    it('gives the predicate a frozen copy of the claims', () => {
      const claims = { roles: ['a'] };
      const rule = claimCheck((c) => {
        (c.roles as string[]).push('admin');
        return true;
      }, 'mutates');
      const error = refusal(() => enforceClaimRules(user(claims), [rule], 'route', logger));
      expect(error.message).toMatch(/could not be checked/);
    });
  });

  it('refuses claims nested deeper than 32 levels (401 claims_too_deep) before freezing them', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 20_000; i++) deep = { inner: deep };
    const rule = claimCheck(() => true, 'anything');
    const error = refusal(() => enforceClaimRules(user({ deep }), [rule], 'route', logger));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject({ status: 401, reason: 'claims_too_deep' });
    let fine: unknown = 'x';
    for (let i = 0; i < 31; i++) fine = [fine];
    expect(() => enforceClaimRules(user({ fine }), [rule], 'route', logger)).not.toThrow();
  });

  it('refuses opaque tokens checked through userinfo (no claims), naming why', () => {
    const opaque = user({ email: 'a@b' }, 'opaque');
    const error = refusal(() =>
      enforceClaimRules(opaque, [claimEquals('org_id', 'acme')], 'route', logger, 'userinfo'),
    );
    expect(error.message).toBe(
      'This route requires org_id "acme", but the token is opaque and checked through /userinfo, which tells no token claims. Send a JWT access token (request it with this API\'s audience).',
    );
  });

  it('says "This API" for a module rule on an opaque token checked through userinfo', () => {
    const opaque = user({}, 'opaque');
    const error = refusal(() =>
      enforceClaimRules(opaque, [claimEquals('org_id', 'acme')], 'module', logger, 'userinfo'),
    );
    expect(error).toMatchObject({ status: 401 });
    expect(error.message).toMatch(/^This API requires org_id "acme", but the token is opaque/);
  });

  it('logs the type of a thrown value that is not an Error', () => {
    const rule = claimCheck(() => {
      throw 'not an error';
    }, 'a thing');
    expect(refusal(() => enforceClaimRules(user({}), [rule], 'route', logger))).toMatchObject({
      status: 403,
    });
    expect(logger.error).toHaveBeenCalledWith(
      "Claim rule 'a thing' threw string for token abc; refused. Fix the predicate.",
    );
  });

  it('checks introspected opaque tokens on what introspection answered', () => {
    const opaque = user({ org_id: 'acme' }, 'opaque');
    expect(() =>
      enforceClaimRules(opaque, [claimEquals('org_id', 'acme')], 'route', logger, 'introspection'),
    ).not.toThrow();
  });

  it('knows its rules', () => {
    expect(isClaimRule(claimEquals('a', 'b'))).toBe(true);
    expect(isClaimRule({ check: () => true })).toBe(false);
  });

  it.each([
    [() => claimEquals('', 'x'), /claimEquals: the claim name must be a non-empty string/],
    [
      () => claimEquals('a', {} as unknown as string),
      /claimEquals: the value must be a string, number, boolean or null/,
    ],
    [() => claimIncludes('a'), /claimIncludes: at least one value/],
    [
      () => claimIncludes('a', 'b c'),
      /claimIncludes: values must be non-empty strings without spaces/,
    ],
    [
      () => claimCheck('x' as unknown as () => boolean, 'd'),
      /claimCheck: the predicate must be a function/,
    ],
    [() => claimCheck(() => true, ''), /claimCheck: a description is required/],
    [() => claimEquals('a', 'b').withStatus(500 as 401), /withStatus: 401 or 403/],
  ])('refuses a malformed rule at declaration (%#)', (make, message) => {
    expect(make).toThrow(message);
  });
});
