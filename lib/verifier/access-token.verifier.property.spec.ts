import * as fc from 'fast-check';
import { generateKey, KeyServer, signRaw, type TestKey } from '../../test/support/key-server';
import { AuthError } from '../errors/auth-error';
import { IssuerDiscovery } from '../issuer/issuer-discovery';
import { JwksKeyStore } from '../issuer/jwks-key-store';
import { TrustedIssuers } from '../issuer/trusted-issuers';
import { resolveAuthOptions } from '../options/resolve-auth-options';
import { SUPPORTED_ALGORITHMS } from '../token/check-jwt-header';
import type { OpaqueTokenVerifier } from '../opaque/opaque-token.verifier';
import { AccessTokenVerifier } from './access-token.verifier';

/**
 * The whole verifier (decode, header checks, key lookup over a real local JWKS, node:crypto
 * signature check, claim checks) against mutants of a valid token: no mutant is accepted unless
 * it is the same token, byte for byte once decoded.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A change to a token, as data so that fast-check shows a readable counterexample. */
type Mutation =
  | { kind: 'replaceChar'; index: number; char: string }
  | { kind: 'truncate'; length: number }
  | { kind: 'swapSegments'; first: number; second: number }
  | { kind: 'append'; text: string }
  | { kind: 'replaceHeader'; header: Record<string, unknown> }
  | { kind: 'replacePayload'; payload: unknown }
  | { kind: 'changeClaims'; claims: Record<string, unknown> }
  | { kind: 'flipPaddingBits'; segment: number; bits: number }
  | { kind: 'forge'; claims: Record<string, unknown> };

function mutate(token: string, mutation: Mutation, attacker: TestKey): string {
  const parts = token.split('.');
  const withPart = (index: number, value: string) =>
    parts.map((part, i) => (i === index ? value : part)).join('.');
  switch (mutation.kind) {
    case 'replaceChar': {
      const at = mutation.index % Math.max(1, token.length);
      return token.slice(0, at) + mutation.char + token.slice(at + 1);
    }
    case 'truncate':
      return token.slice(0, mutation.length % (token.length + 1));
    case 'swapSegments': {
      const swapped = [...parts];
      swapped[mutation.first] = parts[mutation.second] ?? '';
      swapped[mutation.second] = parts[mutation.first] ?? '';
      return swapped.join('.');
    }
    case 'append':
      return token + mutation.text;
    case 'replaceHeader':
      return withPart(0, b64url(mutation.header));
    case 'replacePayload':
      return withPart(1, b64url(mutation.payload));
    case 'changeClaims':
      return withPart(1, b64url({ ...decodeJson(parts[1] ?? ''), ...mutation.claims }));
    case 'flipPaddingBits': {
      // Base64url's last character may carry bits that decode to nothing: same bytes, new text.
      const part = parts[mutation.segment] ?? '';
      const last = ALPHABET.indexOf(part.at(-1) ?? '');
      if (last < 0) return token;
      return withPart(mutation.segment, part.slice(0, -1) + ALPHABET[last ^ mutation.bits]);
    }
    case 'forge':
      // Correctly signed, but with the attacker's key under the issuer's kid.
      return signRaw(
        { alg: attacker.alg, typ: 'at+jwt', kid: attacker.kid },
        { ...decodeJson(parts[1] ?? ''), ...mutation.claims },
        attacker.privateKey,
      );
  }
}

function decodeJson(segment: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Whether two tokens have three segments each that decode (strictly) to the same bytes. */
function sameBytes(original: string, mutant: string): boolean {
  const a = original.split('.');
  const b = mutant.split('.');
  return (
    b.length === 3 &&
    b.every((part) => BASE64URL.test(part)) &&
    a.every((part, i) => Buffer.from(part, 'base64url').equals(Buffer.from(b[i], 'base64url')))
  );
}

describe('AccessTokenVerifier.verify of JWTs (property, against a real local JWKS)', () => {
  let ks: KeyServer;
  let verifier: AccessTokenVerifier;
  let attacker: TestKey;

  beforeAll(async () => {
    ks = await KeyServer.start();
    // A second key of another type, so that swapping alg and kid meets a real key.
    ks.keys.push(generateKey('ES256'));
    attacker = generateKey('RS256', ks.key.kid);
    const options = resolveAuthOptions({
      issuerUrl: ks.issuer,
      audience: ks.audience,
      verifiedTokenCache: false,
    });
    const limits = { timeoutMs: 2000, maxBytes: 512 * 1024 };
    const discovery = new IssuerDiscovery({ issuer: options.issuer, limits, maxAgeMs: 3_600_000 });
    const keyStore = new JwksKeyStore(
      discovery,
      {
        limits,
        refetchBurst: 3,
        refetchCooldownMs: options.jwksCooldownMs,
        maxAgeMs: 600_000,
        failureBackoffMs: 1000,
        maxKeys: 100,
      },
      { warn: () => undefined },
    );
    // Opaque tokens are not this property's subject: off, verify refuses them without a call.
    const noOpaque = { enabled: false } as OpaqueTokenVerifier;
    const issuers = new TrustedIssuers(options, {
      discovery: () => discovery,
      keyStore: () => keyStore,
    });
    verifier = new AccessTokenVerifier(options, issuers, noOpaque);
  });

  afterAll(() => ks.stop());

  it('rejects every mutant of a valid token with a 401, unless it decodes to the same bytes', async () => {
    const kids = ks.keys.map((key) => key.kid!);
    const originals = [ks.token(), ks.token({}, {}, ks.keys[1])];
    // Both originals verify: the mutants below are refused for what was changed, not anyway.
    for (const token of originals) await expect(verifier.verify(token)).resolves.toBeDefined();

    const claimValue = fc.oneof(
      fc.constantFrom(ks.issuer, ks.audience, [ks.audience], 'admin', 'read:messages admin'),
      fc.integer({ min: 0, max: 2 ** 32 }),
      fc.jsonValue({ maxDepth: 1 }),
    );
    const claims = fc.dictionary(
      fc.constantFrom('iss', 'aud', 'exp', 'nbf', 'sub', 'scope', 'permissions', 'cnf', 'x'),
      claimValue,
      { minKeys: 1, maxKeys: 3 },
    );
    const header = fc.record(
      {
        alg: fc.constantFrom(...SUPPORTED_ALGORITHMS, 'none', 'HS256', 'RS256 '),
        kid: fc.oneof(fc.constantFrom(...kids), fc.string({ maxLength: 6 })),
        typ: fc.constantFrom('at+jwt', 'JWT', 'JOSE'),
        jwk: fc.constant(attacker.publicJwk),
        crit: fc.constant(['b64']),
      },
      { requiredKeys: ['alg'] },
    );
    const mutation: fc.Arbitrary<Mutation> = fc.oneof(
      fc.record({
        kind: fc.constant('replaceChar' as const),
        index: fc.nat(),
        char: fc.oneof(
          fc.constantFrom(...ALPHABET),
          fc.constantFrom('.', '=', '+', '/', ' ', '%', '\u00e9', '\u0000'),
        ),
      }),
      fc.record({ kind: fc.constant('truncate' as const), length: fc.nat() }),
      fc.record({
        kind: fc.constant('swapSegments' as const),
        first: fc.integer({ min: 0, max: 2 }),
        second: fc.integer({ min: 0, max: 2 }),
      }),
      fc.record({
        kind: fc.constant('append' as const),
        text: fc.oneof(
          fc.constantFrom('.', '=', '==', 'A', 'AA', '.e30', '..'),
          fc.string({ maxLength: 4 }),
        ),
      }),
      fc.record({ kind: fc.constant('replaceHeader' as const), header }),
      fc.record({
        kind: fc.constant('replacePayload' as const),
        payload: fc.oneof(fc.jsonValue({ maxDepth: 2 }), claims),
      }),
      fc.record({ kind: fc.constant('changeClaims' as const), claims }),
      fc.record({
        kind: fc.constant('flipPaddingBits' as const),
        segment: fc.integer({ min: 0, max: 2 }),
        bits: fc.integer({ min: 1, max: 3 }),
      }),
      fc.record({ kind: fc.constant('forge' as const), claims }),
    );

    const property = fc.asyncProperty(
      fc.constantFrom(...originals),
      fc.array(mutation, { minLength: 1, maxLength: 3 }),
      async (original, mutations) => {
        const mutant = mutations.reduce((token, m) => mutate(token, m, attacker), original);
        try {
          const user = await verifier.verify(mutant);
          return sameBytes(original, mutant) && user.claims.iss === ks.issuer;
        } catch (error) {
          return error instanceof AuthError && error.status === 401;
        }
      },
    );
    await expect(
      fc.assert(property, { numRuns: 3000, plugins: [fc.interruptAfterTimeLimit(4000)] }),
    ).resolves.toBeUndefined();
  });
});
