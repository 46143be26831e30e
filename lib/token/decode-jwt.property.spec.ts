import { isUtf8 } from 'node:buffer';
import * as fc from 'fast-check';
import { InvalidTokenError } from '../errors/auth-error';
import { decodeJwt, parsePayload, type DecodedJwt } from './decode-jwt';

/** Runs per property, stopped after 3 s (a success if nothing failed so far) to bound CI time. */
const bounded = (numRuns: number) => ({ numRuns, plugins: [fc.interruptAfterTimeLimit(3000)] });

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const b64url = (text: string) => Buffer.from(text).toString('base64url');

/** JSON objects, as headers are. */
const jsonObject = fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), {
  maxKeys: 4,
});

/** One segment: base64url of JSON or of anything, base64 with padding, or arbitrary text. */
const segment = fc.oneof(
  jsonObject.map((value) => b64url(JSON.stringify(value))),
  fc.jsonValue({ maxDepth: 1 }).map((value) => b64url(JSON.stringify(value))),
  fc.string({ unit: 'binary', maxLength: 20 }).map(b64url),
  fc.string({ unit: 'binary', maxLength: 20 }).map((text) => Buffer.from(text).toString('base64')),
  fc.stringMatching(/^[A-Za-z0-9_-]{0,12}$/),
  fc.constantFrom('', 'eyJ', 'e30', 'bnVsbA', 'W10', 'eyJhbGciOiJSUzI1NiJ9', '=', '+/'),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
);

/** The decoded token, or the malformed_jwt refusal; any other exception escapes. */
function decode(token: string): DecodedJwt | InvalidTokenError {
  try {
    return decodeJwt(token);
  } catch (error) {
    if (error instanceof InvalidTokenError) return error;
    throw error;
  }
}

/** Canonical base64url, told by a round trip: decoding then encoding gives the segment back. */
const canonical = (part: string) =>
  BASE64URL.test(part) && Buffer.from(part, 'base64url').toString('base64url') === part;

/** Whether the header and payload of a token of canonical segments are UTF-8. */
function utf8(token: string): boolean {
  const [header, payload] = token.split('.');
  return [header, payload].every((part) => isUtf8(Buffer.from(part, 'base64url')));
}

/** What decodeJwt must check, written out independently of it. */
function wellFormed(token: string): boolean {
  const parts = token.split('.');
  if (parts.length !== 3) return false;
  const [header, payload] = parts;
  if (header === '' || payload === '' || !parts.every(canonical) || !utf8(token)) return false;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
}

describe('decodeJwt (properties)', () => {
  it('decodes exactly the well-formed three-segment tokens, and refuses the rest with a 401', () => {
    const token = fc
      .tuple(segment, segment, segment, fc.constantFrom('', '', '', '.', '..', '.x'))
      .map(([header, payload, signature, extra]) => `${header}.${payload}.${signature}${extra}`);
    const property = fc.property(token, (jwt) => {
      const result = decode(jwt);
      if (result instanceof InvalidTokenError) {
        const parts = jwt.split('.');
        const encodingOnly =
          parts.length === 3 && parts[0] !== '' && parts[1] !== '' && parts.every(canonical);
        const expected = encodingOnly && !utf8(jwt) ? 'invalid_encoding' : 'malformed_jwt';
        return result.reason === expected && !wellFormed(jwt);
      }
      const [header, payload, signature] = jwt.split('.');
      return (
        wellFormed(jwt) &&
        result.signingInput.equals(Buffer.from(`${header}.${payload}`)) &&
        result.signature.equals(Buffer.from(signature, 'base64url'))
      );
    });
    expect(() => fc.assert(property, bounded(10_000))).not.toThrow();
  });

  it('gives back the header, payload and signature a token was encoded from', () => {
    const property = fc.property(
      jsonObject,
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
      fc.uint8Array({ maxLength: 64 }),
      (header, payloadText, signature) => {
        const jwt = `${b64url(JSON.stringify(header))}.${b64url(payloadText)}.${Buffer.from(signature).toString('base64url')}`;
        const result = decode(jwt);
        return (
          !(result instanceof InvalidTokenError) &&
          JSON.stringify(result.header) === JSON.stringify(header) &&
          result.payloadText === payloadText &&
          result.signature.equals(signature)
        );
      },
    );
    expect(() => fc.assert(property, bounded(10_000))).not.toThrow();
  });

  it('parses any payload text to a JSON value or refuses it with a 401', () => {
    const payloadText = fc.oneof(
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc.constantFrom('', '{', '{"exp":1e999}', '[1,', '\u0000', '{"a":1,"a":2}'),
    );
    const property = fc.property(payloadText, (text) => {
      try {
        return JSON.stringify(parsePayload(text)) === JSON.stringify(JSON.parse(text));
      } catch (error) {
        return error instanceof InvalidTokenError && error.reason === 'malformed_jwt';
      }
    });
    expect(() => fc.assert(property, bounded(10_000))).not.toThrow();
  });
});
