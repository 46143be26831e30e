// Hand-written: jose 6 is ESM-only and Jest's CommonJS runtime cannot load it (a NestJS 11 app's
// own tests failed at import, issue 22), so node:crypto imports the proof's JWK and verifies as for
// access tokens (and faster: a whole proof check, thumbprint, import and verify, took 215 µs against
// jose's 573 for ES256 and 45 against 178 for RS256, medians of 2000 proofs, Node 20); WHATWG URL
// normalises htu's scheme, host, port and dot segments, no package its path's percent-encoding.
import { hash, type KeyObject } from 'node:crypto';
import { InvalidDpopProofError } from '../errors/auth-error';
import { describeValue } from '../token/describe-value';
import { NON_CANONICAL, nonCanonicalSegment, utf8Text } from '../token/strict-decoding';
import { verifySignature } from '../token/verify-signature';
import type { DpopAlgorithm } from './dpop-options';
import { thumbprintInput } from './jwk-thumbprint';
import type { ProofKeys } from './proof-keys';

/** What a proof must match: the request it came with and the token it goes with. */
export interface ProofExpectations {
  /** The request's method, as sent (`GET`, `POST`, ...). */
  method: string;
  /**
   * The URLs the client may have addressed, without query and fragment: `htu` must be one of them
   * (usually one; several when the request's own Host header is not trusted).
   */
  urls: readonly string[];
  /** Said after an `htu` mismatch, for the operator (how to make this API know its URL). */
  htuAdvice?: string;
  /** The access token the proof is presented with (`ath` is its SHA-256). */
  accessToken: string;
  /** Accepted `alg` values, compared case-sensitively. */
  algorithms: readonly string[];
  nowSeconds: number;
  /** How far `iat` may be from now, either way, before the leeway. */
  iatWindowSeconds: number;
  leewaySeconds: number;
}

/**
 * A proof that passed every check that costs no signature verification (syntax, key policy,
 * claims): its signature is verified later, by {@link verifyProofSignature}, and only once the
 * token is verified and bound to this very key, so that only holders of a valid bound token can
 * make the API verify a proof signature.
 */
export interface ParsedProof {
  /** The SHA-256 JWK thumbprint of the proof's key (RFC 7638), what `cnf.jkt` must equal. */
  jkt: string;
  /** What `jkt` hashes (RFC 7638 §3): the JSON of the key's required members, the key itself. */
  readonly keyInput: string;
  jti: string;
  iat: number;
  nonce?: string;
  /** The proof itself and its algorithm: with `keyInput`, what the signature check needs. */
  readonly compact: string;
  readonly alg: DpopAlgorithm;
}

/** A proof's public key (RFC 7517) as sent, of a key type {@link parseDpopProof} accepts. */
export type ProofJwk = Readonly<Record<string, unknown>> & { readonly kty: 'EC' | 'OKP' | 'RSA' };

/** Longest proof accepted: an RSA-4096 key and its signature fit well within. */
export const MAX_PROOF_LENGTH = 8192;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;
/** Private key members of RFC 7518 §6: a proof's `jwk` must have none (RFC 9449 §4.3). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const MAX_JTI_LENGTH = 256;
/** RSA proof keys: the exponent 65537 only, a modulus of 2048 to 4096 bits (bounded CPU cost). */
const RSA_EXPONENT = 'AQAB';
const RSA_MIN_BITS = 2048;
const RSA_MAX_BITS = 4096;
/** The key type, and the curves, each proof algorithm accepts. */
const KEY_OF_ALG: Readonly<Record<DpopAlgorithm, { kty: string; curves?: readonly string[] }>> = {
  ES256: { kty: 'EC', curves: ['P-256'] },
  ES384: { kty: 'EC', curves: ['P-384'] },
  ES512: { kty: 'EC', curves: ['P-521'] },
  EdDSA: { kty: 'OKP', curves: ['Ed25519', 'Ed448'] },
  Ed25519: { kty: 'OKP', curves: ['Ed25519'] },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
};

/**
 * Checks one DPoP proof (RFC 9449 §4.3, steps 2 to 11) except its signature, replay and nonce: a
 * compact JWS of type `dpop+jwt`, an allowed asymmetric `alg`, a public `jwk` that fits it (RSA
 * only with e = 65537 and 2048 to 4096 bits, EC only on the curve of its `alg`), and `htm`,
 * `htu`, `iat`, `jti` and `ath` matching the request and the token. Each failure is an
 * {@link InvalidDpopProofError} naming what is wrong; the proof itself is never quoted.
 */
export async function parseDpopProof(
  proof: string,
  expected: ProofExpectations,
): Promise<ParsedProof> {
  if (proof.length > MAX_PROOF_LENGTH) {
    throw refused(
      'dpop_proof_malformed',
      `The DPoP proof is ${proof.length} characters long; at most ${MAX_PROOF_LENGTH} are accepted.`,
    );
  }
  if (!COMPACT_JWS.test(proof)) {
    throw refused(
      'dpop_proof_malformed',
      'The DPoP header must hold exactly one JWT in compact form (header.payload.signature, base64url).',
    );
  }
  const [headerPart, payloadPart, signaturePart] = proof.split('.');
  const nonCanonical = nonCanonicalSegment(headerPart, payloadPart, signaturePart);
  if (nonCanonical) {
    throw refused(
      'dpop_proof_malformed',
      `The DPoP proof's ${nonCanonical} segment ${NON_CANONICAL}.`,
    );
  }
  const header = jsonObject(headerPart, 'header');
  if (header.typ !== 'dpop+jwt') {
    throw refused(
      'dpop_proof_typ',
      `The DPoP proof's typ is "${describeValue(header.typ ?? 'missing')}"; it must be "dpop+jwt".`,
    );
  }
  if (header.b64 !== undefined || header.crit !== undefined) {
    throw refused(
      'dpop_proof_malformed',
      "The DPoP proof's header has b64 or crit; a proof is a plain JWS without extensions.",
    );
  }
  const alg = header.alg;
  if (typeof alg !== 'string' || !expected.algorithms.includes(alg)) {
    throw refused(
      'dpop_proof_alg',
      `The DPoP proof's alg "${describeValue(alg ?? 'missing')}" is not accepted; sign proofs with ` +
        `one of ${expected.algorithms.join(', ')} (an asymmetric algorithm, never none or HMAC).`,
    );
  }
  const jwk = header.jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw refused(
      'dpop_proof_jwk',
      "The DPoP proof's header has no jwk: the public key must be in it.",
    );
  }
  checkProofKey(jwk as Record<string, unknown>, alg);
  const claims = jsonObject(payloadPart, 'payload');
  checkClaims(claims, expected);
  const keyInput = thumbprintInput(jwk as ProofJwk);
  if (keyInput === undefined) {
    throw refused('dpop_proof_jwk', "The DPoP proof's jwk lacks a member of its key type.");
  }
  return {
    jkt: hash('sha256', keyInput, 'base64url'),
    keyInput,
    jti: claims.jti as string,
    iat: claims.iat as number,
    ...(typeof claims.nonce === 'string' ? { nonce: claims.nonce } : {}),
    compact: proof,
    alg: alg as DpopAlgorithm,
  };
}

/**
 * The public key rules of a proof, checked before any cryptography: no private members, the key
 * type and curve of its `alg`, and for RSA the usual exponent and a bounded modulus (a huge
 * exponent or modulus makes every verification slow).
 */
function checkProofKey(jwk: Record<string, unknown>, alg: string): void {
  const privateMembers = PRIVATE_MEMBERS.filter((name) => jwk[name] !== undefined);
  if (privateMembers.length > 0) {
    throw refused(
      'dpop_proof_jwk',
      `The DPoP proof's jwk holds private key material (${privateMembers.join(', ')}); ` +
        'put only the public key in the proof, and consider this private key exposed.',
    );
  }
  const { kty } = jwk;
  if (kty !== 'EC' && kty !== 'RSA' && kty !== 'OKP') {
    throw refused(
      'dpop_proof_jwk',
      `The DPoP proof's jwk has kty "${describeValue(kty ?? 'missing')}"; it must be a public EC, RSA or OKP key.`,
    );
  }
  const wanted = Object.hasOwn(KEY_OF_ALG, alg) ? KEY_OF_ALG[alg as DpopAlgorithm] : undefined;
  if (!wanted || wanted.kty !== kty) {
    throw refused(
      'dpop_proof_jwk',
      `The DPoP proof's jwk (kty ${kty}) does not fit alg ${alg}; ${alg} needs a ${wanted?.kty ?? 'known'} key.`,
    );
  }
  if (wanted.curves && !wanted.curves.includes(jwk.crv as string)) {
    throw refused(
      'dpop_proof_jwk',
      `The DPoP proof's jwk is on curve "${describeValue(jwk.crv ?? 'missing')}"; alg ${alg} ` +
        `accepts ${wanted.curves.join(' or ')}.`,
    );
  }
  if (kty !== 'RSA') return;
  if (jwk.e !== RSA_EXPONENT) {
    throw refused(
      'dpop_proof_jwk',
      `The DPoP proof's RSA jwk has the exponent e "${describeValue(jwk.e ?? 'missing', 20)}"; ` +
        `only 65537 (e "${RSA_EXPONENT}") is accepted.`,
    );
  }
  const bits = typeof jwk.n === 'string' ? modulusBits(jwk.n) : 0;
  if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
    throw refused(
      'dpop_proof_jwk',
      `The DPoP proof's RSA jwk has a ${bits}-bit modulus n; ${RSA_MIN_BITS} to ${RSA_MAX_BITS} bits are accepted.`,
    );
  }
}

/** The bit length of a base64url big-endian unsigned integer (0 when it is not base64url). */
function modulusBits(n: string): number {
  if (!/^[A-Za-z0-9_-]+$/.test(n)) return 0;
  const bytes = Buffer.from(n, 'base64url');
  let first = 0;
  while (first < bytes.length && bytes[first] === 0) first++;
  if (first === bytes.length) return 0;
  return (bytes.length - first - 1) * 8 + (32 - Math.clz32(bytes[first]));
}

/**
 * Verifies the signature of a proof {@link parseDpopProof} accepted, with its own `jwk`
 * (RFC 9449 §4.3 step 7). The key is imported from the members its thumbprint covers, and only
 * them (no `alg`, `use` or `key_ops`), once per key in `keys`; node:crypto refuses one that is
 * not a valid key of its type (an EC point off its curve, an Ed25519 `x` of the wrong length).
 */
export async function verifyProofSignature(proof: ParsedProof, keys: ProofKeys): Promise<void> {
  const { alg } = proof;
  let key: KeyObject;
  try {
    key = keys.key(proof.keyInput);
  } catch (error) {
    throw refused(
      'dpop_proof_jwk',
      `The DPoP proof's jwk is not a usable public key for ${alg}.`,
      error,
    );
  }
  const { compact } = proof;
  const dot = compact.lastIndexOf('.');
  const signingInput = Buffer.from(compact.slice(0, dot));
  if (!verifySignature(alg, key, signingInput, Buffer.from(compact.slice(dot + 1), 'base64url'))) {
    throw refused(
      'dpop_proof_signature',
      "The DPoP proof's signature does not verify with its jwk: it was forged or altered.",
    );
  }
}

function checkClaims(claims: Record<string, unknown>, expected: ProofExpectations): void {
  if (claims.htm !== expected.method) {
    throw refused(
      'dpop_proof_htm',
      `The DPoP proof's htm is "${describeValue(claims.htm ?? 'missing')}", but the request's method is ${expected.method}.`,
    );
  }
  checkHtu(claims.htu, expected);
  const iat = claims.iat;
  if (typeof iat !== 'number' || !Number.isFinite(iat)) {
    throw refused('dpop_proof_iat', "The DPoP proof's iat must be a NumericDate (seconds).");
  }
  const skew = iat - expected.nowSeconds;
  const allowed = expected.iatWindowSeconds + expected.leewaySeconds;
  if (Math.abs(skew) > allowed) {
    throw refused(
      'dpop_proof_iat',
      `The DPoP proof was made ${Math.round(Math.abs(skew))} s ${skew < 0 ? 'ago' : 'in the future'}; ` +
        `proofs are accepted within ${allowed} s of now: make a fresh proof for each request, and check the clocks.`,
    );
  }
  const jti = claims.jti;
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) {
    throw refused(
      'dpop_proof_jti',
      `The DPoP proof must have a jti: a unique string of at most ${MAX_JTI_LENGTH} characters.`,
    );
  }
  const ath = hash('sha256', expected.accessToken, 'base64url');
  if (claims.ath !== ath) {
    throw refused(
      'dpop_proof_ath',
      claims.ath === undefined
        ? 'The DPoP proof has no ath: a proof sent with an access token must carry its SHA-256 hash.'
        : "The DPoP proof's ath is not the hash of this access token: the proof was made for another token.",
    );
  }
  if (claims.nonce !== undefined && typeof claims.nonce !== 'string') {
    throw refused('dpop_proof_malformed', "The DPoP proof's nonce must be a string.");
  }
}

/**
 * `htu` must be the request's URL (RFC 9449 §4.3 step 9), both without query and fragment (ignored,
 * not refused) and after RFC 3986 §6.2.2 and §6.2.3 normalization.
 */
function checkHtu(htu: unknown, expected: ProofExpectations): void {
  const parsed = typeof htu === 'string' ? parseHttpUrl(htu) : undefined;
  if (!parsed) {
    throw refused(
      'dpop_proof_htu',
      `The DPoP proof's htu "${describeValue(htu ?? 'missing')}" is not an http(s) URL.`,
    );
  }
  // RFC 9110 §4.2.4: userinfo in an http(s) URI from an untrusted source is an error, even empty
  // ("http://@host"), which WHATWG URL parses to no username at all.
  if (parsed.username || parsed.password || HAS_USERINFO.test(htu as string)) {
    throw refused(
      'dpop_proof_htu',
      "The DPoP proof's htu has userinfo (user:password@ before the host), which an http(s) URL " +
        'must not carry (RFC 9110 §4.2.4): make the proof for the URL requested, without it.',
    );
  }
  const proofUrl = normalizedUrl(parsed);
  const wanted = expected.urls.map((url) => parseHttpUrl(url)).filter((url) => url !== undefined);
  if (!wanted.some((url) => normalizedUrl(url) === proofUrl)) {
    const addressed = expected.urls.map((url) => `"${describeValue(url, 120)}"`).join(' or ');
    throw refused(
      'dpop_proof_htu',
      `The DPoP proof's htu is "${describeValue(htu, 120)}", but this request was sent to ` +
        `${addressed || 'a URL this API cannot tell'}; make the proof for the URL requested.` +
        (expected.htuAdvice ? ` ${expected.htuAdvice}` : ''),
    );
  }
}

function parseHttpUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** An "@" in the authority: after the scheme's slashes (or backslashes), before the path. */
const HAS_USERINFO = /^[a-z][a-z0-9+.-]*:[\\/]*[^\\/?#]*@/i;
const PERCENT_ENCODED = /%([0-9A-Fa-f]{2})/g;
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * A URL without query and fragment, in RFC 3986 normal form: WHATWG URL lower-cases the scheme and
 * host, drops the default port and removes dot segments (§6.2.2.1, §6.2.2.3, §6.2.3); the path's
 * percent-encoded unreserved characters are decoded and the others' hex upper-cased (§6.2.2.1,
 * §6.2.2.2).
 */
function normalizedUrl(url: URL): string {
  const path = url.pathname.replace(PERCENT_ENCODED, (_match, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
  return `${url.protocol}//${url.host}${path}`;
}

function jsonObject(part: string, what: string): Record<string, unknown> {
  const text = utf8Text(Buffer.from(part, 'base64url'));
  if (text === undefined) {
    throw refused(
      'invalid_encoding',
      `The DPoP proof's ${what} is not valid UTF-8 (RFC 7519 §7.2); make the proof with a ` +
        'conforming JOSE library.',
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw refused('dpop_proof_malformed', `The DPoP proof's ${what} is not a JSON object.`);
  }
  return value as Record<string, unknown>;
}

function refused(
  reason: ConstructorParameters<typeof InvalidDpopProofError>[0],
  message: string,
  cause?: unknown,
): InvalidDpopProofError {
  return new InvalidDpopProofError(reason, message, cause === undefined ? undefined : { cause });
}
