import { tokenHash } from './token-hash';

describe('tokenHash', () => {
  it('is the first 12 hex characters of SHA-256', () => {
    // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
    expect(tokenHash('abc')).toBe('ba7816bf8f01');
  });

  it.each(['', 'x', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln', 'a'.repeat(10_000)])(
    'is 12 lowercase hex characters for %p',
    (token) => {
      expect(tokenHash(token)).toMatch(/^[0-9a-f]{12}$/);
    },
  );

  it('is stable and tells tokens apart', () => {
    expect(tokenHash('a.b.c')).toBe(tokenHash('a.b.c'));
    expect(tokenHash('a.b.c')).not.toBe(tokenHash('a.b.d'));
  });
});
