import { copyJson } from './copy-json';

describe('copyJson', () => {
  it.each([null, undefined, 0, 'text', true])('returns %p as it is', (value) => {
    expect(copyJson(value)).toBe(value);
  });

  it('copies objects and arrays at every depth, equal but not shared', () => {
    const value = { sub: 'a', scopes: ['x', 'y'], nested: { list: [{ deep: [1, null] }] } };
    const copy = copyJson(value);
    expect(copy).toStrictEqual(value);
    expect(copy).not.toBe(value);
    expect(copy.scopes).not.toBe(value.scopes);
    expect(copy.nested.list[0]).not.toBe(value.nested.list[0]);
    expect(copy.nested.list[0].deep).not.toBe(value.nested.list[0].deep);
  });

  it('leaves the source untouched when the copy is changed', () => {
    const value = { scopes: ['x'], claims: { roles: ['user'] } };
    const copy = copyJson(value);
    copy.scopes.push('admin');
    copy.claims.roles[0] = 'admin';
    expect(value).toStrictEqual({ scopes: ['x'], claims: { roles: ['user'] } });
  });

  it('copies a frozen value into one that can be changed', () => {
    const value = Object.freeze({ list: Object.freeze(['a']) });
    const copy = copyJson(value);
    expect(Object.isFrozen(copy) || Object.isFrozen(copy.list)).toBe(false);
  });

  it.each([
    ['near the top', 0],
    ['deep down, where the copy goes on without recursion', 100],
  ])('keeps an own __proto__ member a plain member, never a prototype (%s)', (_, depth) => {
    const json = '{"__proto__": {"admin": true}, "sub": "a"}';
    const wrapped = JSON.parse('{"x":'.repeat(depth) + json + '}'.repeat(depth)) as object;
    let copy = copyJson(wrapped) as Record<string, unknown>;
    for (let i = 0; i < depth; i++) copy = copy.x as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect((copy as { admin?: unknown }).admin).toBeUndefined();
    expect(Object.keys(copy)).toStrictEqual(['__proto__', 'sub']);
    expect(Object.getOwnPropertyDescriptor(copy, '__proto__')?.value).toStrictEqual({
      admin: true,
    });
  });

  it.each([
    ['arrays', '[', ']', (v: unknown) => (v as unknown[])[0]],
    [
      'objects',
      '{"a":[{"b":',
      '}]}',
      (v: unknown) => ((v as { a: unknown[] }).a[0] as { b: unknown }).b,
    ],
  ])('copies %s nested far deeper than the stack allows for recursion', (_, open, close, step) => {
    const depth = 50_000;
    const value = JSON.parse(open.repeat(depth) + '1' + close.repeat(depth)) as unknown;
    let [copy, source] = [copyJson(value), value];
    let shared = 0;
    for (let i = 0; i < depth; i++) {
      if (copy === source) shared++;
      [copy, source] = [step(copy), step(source)];
    }
    expect([shared, copy]).toStrictEqual([0, 1]);
  });
});
