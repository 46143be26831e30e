import { inspect } from 'node:util';
import { attachedResponse, attachedScheme, attachedToken, attachToken } from './attached-token';

describe('attachToken / attachedToken', () => {
  it('returns undefined for a request without a token', () => {
    expect(attachedToken({})).toBeUndefined();
  });

  it('returns the token attached to the request', () => {
    const request = {};
    attachToken(request, 'token-a');
    expect(attachedToken(request)).toBe('token-a');
  });

  it('keeps the last token attached', () => {
    const request = {};
    attachToken(request, 'token-a');
    attachToken(request, 'token-b');
    expect(attachedToken(request)).toBe('token-b');
  });

  it('keeps each request its own token', () => {
    const first = {};
    const second = {};
    attachToken(first, 'token-a');
    attachToken(second, 'token-b');
    expect([attachedToken(first), attachedToken(second)]).toStrictEqual(['token-a', 'token-b']);
  });

  it('keeps the scheme the token came with, when told it', () => {
    const request = {};
    attachToken(request, 'token-a');
    expect(attachedScheme(request)).toBeUndefined();
    attachToken(request, 'token-a', undefined, 'DPoP');
    expect(attachedScheme(request)).toBe('DPoP');
  });

  it('keeps the token out of JSON and string keys', () => {
    const request = { method: 'GET' };
    attachToken(request, 'secret-token');
    expect(JSON.stringify(request)).toBe('{"method":"GET"}');
    expect(Object.keys(request)).toStrictEqual(['method']);
    expect(Object.getOwnPropertyNames(request)).toStrictEqual(['method']);
  });

  it('adds one hidden key whose value shows no token, not even to a full inspection', () => {
    const request = { method: 'GET' };
    attachToken(request, 'secret-token', undefined, 'DPoP');
    const keys = Object.getOwnPropertySymbols(request);
    expect(keys).toHaveLength(1);
    // Not a registered symbol (Symbol.for): no other code can name it.
    expect(Symbol.keyFor(keys[0])).toBeUndefined();
    expect({ ...request }).toStrictEqual({ method: 'GET' });
    expect(inspect(request)).toBe("{ method: 'GET' }");
    expect(inspect(request, { showHidden: true, depth: 5 })).not.toContain('secret-token');
  });

  it('keeps the token of a request that takes no new property (frozen, sealed)', () => {
    const frozen = Object.freeze({ method: 'GET' });
    const sealed = Object.seal({ method: 'GET' });
    attachToken(frozen, 'token-a', undefined, 'DPoP');
    attachToken(sealed, 'token-b');
    expect([attachedToken(frozen), attachedScheme(frozen)]).toStrictEqual(['token-a', 'DPoP']);
    expect([attachedToken(sealed), attachedScheme(sealed)]).toStrictEqual(['token-b', undefined]);
    expect(Reflect.ownKeys(frozen)).toStrictEqual(['method']);
  });

  it("takes nothing planted under its key: a look-alike, a bare instance, another request's record", () => {
    const request = { method: 'GET' };
    attachToken(request, 'token-a', undefined, 'DPoP');
    const [key] = Object.getOwnPropertySymbols(request);
    const record: unknown = (request as Record<symbol, unknown>)[key];
    // Code that finds the symbol reads nothing through it.
    expect((record as { token?: unknown }).token).toBeUndefined();
    expect(inspect(record, { showHidden: true })).not.toContain('token-a');
    const lookAlike = { [key]: { token: 'forged', scheme: 'DPoP' } };
    const bare = { [key]: Object.create(Object.getPrototypeOf(record) as object) as unknown };
    const copied = { [key]: record };
    for (const planted of [lookAlike, bare, copied]) {
      expect([attachedToken(planted), attachedScheme(planted)]).toStrictEqual([
        undefined,
        undefined,
      ]);
    }
  });

  it('does not hand an object the record of its prototype', () => {
    const prototype = { method: 'GET' };
    attachToken(prototype, 'token-of-the-prototype');
    const request = Object.create(prototype) as object;
    expect(attachedToken(request)).toBeUndefined();
    attachToken(request, 'token-a');
    expect([attachedToken(request), attachedToken(prototype)]).toStrictEqual([
      'token-a',
      'token-of-the-prototype',
    ]);
  });

  it('keeps a Proxy and its target apart, and a Proxy that refuses the property in the fallback', () => {
    const target = { method: 'GET' };
    const proxy = new Proxy(target, {});
    attachToken(proxy, 'token-a');
    expect([attachedToken(proxy), attachedToken(target)]).toStrictEqual(['token-a', undefined]);
    const refusing = new Proxy({ method: 'GET' }, { defineProperty: () => false });
    expect(() => attachToken(refusing, 'token-b', undefined, 'DPoP')).not.toThrow();
    expect([attachedToken(refusing), attachedScheme(refusing)]).toStrictEqual(['token-b', 'DPoP']);
  });

  it.each([
    ['a string key of the same name', 'nest-oauth2-bearer:attached'],
    ['a registered symbol of the same name', Symbol.for('nest-oauth2-bearer:attached')],
  ])('is not fooled by %s set on the request', (_, key) => {
    const request = { [key]: 'forged-token' };
    expect(attachedToken(request)).toBeUndefined();
  });

  it('keeps the response the request is answered on, when given one', () => {
    const [request, response] = [{}, {}];
    expect(attachedResponse(request)).toBeUndefined();
    attachToken(request, 'token-a');
    expect(attachedResponse(request)).toBeUndefined();
    attachToken(request, 'token-a', response);
    expect(attachedResponse(request)).toBe(response);
  });
});
