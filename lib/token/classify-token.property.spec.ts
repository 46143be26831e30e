import * as fc from 'fast-check';
import { InvalidTokenError } from '../errors/auth-error';
import { classifyToken, type TokenShape } from './classify-token';

/** Runs per property, stopped after 3 s (a success if nothing failed so far) to bound CI time. */
const bounded = (numRuns: number) => ({ numRuns, plugins: [fc.interruptAfterTimeLimit(3000)] });

/** Strings with few and many dots, JOSE-looking prefixes and empty segments. */
const tokenLike = fc
  .array(
    fc.oneof(
      fc.constantFrom('.', '..', 'eyJ', 'eyJhbGciOiJkaXIifQ', 'a', '-', '_', '='),
      fc.string({ maxLength: 6 }),
      fc.string({ unit: 'binary', maxLength: 4 }),
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''));

const anyToken = fc.oneof(
  tokenLike,
  fc.string({ maxLength: 100 }),
  fc.string({ unit: 'grapheme', maxLength: 100 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
);

/** The shape, or the malformed_jwt refusal; any other exception escapes to fast-check. */
function classify(token: string): TokenShape | InvalidTokenError {
  try {
    return classifyToken(token);
  } catch (error) {
    if (error instanceof InvalidTokenError) return error;
    throw error;
  }
}

const dotsIn = (token: string) => token.split('.').length - 1;

describe('classifyToken (properties)', () => {
  it("answers 'jwt' exactly for two dots, 'jwe' only for four, 'opaque' only for none", () => {
    const property = fc.property(anyToken, (token) => {
      const shape = classify(token);
      const dots = dotsIn(token);
      if (shape instanceof InvalidTokenError) {
        return shape.reason === 'malformed_jwt' && shape.status === 401 && dots !== 2;
      }
      switch (shape) {
        case 'jwt':
          return dots === 2;
        case 'jwe':
          return dots === 4;
        case 'opaque':
          return dots === 0;
        default:
          return false;
      }
    });
    expect(() => fc.assert(property, bounded(50_000))).not.toThrow();
  });
});
