import { describeValue } from './describe-value';

describe('describeValue', () => {
  it.each([
    ['RS256', 'RS256'],
    [42, '42'],
    [null, 'null'],
    [undefined, 'undefined'],
    [['exp'], "['exp']"],
    [{ a: 1 }, "{'a':1}"],
    ['say "hi" \\ there', "say 'hi' ' there"],
    ['a\nb\u00e9\u0000', 'a?b??'],
  ])('renders %p as %p', (value, text) => {
    expect(describeValue(value)).toBe(text);
  });

  it('truncates to 80 characters by default', () => {
    expect(describeValue('x'.repeat(100))).toBe(`${'x'.repeat(80)}...`);
  });

  it.each([
    ['abcdef', 3, 'abc...'],
    ['abc', 3, 'abc'],
  ])('renders %p with max %i as %p', (value, max, text) => {
    expect(describeValue(value, max)).toBe(text);
  });
});

describe('describeValue on values JSON cannot render', () => {
  it('never throws', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(describeValue(1n)).toBe('bigint');
    expect(describeValue(circular)).toBe('object');
  });
});
