// Hand-written, a few lines: jose's importJWK caches only by the JWK object's identity (a WeakMap),
// and each proof's header parses to a new object; node:crypto imports, lru-cache bounds.
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** Imports a public key from its RFC 7638 required members (and nothing else). */
export type ImportProofKey = (members: Readonly<Record<string, string>>) => KeyObject;

/** How many proof keys one process keeps imported, by default. */
const DEFAULT_MAX_KEYS = 1000;

const importJwk: ImportProofKey = (members) =>
  createPublicKey({ key: members as JsonWebKey, format: 'jwk' });

/**
 * The imported public keys of DPoP proofs, by their RFC 7638 thumbprint input (the JSON of the
 * key's required members, in order): a client signs every proof with the same key, and importing
 * it (`createPublicKey`) cost 56 µs a proof, its first verification some 20 more, against 61 for
 * the ES256 verification itself. That input is exactly what the key is imported from, so two
 * different keys never share an entry. Bounded, least recently used first out, so that a client
 * sending ever-new keys costs a re-import, never memory; per process (each `SenderConstraint`
 * holds one). A key that fails to import is not kept.
 */
export class ProofKeys {
  private readonly keys: LRUCache<string, KeyObject>;

  constructor(
    readonly max = DEFAULT_MAX_KEYS,
    private readonly importKey: ImportProofKey = importJwk,
  ) {
    this.keys = new LRUCache({ max });
  }

  /** How many keys are held. */
  get size(): number {
    return this.keys.size;
  }

  /**
   * The key of an RFC 7638 thumbprint input (`thumbprintInput`), imported from that very
   * JSON on first use, so that the entry's name is all the key is made of; throws what the import
   * throws when it is not a valid public key.
   */
  key(input: string): KeyObject {
    let key = this.keys.get(input);
    if (key === undefined) {
      key = this.importKey(JSON.parse(input) as Record<string, string>);
      this.keys.set(input, key);
    }
    return key;
  }
}
