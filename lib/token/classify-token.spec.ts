import { InvalidTokenError } from '../errors/auth-error';
import { classifyToken } from './classify-token';

describe('classifyToken', () => {
  it.each([
    ['eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln', 'jwt'],
    ['a.b.c', 'jwt'],
    ['eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..aXY.Y3Q.dGFn', 'jwe'],
    ['eyJhbGciOiJSU0EtT0FFUCJ9.a2V5.aXY.Y3Q.dGFn', 'jwe'],
    ['8xLOxBtZp8', 'opaque'],
  ])('classifies %p as %s', (token, shape) => {
    expect(classifyToken(token)).toBe(shape);
  });

  it.each([
    'eyJabc',
    'a.b',
    'a.b.c.d',
    'a.b.c.d.e',
    '....',
    'eyJhbGciOiJkaXIifQ..aXY..dGFn',
    'a.b.c.d.e.f',
    'a.b.c.d.e.f.g',
  ])('refuses %p as a malformed JWT', (token) => {
    expect(() => classifyToken(token)).toThrow(InvalidTokenError);
    expect(() => classifyToken(token)).toThrow(
      expect.objectContaining({ code: 'invalid_token', reason: 'malformed_jwt' }),
    );
  });
});
