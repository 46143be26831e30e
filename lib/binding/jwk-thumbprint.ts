// Hand-written: jose 6, which computed it, is ESM-only and Jest's CommonJS runtime cannot load it
// (a NestJS 11 app's own tests failed at import, issue 22); RFC 7638 §3 is these few lines.
import { hash } from 'node:crypto';

/** RFC 7638 §3.2: the required members of each key type, in lexicographic order. */
const REQUIRED_MEMBERS: ReadonlyMap<unknown, readonly string[]> = new Map([
  ['EC', ['crv', 'kty', 'x', 'y']],
  ['OKP', ['crv', 'kty', 'x']],
  ['RSA', ['e', 'kty', 'n']],
]);

/**
 * The required members of a public EC, OKP or RSA key (RFC 7638 §3.2), in lexicographic order:
 * the key itself, without `kid`, `alg`, `use` or anything else. Undefined when the key type is
 * another, or a required member is not a string.
 */
export function requiredMembers(
  jwk: Readonly<Record<string, unknown>>,
): Record<string, string> | undefined {
  const names = REQUIRED_MEMBERS.get(jwk.kty);
  if (!names || names.some((name) => typeof jwk[name] !== 'string')) return undefined;
  return Object.fromEntries(names.map((name) => [name, jwk[name] as string]));
}

/**
 * The SHA-256 JWK thumbprint (RFC 7638) of a public key, base64url: the hash of the JSON of its
 * {@link requiredMembers}, in lexicographic order and without whitespace. Undefined when it has
 * none.
 */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string | undefined {
  const input = thumbprintInput(jwk);
  return input && hash('sha256', input, 'base64url');
}

/**
 * What the thumbprint hashes (RFC 7638 §3): the JSON of the key's {@link requiredMembers}, in
 * lexicographic order and without whitespace, which names the key exactly. Undefined when it has
 * none.
 */
export function thumbprintInput(jwk: Readonly<Record<string, unknown>>): string | undefined {
  const members = requiredMembers(jwk);
  return members && JSON.stringify(members);
}
