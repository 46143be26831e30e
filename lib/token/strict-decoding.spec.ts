import { isCanonicalBase64url, utf8Text } from './strict-decoding';

describe('isCanonicalBase64url', () => {
  it.each(['', 'AA', 'AAA', 'AAAA', 'Zm9v', 'Zm8', 'Zg', '_-8'])('accepts %j', (segment) => {
    expect(isCanonicalBase64url(segment)).toBe(true);
  });

  it.each([
    ['unused bits set (2 characters)', 'AB'],
    ['unused bits set (3 characters)', 'AAB'],
    ['a dangling character', 'AAAAA'],
    ['padding', 'Zg=='],
    ['base64 characters', 'a+/b'],
    ['spaces', 'Zm 9v'],
  ])('refuses %s', (_name, segment) => {
    expect(isCanonicalBase64url(segment)).toBe(false);
  });
});

describe('utf8Text', () => {
  it('decodes UTF-8, a byte-order mark kept as it is', () => {
    expect(utf8Text(Buffer.from('\uFEFFZoë 🙂'))).toBe('\uFEFFZoë 🙂');
  });

  it('refuses an overlong sequence', () => {
    expect(utf8Text(Buffer.from([0x22, 0xc0, 0xaf, 0x22]))).toBeUndefined();
  });
});
