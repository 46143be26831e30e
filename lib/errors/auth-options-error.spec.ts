import {
  AuthOptionsError,
  nearestName,
  optionFlag,
  optionNumber,
  optionText,
  refuseUnknownKeys,
} from './auth-options-error';

/** The message of the AuthOptionsError `run` throws; undefined when it throws nothing. */
function thrown(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof AuthOptionsError && error.name === 'AuthOptionsError')
      return error.message;
    return `not an AuthOptionsError: ${String(error)}`;
  }
  return undefined;
}

describe('AuthOptionsError', () => {
  it.each([
    ['must be set', "AuthModule option 'x': must be set."],
    ['must be set.', "AuthModule option 'x': must be set."],
    ['did you mean y?', "AuthModule option 'x': did you mean y?"],
  ])('names the option and ends %j with one stop', (problem, message) => {
    expect(new AuthOptionsError('x', problem).message).toBe(message);
  });
});

describe('refuseUnknownKeys', () => {
  const names = { audience: true, issuerUrl: true };

  it('accepts the options it lists', () => {
    expect(thrown(() => refuseUnknownKeys({ audience: 'a' }, names, ''))).toBeUndefined();
  });

  it('names the nearest option under its prefix, or lists them all', () => {
    expect(thrown(() => refuseUnknownKeys({ audiance: 'a' }, names, 'dpop.'))).toBe(
      "AuthModule option 'dpop.audiance': is not an option; did you mean 'dpop.audience'?",
    );
    expect(thrown(() => refuseUnknownKeys({ zzzzzzzz: 1 }, names, ''))).toBe(
      "AuthModule option 'zzzzzzzz': is not an option; the options here are audience, issuerUrl.",
    );
  });

  it('says where a key of another place belongs', () => {
    expect(
      thrown(() =>
        refuseUnknownKeys({ isGlobal: true }, names, '', { isGlobal: 'goes to forRoot' }),
      ),
    ).toBe("AuthModule option 'isGlobal': goes to forRoot.");
  });
});

describe('nearestName', () => {
  const names = ['issuerUrl', 'audience', 'clockTolerance'];

  it.each([
    ['issuer', 'issuerUrl'], // shortened
    ['clockToleranceSeconds', 'clockTolerance'], // lengthened
    ['AUDIENCE', 'audience'], // case
    ['audeince', 'audience'], // a transposition is one edit
    ['audiance', 'audience'],
  ])('%s -> %s', (key, nearest) => {
    expect(nearestName(key, names)).toBe(nearest);
  });

  it('names none when nothing is close, or there is nothing to name', () => {
    expect(nearestName('xyzxyzxyz', names)).toBeUndefined();
    expect(nearestName('ab', [])).toBeUndefined();
  });
});

describe('option values', () => {
  it('optionNumber: the fallback when unset; a finite number within the range, else refused', () => {
    expect(optionNumber(undefined, 'n', 7, 1, 10)).toBe(7);
    expect(optionNumber(10, 'n', 7, 1, 10)).toBe(10);
    for (const bad of [0, 11, Number.NaN, Infinity, '5']) {
      expect(thrown(() => optionNumber(bad, 'n', 7, 1, 10))).toBe(
        "AuthModule option 'n': must be a number from 1 to 10.",
      );
    }
  });

  it('optionFlag: the fallback when unset; a boolean, else refused', () => {
    expect(optionFlag(undefined, 'f', true)).toBe(true);
    expect(optionFlag(false, 'f', true)).toBe(false);
    expect(thrown(() => optionFlag('yes', 'f', true))).toBe(
      "AuthModule option 'f': must be true or false.",
    );
  });

  it('optionText: the fallback when unset; printable ASCII without quotes or backslashes', () => {
    expect(optionText(undefined, 't', 'api')).toBe('api');
    expect(optionText('my api', 't', 'api')).toBe('my api');
    for (const bad of ['a"b', 'a\\b', 'é', '', 42]) {
      expect(thrown(() => optionText(bad, 't', 'api'))).toMatch(/printable ASCII/);
    }
  });
});
