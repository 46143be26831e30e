import { formatNumericDate } from './format-time';

describe('formatNumericDate', () => {
  it.each([
    [0, '1970-01-01T00:00:00.000Z'],
    [1_700_000_000, '2023-11-14T22:13:20.000Z'],
    [1.5, '1970-01-01T00:00:01.500Z'],
    [-1, '1969-12-31T23:59:59.000Z'],
    [8.64e12, '+275760-09-13T00:00:00.000Z'],
    [-8.64e12, '-271821-04-20T00:00:00.000Z'],
  ])('renders %p as ISO 8601', (seconds, expected) => {
    expect(formatNumericDate(seconds)).toBe(expected);
  });

  it.each([
    [8.64e12 + 1, '8640000000001 (seconds since 1970)'],
    [1e308, '1e+308 (seconds since 1970)'],
    [-1e308, '-1e+308 (seconds since 1970)'],
    [Number.MAX_VALUE, '1.7976931348623157e+308 (seconds since 1970)'],
    [Infinity, 'Infinity (seconds since 1970)'],
    [NaN, 'NaN (seconds since 1970)'],
  ])('renders out-of-range %p as the number, without throwing', (seconds, expected) => {
    expect(formatNumericDate(seconds)).toBe(expected);
  });
});
