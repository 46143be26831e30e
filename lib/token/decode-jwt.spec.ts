import { InvalidTokenError } from '../errors/auth-error';
import { withUnusedBits } from '../../test/support/key-server';
import { decodeJwt, parsePayload } from './decode-jwt';

const b64url = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64url');
// 25 and 22 bytes: their last characters carry unused bits.
const HEADER = b64url(JSON.stringify({ alg: 'RS256', kid: 'k1' }));
const PAYLOAD = b64url(JSON.stringify({ sub: 'auth0|user-1' }));
const SIGNATURE = b64url(Buffer.alloc(32, 7));

/** The refusal decodeJwt throws, or a failure when it decodes the token. */
function refusal(token: string): InvalidTokenError {
  try {
    decodeJwt(token);
  } catch (error) {
    if (error instanceof InvalidTokenError) return error;
    throw error;
  }
  throw new Error('expected a refusal, but the token was decoded');
}

describe('decodeJwt', () => {
  it('decodes a well-formed token', () => {
    const jwt = decodeJwt(`${HEADER}.${PAYLOAD}.${SIGNATURE}`);
    expect(jwt.header).toEqual({ alg: 'RS256', kid: 'k1' });
    expect(jwt.payloadText).toBe('{"sub":"auth0|user-1"}');
  });

  describe('strict base64url (RFC 4648 §3.5)', () => {
    // Wycheproof's MacOfIncorrectlyEncodedMessage: "AB" decodes as "AA" does.
    it('refuses a payload whose last character carries non-zero unused bits ("AB")', () => {
      const error = refusal(`${HEADER}.AB.${SIGNATURE}`);
      expect(error.reason).toBe('malformed_jwt');
      expect(error.message).toMatch(/payload segment is not canonical base64url/);
    });

    it.each([
      ['header', (s: string) => `${withUnusedBits(HEADER)}.${PAYLOAD}.${s}`],
      ['payload', (s: string) => `${HEADER}.${withUnusedBits(PAYLOAD)}.${s}`],
      ['signature', (s: string) => `${HEADER}.${PAYLOAD}.${withUnusedBits(s)}`],
    ])('refuses a non-canonical %s segment', (segment, token) => {
      const signature = b64url(Buffer.alloc(31, 7));
      const error = refusal(token(signature));
      expect(error.reason).toBe('malformed_jwt');
      expect(error.message).toContain(`${segment} segment is not canonical base64url`);
    });

    it('refuses a segment of 4n+1 characters, which encodes no whole byte at its end', () => {
      const error = refusal(`${HEADER}.${PAYLOAD}.${b64url(Buffer.alloc(30, 7))}A`);
      expect(error.reason).toBe('malformed_jwt');
      expect(error.message).toContain('signature segment is not canonical base64url');
    });

    it('accepts every canonical ending', () => {
      for (let length = 0; length < 6; length++) {
        const signature = b64url(Buffer.alloc(length, 0xff));
        expect(decodeJwt(`${HEADER}.${PAYLOAD}.${signature}`).signature.length).toBe(length);
      }
    });
  });

  it('says that the payload is empty when it is (an empty segment is valid base64url)', () => {
    const error = refusal(`${HEADER}..${SIGNATURE}`);
    expect(error.reason).toBe('malformed_jwt');
    expect(error.message).toMatch(/its payload is empty/);
    expect(error.message).not.toMatch(/not base64url/);
  });

  it('says that the header is empty when it is', () => {
    expect(refusal(`.${PAYLOAD}.${SIGNATURE}`).message).toMatch(/its header is empty/);
  });

  describe('invalid UTF-8 (RFC 7519 §7.2)', () => {
    const overlong = Buffer.from([0xc0, 0xaf]); // an overlong "/"

    it('refuses claims holding an overlong sequence with invalid_encoding', () => {
      const claims = Buffer.concat([Buffer.from('{"sub":"a'), overlong, Buffer.from('"}')]);
      const error = refusal(`${HEADER}.${b64url(claims)}.${SIGNATURE}`);
      expect(error).toMatchObject({ code: 'invalid_token', reason: 'invalid_encoding' });
      expect(error.message).toMatch(/payload is not valid UTF-8/);
    });

    it.each([
      ['an overlong sequence', overlong],
      ['a lone continuation byte', Buffer.from([0x80])],
      ['a truncated sequence', Buffer.from([0xe2, 0x82])],
      ['an encoded surrogate', Buffer.from([0xed, 0xa0, 0x80])],
    ])('refuses a header holding %s with invalid_encoding', (_name, bytes) => {
      const header = Buffer.concat([Buffer.from('{"alg":"RS256","x":"'), bytes, Buffer.from('"}')]);
      const error = refusal(`${b64url(header)}.${PAYLOAD}.${SIGNATURE}`);
      expect(error).toMatchObject({ code: 'invalid_token', reason: 'invalid_encoding' });
      expect(error.message).toMatch(/header is not valid UTF-8/);
    });

    it('accepts multi-byte UTF-8', () => {
      const payload = b64url(JSON.stringify({ sub: 'Zoë 🙂' }));
      expect(decodeJwt(`${HEADER}.${payload}.${SIGNATURE}`).payloadText).toBe('{"sub":"Zoë 🙂"}');
    });
  });
});
/** JSON text of `{"deep": ...}` with arrays nested `depth` deep inside the payload object. */
const payloadNesting = (depth: number) => `{"deep":${'['.repeat(depth)}1${']'.repeat(depth)}}`;

describe('parsePayload', () => {
  it('parses a payload of at most 32 levels', () => {
    expect(parsePayload(payloadNesting(31))).toMatchObject({ deep: [expect.anything()] });
  });

  it.each([32, 20_000])(
    'refuses claims nested deeper than 32 levels (here %i + 1) with 401 claims_too_deep',
    (depth) => {
      const answer = (() => {
        try {
          return parsePayload(payloadNesting(depth));
        } catch (error) {
          return error;
        }
      })();
      expect(answer).toBeInstanceOf(InvalidTokenError);
      expect(answer).toMatchObject({ status: 401, reason: 'claims_too_deep' });
    },
  );
});
