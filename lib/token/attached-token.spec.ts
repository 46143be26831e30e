import { inspect } from 'node:util';
import { attachedResponse, attachedToken, attachToken } from './attached-token';

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

  it('keeps the token out of JSON and string keys', () => {
    const request = { method: 'GET' };
    attachToken(request, 'secret-token');
    expect(JSON.stringify(request)).toBe('{"method":"GET"}');
    expect(Object.keys(request)).toStrictEqual(['method']);
    expect(Object.getOwnPropertyNames(request)).toStrictEqual(['method']);
  });

  it('leaves the request untouched, so that not even a full inspection shows the token', () => {
    const request = { method: 'GET' };
    attachToken(request, 'secret-token');
    expect(Reflect.ownKeys(request)).toStrictEqual(['method']);
    expect(inspect(request, { showHidden: true, depth: 5 })).not.toContain('secret-token');
  });

  it.each([
    ['a string key of the same name', 'nest-oauth2-bearer:token'],
    ['a registered symbol of the same name', Symbol.for('nest-oauth2-bearer:token')],
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
