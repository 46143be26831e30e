import { InsufficientUserAuthenticationError } from '../errors/auth-error';
import {
  checkStepUp,
  stepUpRequirement,
  stepUpUnknowable,
  type StepUpRequirement,
} from './step-up';

const MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
const NOW = 1_800_000_000;

/** The refusal `checkStepUp` throws, or undefined when the claims pass. */
function refusal(
  claims: Record<string, unknown>,
  requirement: StepUpRequirement,
  tolerance = 5,
): InsufficientUserAuthenticationError | undefined {
  try {
    checkStepUp(claims, requirement, NOW, tolerance);
    return undefined;
  } catch (error) {
    if (error instanceof InsufficientUserAuthenticationError) return error;
    throw error;
  }
}

describe('stepUpRequirement (the options of @StepUp())', () => {
  it.each<[unknown, StepUpRequirement]>([
    [{ acr: MFA }, { acr: [MFA] }],
    [{ acr: [MFA, 'urn:b', MFA] }, { acr: [MFA, 'urn:b'] }],
    [{ maxAge: 0 }, { maxAge: 0 }],
    [
      { acr: 'urn:a', maxAge: 300 },
      { acr: ['urn:a'], maxAge: 300 },
    ],
    [
      { acr: 'urn:a', maxAge: 60, claims: { acr: 'https://x/acr', authTime: 'https://x/at' } },
      { acr: ['urn:a'], maxAge: 60, acrClaim: 'https://x/acr', authTimeClaim: 'https://x/at' },
    ],
    [{ maxAge: 60, claims: {} }, { maxAge: 60 }],
  ])('accepts %p', (options, expected) => {
    const requirement = stepUpRequirement(options);
    expect(requirement).toEqual(expected);
    expect(Object.isFrozen(requirement)).toBe(true);
  });

  it.each<[unknown, RegExp]>([
    [undefined, /give an object \{ acr, maxAge \}, got undefined/],
    [null, /give an object/],
    [[MFA], /give an object/],
    [{}, /give acr .*, maxAge .* or both/],
    [
      { acr: MFA, max_age: 3 },
      /'max_age' is not an option; the options are acr, maxAge and claims/,
    ],
    [{ acr: MFA, claims: 'acr' }, /claims must be \{ acr\?: string, authTime\?: string \}/],
    [{ acr: MFA, claims: null }, /claims must be/],
    [{ acr: MFA, claims: [] }, /claims must be/],
    [{ acr: MFA, claims: { acr: '' } }, /claims must be/],
    [{ acr: MFA, claims: { auth_time: 'x' } }, /claims must be/],
    [{ acr: '' }, /acr must be a non-empty string or a non-empty list/],
    [{ acr: [] }, /acr must be/],
    [{ acr: ['a b'] }, /without spaces, quotes or backslashes, got \['a b'\]/],
    [{ acr: ['a"b'] }, /acr must be/],
    [{ acr: 'x,scope=admin' }, /acr must be/],
    [{ acr: 42 }, /acr must be/],
    [{ acr: [MFA, 7] }, /acr must be/],
    [{ maxAge: -1 }, /maxAge must be a non-negative integer number of seconds, got -1/],
    [{ maxAge: 1.5 }, /maxAge must be/],
    [{ maxAge: '300' }, /maxAge must be .*got 300/],
    [{ maxAge: Number.NaN }, /maxAge must be/],
    [{ maxAge: Number.POSITIVE_INFINITY }, /maxAge must be/],
  ])('refuses %p at decoration time, saying what is wrong', (options, message) => {
    expect(() => stepUpRequirement(options)).toThrow(TypeError);
    expect(() => stepUpRequirement(options)).toThrow(message);
    expect(() => stepUpRequirement(options)).toThrow(/^@StepUp\(\): /);
  });
});

describe('checkStepUp', () => {
  const both: StepUpRequirement = { acr: [MFA, 'urn:loa:3'], maxAge: 300 };

  it('passes an accepted acr with an auth_time within maxAge', () => {
    expect(refusal({ acr: 'urn:loa:3', auth_time: NOW - 300 }, both)).toBeUndefined();
  });

  it('applies the clock tolerance to maxAge, and to an auth_time ahead of the clock', () => {
    expect(refusal({ acr: MFA, auth_time: NOW - 305 }, both)).toBeUndefined();
    expect(refusal({ acr: MFA, auth_time: NOW - 306 }, both)?.reason).toBe(
      'authentication_too_old',
    );
    expect(refusal({ acr: MFA, auth_time: NOW + 5 }, both)).toBeUndefined();
    expect(refusal({ acr: MFA, auth_time: NOW + 5.5 }, both)?.reason).toBe('auth_time_invalid');
    expect(refusal({ auth_time: NOW - 1 }, { maxAge: 0 }, 0)?.reason).toBe(
      'authentication_too_old',
    );
  });

  it('reads the claims the requirement names instead of acr and auth_time (Auth0: namespaced)', () => {
    const named = stepUpRequirement({
      acr: MFA,
      maxAge: 300,
      claims: { acr: 'https://x/acr', authTime: 'https://x/auth_time' },
    });
    expect(
      refusal({ 'https://x/acr': MFA, 'https://x/auth_time': NOW - 10 }, named),
    ).toBeUndefined();
    // The registered claims are not read then: a token cannot pass with them instead.
    const registered = refusal({ acr: MFA, auth_time: NOW }, named);
    expect(registered?.reason).toBe('acr_missing');
    expect(registered?.message).toContain('no https://x/acr claim');
    const old = refusal({ 'https://x/acr': MFA, 'https://x/auth_time': NOW - 400 }, named);
    expect(old?.reason).toBe('authentication_too_old');
    const typed = refusal({ 'https://x/acr': MFA, 'https://x/auth_time': 'x' }, named);
    expect(typed?.message).toContain("https://x/auth_time claim is 'x'");
  });

  it('asks nothing of auth_time without maxAge, nor of acr without acr', () => {
    expect(refusal({ acr: MFA }, { acr: [MFA] })).toBeUndefined();
    expect(refusal({ auth_time: NOW }, { maxAge: 10 })).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, string, string]>([
    [
      'no acr',
      { auth_time: NOW },
      'acr_missing',
      `The token has no acr claim, but this route requires an authentication context class (acr) of: ${MFA}, urn:loa:3. Sign in again with one of this challenge's acr_values.`,
    ],
    [
      'another acr',
      { acr: 'urn:pwd', auth_time: NOW },
      'acr_not_accepted',
      `The token's acr is 'urn:pwd', but this route accepts only: ${MFA}, urn:loa:3. Sign in again with one of this challenge's acr_values.`,
    ],
    [
      'acr of another case',
      { acr: MFA.toUpperCase(), auth_time: NOW },
      'acr_not_accepted',
      `The token's acr is '${MFA.toUpperCase()}', but this route accepts only: ${MFA}, urn:loa:3. Sign in again with one of this challenge's acr_values.`,
    ],
    [
      'acr as a number',
      { acr: 2, auth_time: NOW },
      'acr_invalid',
      `The token's acr claim is 2, not a string; this route requires one of: ${MFA}, urn:loa:3. Sign in again with one of this challenge's acr_values.`,
    ],
    [
      'no auth_time',
      { acr: MFA },
      'auth_time_missing',
      'The token has no auth_time claim, but this route requires an authentication at most 300 s old. Sign in again.',
    ],
    [
      'auth_time as a string',
      { acr: MFA, auth_time: String(NOW) },
      'auth_time_invalid',
      `The token's auth_time claim is '${NOW}', not a NumericDate (seconds since 1970); this route requires an authentication at most 300 s old.`,
    ],
    [
      'auth_time as Infinity',
      { acr: MFA, auth_time: Number.POSITIVE_INFINITY },
      'auth_time_invalid',
      "The token's auth_time claim is null, not a NumericDate (seconds since 1970); this route requires an authentication at most 300 s old.",
    ],
    [
      'auth_time in the future',
      { acr: MFA, auth_time: NOW + 3600 },
      'auth_time_invalid',
      "The token's auth_time is 3600 s in the future, beyond the clock tolerance of 5 s: check the clocks of this API and of the identity provider.",
    ],
    [
      'an old authentication',
      { acr: MFA, auth_time: NOW - 400.5 },
      'authentication_too_old',
      'The user authenticated 400 s ago, while at most 300 s is allowed on this route. Sign in again.',
    ],
  ])('refuses %s, saying exactly what falls short', (_case, claims, reason, message) => {
    const error = refusal(claims, both);
    expect(error).toMatchObject({
      code: 'insufficient_user_authentication',
      status: 401,
      reason,
      message,
      requirement: { acrValues: [MFA, 'urn:loa:3'], maxAge: 300 },
    });
  });

  it('carries only the parts the route requires', () => {
    expect(refusal({}, { acr: [MFA] })?.requirement).toEqual({ acrValues: [MFA] });
    expect(refusal({}, { maxAge: 5 })?.requirement).toEqual({ maxAge: 5 });
  });

  it('reads own claims only', () => {
    const inherited = Object.create({ acr: MFA, auth_time: NOW }) as Record<string, unknown>;
    expect(refusal(inherited, { acr: [MFA] })?.reason).toBe('acr_missing');
    expect(refusal(inherited, { maxAge: 5 })?.reason).toBe('auth_time_missing');
  });

  it('never writes scope= into a description, whatever the token says', () => {
    const error = refusal({ acr: 'a SCOPE="admin" scope=x' }, both);
    expect(error?.message).not.toMatch(/scope=/i);
    expect(error?.message).toContain("'a SCOPE ='admin' scope =x'");
    expect(refusal({ acr: { 'scope=': 1 } }, both)?.message).not.toMatch(/scope=/i);
  });
});

describe('stepUpUnknowable', () => {
  it.each<[StepUpRequirement, string]>([
    [{ acr: [MFA], maxAge: 60 }, 'acr_missing'],
    [{ maxAge: 60 }, 'auth_time_missing'],
  ])('refuses a token checked through /userinfo on a step-up route (%p)', (requirement, reason) => {
    const error = stepUpUnknowable(requirement);
    expect(error).toMatchObject({ code: 'insufficient_user_authentication', reason });
    expect(error.message).toContain('/userinfo');
  });
});
