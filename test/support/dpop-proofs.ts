import { createHash, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { rememberToken } from './log-capture';
import { signRaw } from './key-server';

/** A client's DPoP key (ES256 unless told), making proofs of any shape, however malicious. */
export class DpopKey {
  readonly privateKey: KeyObject;
  readonly publicJwk: Record<string, unknown>;
  /** RFC 7638 SHA-256 thumbprint: what a bound token's cnf.jkt holds. */
  readonly jkt: string;

  constructor(readonly alg: 'ES256' | 'RS256' = 'ES256') {
    const pair =
      alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = pair.privateKey;
    this.publicJwk = pair.publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
    this.jkt = jwkThumbprint(this.publicJwk);
  }

  /**
   * A proof for `method` `url` and `token`; `claims` and `header` override or (with `undefined`)
   * remove members. Remembered, so that a proof in a log fails the test.
   */
  proof(
    method: string,
    url: string,
    token: string | undefined,
    claims: Record<string, unknown> = {},
    header: Record<string, unknown> = {},
    key: KeyObject | string = this.privateKey,
  ): string {
    const payload: Record<string, unknown> = {
      htm: method,
      htu: url,
      iat: Math.floor(Date.now() / 1000),
      jti: randomUUID(),
      ...(token !== undefined
        ? { ath: createHash('sha256').update(token).digest('base64url') }
        : {}),
      ...claims,
    };
    const fullHeader: Record<string, unknown> = {
      typ: 'dpop+jwt',
      alg: this.alg,
      jwk: this.publicJwk,
      ...header,
    };
    for (const object of [payload, fullHeader])
      for (const [name, value] of Object.entries(object))
        if (value === undefined) delete object[name];
    return rememberToken(signRaw(fullHeader, payload, key));
  }
}

/** RFC 7638: SHA-256 of the required members in lexicographic order. */
export function jwkThumbprint(jwk: Record<string, unknown>): string {
  const members =
    jwk.kty === 'EC'
      ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
      : jwk.kty === 'OKP'
        ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x }
        : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}
