import {
  checkPrimeSync,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  type KeyObject,
} from 'node:crypto';

/**
 * RSA keys made as Infineon's RSALib made them (CVE-2017-15361, ROCA; Nemec et al., CCS 2017):
 * each prime p = k·M + (65537^a mod M), M the product of the first primes (39, 71 or 126 of them
 * by key size). Fresh for every run; they have the weakness itself, not only its fingerprint.
 */
export interface RocaKey {
  modulus: bigint;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: Record<string, unknown>;
}

const E = 65537n;

/** The first `count` primes, 2 included. */
function firstPrimes(count: number): bigint[] {
  const primes: number[] = [];
  for (let candidate = 2; primes.length < count; candidate++) {
    if (primes.every((p) => candidate % p !== 0)) primes.push(candidate);
  }
  return primes.map(BigInt);
}

export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  base %= modulus;
  for (; exponent > 0n; exponent >>= 1n) {
    if (exponent & 1n) result = (result * base) % modulus;
    base = (base * base) % modulus;
  }
  return result;
}

function modInverse(value: bigint, modulus: bigint): bigint {
  let [oldR, r] = [value % modulus, modulus];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const quotient = oldR / r;
    [oldR, r] = [r, oldR - quotient * r];
    [oldS, s] = [s, oldS - quotient * s];
  }
  return ((oldS % modulus) + modulus) % modulus;
}

const randomBig = (bits: number) =>
  BigInt(`0x${randomBytes(Math.ceil(bits / 8)).toString('hex')}`) & ((1n << BigInt(bits)) - 1n);

const bitLength = (value: bigint) => value.toString(2).length;

/**
 * A ROCA-structured prime of `bits` bits, at least √2·2^(bits-1) (so that two of them make a
 * modulus of twice as many bits), with p - 1 prime to 65537.
 */
function rocaPrime(bits: number, m: bigint): bigint {
  const top = 1n << BigInt(bits);
  const low = (top * 7072n) / 10000n / m + 1n;
  const span = top / m - low;
  for (;;) {
    const k = low + (randomBig(bitLength(span) + 64) % span);
    const p = k * m + modPow(E, randomBig(64), m);
    if (p < top && (p - 1n) % E !== 0n && checkPrimeSync(p)) return p;
  }
}

/** The number of primes in M for a modulus of `bits` bits (the paper's Table 1). */
const primesInM = (bits: number) => (bits < 992 ? 39 : bits < 1984 ? 71 : 126);

const b64 = (value: bigint) => {
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex').toString('base64url');
};

/** A fresh RSA key with the ROCA weakness, of `bits` bits (512, 1024, 2048, ...). */
export function generateRocaKey(
  bits = 2048,
  kid = `roca-${randomBytes(4).toString('hex')}`,
): RocaKey {
  const m = firstPrimes(primesInM(bits)).reduce((product, p) => product * p, 1n);
  for (;;) {
    const p = rocaPrime(bits / 2, m);
    const q = rocaPrime(bits / 2, m);
    const n = p * q;
    if (p === q || bitLength(n) !== bits) continue;
    const d = modInverse(E, (p - 1n) * (q - 1n));
    const jwk = {
      kty: 'RSA',
      n: b64(n),
      e: b64(E),
      d: b64(d),
      p: b64(p),
      q: b64(q),
      dp: b64(d % (p - 1n)),
      dq: b64(d % (q - 1n)),
      qi: b64(modInverse(q, p)),
    };
    const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
    return {
      modulus: n,
      privateKey,
      publicKey: createPublicKey(privateKey),
      publicJwk: { kty: 'RSA', n: jwk.n, e: jwk.e, kid, alg: 'RS256', use: 'sig' },
    };
  }
}
