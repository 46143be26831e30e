import { InvalidTokenError } from '../errors/auth-error';

/** What a bearer token looks like before anything is verified. */
export type TokenShape = 'jwt' | 'jwe' | 'opaque';

/**
 * Tells a JWS-compact JWT (three segments) from an encrypted JWE (five segments, as Auth0's
 * opaque tokens are) and from a reference token with no dots. Anything else is malformed.
 */
export function classifyToken(token: string): TokenShape {
  const dots = countDots(token);
  if (dots === 2) return 'jwt';
  if (dots === 4 && isCompactJwe(token)) return 'jwe';
  if (dots === 0 && !token.startsWith('eyJ')) return 'opaque';
  throw new InvalidTokenError(
    'malformed_jwt',
    'The access token is malformed: a JWT has three dot-separated segments (a JWE five).',
  );
}

/**
 * RFC 7516 §7.1: header.encryptedKey.iv.ciphertext.tag, the header being encoded JSON; the
 * encrypted key is empty with `alg: dir` (Auth0), the other parts are not.
 */
function isCompactJwe(token: string): boolean {
  const [header, , iv, ciphertext, tag] = token.split('.');
  return header.startsWith('eyJ') && iv !== '' && ciphertext !== '' && tag !== '';
}

function countDots(token: string): number {
  let dots = 0;
  for (let i = token.indexOf('.'); i !== -1 && dots < 5; i = token.indexOf('.', i + 1)) dots++;
  return dots;
}
