// Node's Buffer and jose decode base64url leniently (non-zero unused bits, a dangling character)
// and Buffer.toString('utf8') replaces invalid UTF-8: RFC 4648 §3.5 and RFC 7519 §7.2 need these.

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Whether `segment` is canonical unpadded base64url (RFC 4648 §3.5, §5): its alphabet only, not
 * 4n+1 characters long, and the unused low bits of its last character zero (`AA`, never `AB`).
 * The empty string is canonical.
 */
export function isCanonicalBase64url(segment: string): boolean {
  if (!BASE64URL.test(segment)) return false;
  const tail = segment.length % 4;
  if (tail === 0) return true;
  if (tail === 1) return false;
  const last = ALPHABET.indexOf(segment[segment.length - 1]);
  return (last & (tail === 2 ? 0x0f : 0x03)) === 0;
}

/** Why a non-canonical segment is refused, for the refusal's description. */
export const NON_CANONICAL =
  'is not canonical base64url (RFC 4648 §3.5: a length of 4n+1 characters, or unused bits of ' +
  'its last character that are not zero)';

/** The first of a compact JWS's three segments that is not canonical base64url, by name. */
export function nonCanonicalSegment(
  header: string,
  payload: string,
  signature: string,
): 'header' | 'payload' | 'signature' | undefined {
  if (!isCanonicalBase64url(header)) return 'header';
  if (!isCanonicalBase64url(payload)) return 'payload';
  return isCanonicalBase64url(signature) ? undefined : 'signature';
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of UTF-8 `bytes`, or undefined when they are not valid UTF-8 (RFC 3629). */
export function utf8Text(bytes: Uint8Array): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}
