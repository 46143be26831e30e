import { InvalidTokenError } from '../errors/auth-error';
import { claimsTooDeep, MAX_JSON_DEPTH, nestingDepth } from './json-depth';
import { NON_CANONICAL, nonCanonicalSegment, utf8Text } from './strict-decoding';

/** A compact JWS split and decoded, nothing verified yet. */
export interface DecodedJwt {
  header: Record<string, unknown>;
  /** The payload as JSON text; parsed only after the signature verified. */
  payloadText: string;
  /** `header.payload`, the bytes the signature covers. */
  signingInput: Buffer;
  signature: Buffer;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Splits a three-segment token and decodes its parts, strictly: each segment canonical base64url
 * without padding (RFC 4648 §3.5), the header a JSON object. Throws `malformed_jwt` otherwise, and
 * `invalid_encoding` when the header or the payload is not UTF-8 (RFC 7519 §7.2).
 */
export function decodeJwt(token: string): DecodedJwt {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  const header = token.slice(0, first);
  const payload = token.slice(first + 1, second);
  const signature = token.slice(second + 1);
  if (
    first === -1 ||
    second === -1 ||
    token.indexOf('.', second + 1) !== -1 ||
    !BASE64URL.test(header) ||
    !BASE64URL.test(payload) ||
    !BASE64URL.test(signature)
  ) {
    throw malformed('its segments are not base64url');
  }
  if (header === '') throw malformed('its header is empty');
  if (payload === '') throw malformed('its payload is empty (a JWT carries its claims in it)');
  const nonCanonical = nonCanonicalSegment(header, payload, signature);
  if (nonCanonical) throw malformed(`its ${nonCanonical} segment ${NON_CANONICAL}`);
  const headerText = utf8(header, 'header');
  const payloadText = utf8(payload, 'payload');
  let parsed: unknown;
  try {
    parsed = JSON.parse(headerText);
  } catch {
    throw malformed('its header is not base64url-encoded JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw malformed('its header is not a JSON object');
  }
  return {
    header: parsed as Record<string, unknown>,
    payloadText,
    signingInput: Buffer.from(token.slice(0, second), 'ascii'),
    signature: Buffer.from(signature, 'base64url'),
  };
}

/**
 * Parses the payload of a token whose signature verified (or, among several issuers, to pick the
 * issuer): refuses claims nested deeper than {@link MAX_JSON_DEPTH}, before anything walks them.
 */
export function parsePayload(payloadText: string): unknown {
  let payload: unknown;
  try {
    payload = JSON.parse(payloadText);
  } catch {
    throw malformed('its payload is not JSON');
  }
  if (nestingDepth(payload, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) throw claimsTooDeep();
  return payload;
}

/** The text of a segment, refused with `invalid_encoding` when it is not UTF-8. */
function utf8(segment: string, name: 'header' | 'payload'): string {
  const text = utf8Text(Buffer.from(segment, 'base64url'));
  if (text === undefined) {
    throw new InvalidTokenError(
      'invalid_encoding',
      `The access token's ${name} is not valid UTF-8 (RFC 7519 §7.2): it was not made by a ` +
        'conforming issuer, and is refused.',
    );
  }
  return text;
}

function malformed(why: string): InvalidTokenError {
  return new InvalidTokenError('malformed_jwt', `The access token is malformed: ${why}.`);
}
