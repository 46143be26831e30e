import { hash } from 'node:crypto';
import { calculateJwkThumbprint, compactVerify, errors, importJWK, type JWK } from 'jose';
import { InvalidDpopProofError } from '../errors/auth-error';
import { describeValue } from '../token/describe-value';

/** What a proof must match: the request it came with and the token it goes with. */
export interface ProofExpectations {
  /** The request's method, as sent (`GET`, `POST`, ...). */
  method: string;
  /** The request's URL as the client addressed it, without query and fragment. */
  url: string;
  /** The access token the proof is presented with (`ath` is its SHA-256). */
  accessToken: string;
  /** Accepted `alg` values, compared case-sensitively. */
  algorithms: readonly string[];
  nowSeconds: number;
  /** How far `iat` may be from now, either way, before the leeway. */
  iatWindowSeconds: number;
  leewaySeconds: number;
}

/** A proof that passed every check of its own (before replay, nonce and binding checks). */
export interface CheckedProof {
  /** The SHA-256 JWK thumbprint of the proof's key (RFC 7638), what `cnf.jkt` must equal. */
  jkt: string;
  jti: string;
  iat: number;
  nonce?: string;
}

/** Longest proof accepted: an RSA-4096 key and its signature fit well within. */
export const MAX_PROOF_LENGTH = 8192;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;
/** Private key members of RFC 7518 §6: a proof's `jwk` must have none (RFC 9449 §4.3). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const KEY_TYPES = new Set(['EC', 'RSA', 'OKP']);
const MAX_JTI_LENGTH = 256;

/**
 * Checks one DPoP proof (RFC 9449 §4.3, steps 2 to 11 except replay and nonce): a compact JWS of
 * type `dpop+jwt`, an allowed asymmetric `alg`, a public `jwk` that verifies the signature, and
 * `htm`, `htu`, `iat`, `jti` and `ath` matching the request and the token. Each failure is an
 * {@link InvalidDpopProofError} naming what is wrong; the proof itself is never quoted.
 */
export async function checkDpopProof(
  proof: string,
  expected: ProofExpectations,
): Promise<CheckedProof> {
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
  const [headerPart, payloadPart] = proof.split('.');
  const header = jsonObject(headerPart, 'header');
  if (header.typ !== 'dpop+jwt') {
    throw refused(
      'dpop_proof_typ',
      `The DPoP proof's typ is "${describeValue(header.typ ?? 'missing')}"; it must be "dpop+jwt".`,
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
  const keyMembers = jwk as Record<string, unknown>;
  const privateMembers = PRIVATE_MEMBERS.filter((name) => keyMembers[name] !== undefined);
  if (privateMembers.length > 0) {
    throw refused(
      'dpop_proof_jwk',
      `The DPoP proof's jwk holds private key material (${privateMembers.join(', ')}); ` +
        'put only the public key in the proof, and consider this private key exposed.',
    );
  }
  if (typeof keyMembers.kty !== 'string' || !KEY_TYPES.has(keyMembers.kty)) {
    throw refused(
      'dpop_proof_jwk',
      `The DPoP proof's jwk has kty "${describeValue(keyMembers.kty ?? 'missing')}"; it must be a public EC, RSA or OKP key.`,
    );
  }
  const payloadBytes = await verifiedPayload(proof, jwk as JWK, alg);
  const claims = jsonObject(payloadPart, 'payload', payloadBytes);
  checkClaims(claims, expected);
  const jkt = await calculateJwkThumbprint(jwk as JWK, 'sha256');
  return {
    jkt,
    jti: claims.jti as string,
    iat: claims.iat as number,
    ...(typeof claims.nonce === 'string' ? { nonce: claims.nonce } : {}),
  };
}

async function verifiedPayload(proof: string, jwk: JWK, alg: string): Promise<Uint8Array> {
  let key: Awaited<ReturnType<typeof importJWK>>;
  try {
    key = await importJWK(jwk, alg);
  } catch (error) {
    throw refused(
      'dpop_proof_jwk',
      `The DPoP proof's jwk is not a usable public key for ${alg}.`,
      error,
    );
  }
  try {
    return (await compactVerify(proof, key, { algorithms: [alg] })).payload;
  } catch (error) {
    if (error instanceof errors.JWSSignatureVerificationFailed) {
      throw refused(
        'dpop_proof_signature',
        "The DPoP proof's signature does not verify with its jwk: it was forged or altered.",
        error,
      );
    }
    throw refused(
      'dpop_proof_jwk',
      `The DPoP proof's jwk does not fit alg ${alg}, or its header is not acceptable.`,
      error,
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
  checkHtu(claims.htu, expected.url);
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

/** `htu` must be the request's URL (RFC 9449 §4.3 step 9), compared after normalization. */
function checkHtu(htu: unknown, requestUrl: string): void {
  const parsed = typeof htu === 'string' ? parseHttpUrl(htu) : undefined;
  if (!parsed) {
    throw refused(
      'dpop_proof_htu',
      `The DPoP proof's htu "${describeValue(htu ?? 'missing')}" is not an http(s) URL.`,
    );
  }
  if (parsed.search !== '' || parsed.hash !== '' || /[?#]/.test(htu as string)) {
    throw refused(
      'dpop_proof_htu',
      "The DPoP proof's htu has a query or fragment; it must be the request's URL without them.",
    );
  }
  const wanted = parseHttpUrl(requestUrl);
  if (!wanted || normalized(parsed) !== normalized(wanted)) {
    throw refused(
      'dpop_proof_htu',
      `The DPoP proof's htu is "${describeValue(htu, 120)}", but this request was sent to ` +
        `"${describeValue(requestUrl, 120)}"; make the proof for the URL requested.`,
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

/** Scheme, host and default port normalized by WHATWG URL (RFC 3986 §6.2.2, §6.2.3). */
function normalized(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function jsonObject(part: string, what: string, bytes?: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(
      bytes ? Buffer.from(bytes).toString('utf8') : Buffer.from(part, 'base64url').toString('utf8'),
    );
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
