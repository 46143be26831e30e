import { InvalidTokenError } from '../errors/auth-error';
import { parsePayload } from './decode-jwt';

/** JSON text of `{"deep": ...}` with arrays nested `depth` deep inside the payload object. */
const payloadNesting = (depth: number) => `{"deep":${'['.repeat(depth)}1${']'.repeat(depth)}}`;

describe('parsePayload', () => {
  it('parses a payload of at most 32 levels', () => {
    expect(parsePayload(payloadNesting(31))).toMatchObject({ deep: [expect.anything()] });
  });

  it.each([32, 20_000])(
    'refuses claims nested deeper than 32 levels (here %i + 1) with 401 claims_too_deep',
    (depth) => {
      const refusal = (() => {
        try {
          return parsePayload(payloadNesting(depth));
        } catch (error) {
          return error;
        }
      })();
      expect(refusal).toBeInstanceOf(InvalidTokenError);
      expect(refusal).toMatchObject({ status: 401, reason: 'claims_too_deep' });
    },
  );
});
