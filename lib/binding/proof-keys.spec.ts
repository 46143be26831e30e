import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { DpopKey } from '../../test/support/dpop-proofs';
import { parseDpopProof, verifyProofSignature } from './check-dpop-proof';
import { ProofKeys } from './proof-keys';

const url = 'http://host/x';
const token = 'the-access-token';
const expectations = {
  method: 'GET',
  urls: [url],
  accessToken: token,
  algorithms: ['ES256'],
  iatWindowSeconds: 300,
  leewaySeconds: 0,
};

/** The prime of P-256's field. */
const P256 = 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n;
const fromBase64url = (value: string) =>
  BigInt(`0x${Buffer.from(value, 'base64url').toString('hex')}`);
const toBase64url = (value: bigint) =>
  Buffer.from(value.toString(16).padStart(64, '0'), 'hex').toString('base64url');

/** ProofKeys of `max` keys whose imports are counted. */
function countedKeys(max: number): { keys: ProofKeys; imports: () => number } {
  let imports = 0;
  const keys = new ProofKeys(max, (members) => {
    imports++;
    return createPublicKey({ key: members as JsonWebKey, format: 'jwk' });
  });
  return { keys, imports: () => imports };
}

/** The reason `proof`'s signature is refused for with `keys`, or 'verified'. */
async function answer(proof: string, keys: ProofKeys): Promise<string> {
  const parsed = await parseDpopProof(proof, { ...expectations, nowSeconds: Date.now() / 1000 });
  try {
    await verifyProofSignature(parsed, keys);
    return 'verified';
  } catch (error) {
    return (error as { reason: string }).reason;
  }
}

/** A proof of `signer` that carries `carried`'s public key in its header. */
function proofCarrying(signer: DpopKey, carried: DpopKey): string {
  return signer.proof('GET', url, token, {}, { jwk: carried.publicJwk });
}

describe('ProofKeys: the imported keys of DPoP proofs', () => {
  const a = new DpopKey();
  const b = new DpopKey();

  it('imports a key once: the next proofs of the same jwk reuse it', async () => {
    const { keys, imports } = countedKeys(10);
    for (let i = 0; i < 3; i++)
      expect(await answer(a.proof('GET', url, token), keys)).toBe('verified');
    expect(imports()).toBe(1);
    expect(keys.size).toBe(1);
  });

  it('keys each distinct jwk apart: a proof signed by another key than its jwk still fails', async () => {
    const { keys, imports } = countedKeys(10);
    expect(await answer(a.proof('GET', url, token), keys)).toBe('verified');
    expect(await answer(b.proof('GET', url, token), keys)).toBe('verified');
    expect([imports(), keys.size]).toEqual([2, 2]);
    // Both keys cached: B's signature under A's jwk, and A's under B's, are still forgeries.
    expect(await answer(proofCarrying(b, a), keys)).toBe('dpop_proof_signature');
    expect(await answer(proofCarrying(a, b), keys)).toBe('dpop_proof_signature');
    expect([imports(), keys.size]).toEqual([2, 2]);
  });

  it('never shares an entry between valid keys that differ in one member only', async () => {
    const { keys } = countedKeys(10);
    expect(await answer(a.proof('GET', url, token), keys)).toBe('verified');
    // (x, p - y) is on the curve too: another valid P-256 key, with A's x.
    const { x, y } = a.publicJwk as { x: string; y: string };
    const mirrored = { ...a.publicJwk, x, y: toBase64url(P256 - fromBase64url(y)) };
    const proof = a.proof('GET', url, token, {}, { jwk: mirrored });
    expect(await answer(proof, keys)).toBe('dpop_proof_signature');
    expect(keys.size).toBe(2);
  });

  it('does not keep a jwk that is not a usable key', async () => {
    const { keys, imports } = countedKeys(10);
    const jwk = { ...a.publicJwk, y: (b.publicJwk as { x: string }).x };
    for (let i = 0; i < 2; i++) {
      expect(await answer(a.proof('GET', url, token, {}, { jwk }), keys)).toBe('dpop_proof_jwk');
    }
    expect([imports(), keys.size]).toEqual([2, 0]);
  });

  it('holds at most its bound of keys, forgetting the least recently used', async () => {
    const { keys, imports } = countedKeys(2);
    const c = new DpopKey();
    for (const client of [a, b, c]) {
      expect(await answer(client.proof('GET', url, token), keys)).toBe('verified');
    }
    expect([imports(), keys.size]).toEqual([3, 2]);
    expect(await answer(a.proof('GET', url, token), keys)).toBe('verified');
    expect([imports(), keys.size]).toEqual([4, 2]);
  });

  it('holds 1000 keys by default', () => {
    expect(new ProofKeys().max).toBe(1000);
  });
});
