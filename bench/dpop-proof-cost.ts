/**
 * Where a DPoP proof check's CPU goes (issue 24, item 5), in process and warm: a pool of proofs
 * from one ES256 client key (as a real client makes them: same key, a new `jti` each), checked the
 * way the verifier does (`SenderConstraint.checkProof`, then `checkBinding` with a user whose
 * `cnf.jkt` is the key's thumbprint, replay records in process), and each part of that check
 * alone. Prints µs per proof, the median of several passes. Run pinned, after a build:
 *
 *   npx tsc -p tsconfig.build.json && taskset -c 1 node dist/bench/dpop-proof-cost.js
 *
 * Env: PROOFS (pool size, default 2000), PASSES (default 5).
 */
import { createPublicKey, hash, verify, type JsonWebKey } from 'node:crypto';
import { parseDpopProof, verifyProofSignature } from '../lib/binding/check-dpop-proof';
import { resolveDpopOptions } from '../lib/binding/dpop-options';
import { DpopReplayCache } from '../lib/binding/dpop-replay-cache';
import { jwkThumbprint, requiredMembers } from '../lib/binding/jwk-thumbprint';
import { ProofKeys } from '../lib/binding/proof-keys';
import { SenderConstraint } from '../lib/binding/sender-constraint';
import type { TokenPresentation } from '../lib/binding/token-presentation';
import type { AuthUser } from '../lib/token/auth-user';
import { nonCanonicalSegment, utf8Text } from '../lib/token/strict-decoding';
import { DpopKey } from '../test/support/dpop-proofs';

const PROOFS = Number(process.env.PROOFS ?? 2000);
const PASSES = Number(process.env.PASSES ?? 5);
const URL_CALLED = 'https://api.example.com/private';
const quiet = { warn: () => undefined, log: () => undefined, error: () => undefined };

const client = new DpopKey('ES256');
// Any string stands for the access token: the proof check hashes it (`ath`), nothing more.
const token = `eyJhbGciOiJSUzI1NiJ9.${Buffer.from('{"sub":"bench"}').toString('base64url')}.sig`;
const user = {
  sub: 'bench',
  scopes: [],
  tokenHash: 'bench',
  tokenType: 'jwt',
  claims: { cnf: { jkt: client.jkt } },
} as unknown as AuthUser;

function pool(): string[] {
  return Array.from({ length: PROOFS }, () => client.proof('GET', URL_CALLED, token));
}

function presentation(proof: string): TokenPresentation {
  return { scheme: 'DPoP', dpopProofs: [proof], method: 'GET', url: () => URL_CALLED };
}

const proofPool = pool();

/**
 * Median over passes of the CPU µs per proof of `run` over the pool (the same proofs each pass: what
 * records `jti`s starts afresh each pass).
 */
async function measure(
  name: string,
  run: (proofs: string[]) => void | Promise<void>,
): Promise<[string, number]> {
  const perPass: number[] = [];
  for (let pass = 0; pass < PASSES + 1; pass++) {
    // CPU time, not wall time: the machine's other work on this core does not count.
    const start = process.cpuUsage();
    await run(proofPool);
    const used = process.cpuUsage(start);
    const micros = (used.user + used.system) / proofPool.length;
    if (pass > 0) perPass.push(micros); // the first pass warms up
  }
  perPass.sort((a, b) => a - b);
  return [name, perPass[Math.floor(perPass.length / 2)]];
}

async function main(): Promise<void> {
  const dpop = resolveDpopOptions({ mode: 'required', publicBaseUrl: 'https://api.example.com' });
  const options = { dpop, clockToleranceSeconds: 0, cache: { storeTimeoutMs: 100 } };
  const expected = {
    method: 'GET',
    urls: [URL_CALLED],
    accessToken: token,
    algorithms: dpop.algorithms,
    iatWindowSeconds: dpop.iatWindowSeconds,
    leewaySeconds: 0,
  };
  const jwk = client.publicJwk;
  const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  const rows: [string, number][] = [];

  /** The whole proof check, as the verifier makes it. */
  const whole = async (proofs: string[]) => {
    // A new SenderConstraint per pass: its replay cache would otherwise fill across passes.
    const senders = new SenderConstraint(
      { ...options, dpop: { ...dpop, maxReplayEntries: 4 * PROOFS } },
      undefined,
      quiet,
    );
    for (const proof of proofs) {
      const p = presentation(proof);
      const parsed = await senders.checkProof(token, p);
      await senders.checkBinding(user, p, parsed);
    }
  };
  rows.push(await measure('total: checkProof + checkBinding (in-process replay)', whole));
  rows.push(
    await measure('  parseDpopProof (all but signature, replay)', async (proofs) => {
      const nowSeconds = Date.now() / 1000;
      for (const proof of proofs) await parseDpopProof(proof, { ...expected, nowSeconds });
    }),
  );
  const parsedPool = await Promise.all(
    proofPool.map((proof) => parseDpopProof(proof, { ...expected, nowSeconds: Date.now() / 1000 })),
  );
  const keys = new ProofKeys();
  rows.push(
    await measure('  verifyProofSignature (key cached, as SenderConstraint)', async () => {
      for (const parsed of parsedPool) await verifyProofSignature(parsed, keys);
    }),
  );
  rows.push(
    await measure('  verifyProofSignature (key imported each time)', async () => {
      for (const parsed of parsedPool) await verifyProofSignature(parsed, new ProofKeys(1));
    }),
  );
  rows.push(
    await measure('    part: split + canonical base64url check', (proofs) => {
      for (const proof of proofs) {
        const [h, p, s] = proof.split('.');
        nonCanonicalSegment(h, p, s);
      }
    }),
  );
  rows.push(
    await measure('    part: base64url + UTF-8 + JSON.parse (header, payload)', (proofs) => {
      for (const proof of proofs) {
        const [h, p] = proof.split('.');
        JSON.parse(utf8Text(Buffer.from(h, 'base64url'))!);
        JSON.parse(utf8Text(Buffer.from(p, 'base64url'))!);
      }
    }),
  );
  rows.push(
    await measure('    part: JWK import (createPublicKey jwk)', (proofs) => {
      for (let i = 0; i < proofs.length; i++) {
        createPublicKey({ key: requiredMembers(jwk) as JsonWebKey, format: 'jwk' });
      }
    }),
  );
  rows.push(
    await measure('    part: JWK import + ES256 verify with that new key', (proofs) => {
      for (const proof of proofs) {
        const fresh = createPublicKey({ key: requiredMembers(jwk) as JsonWebKey, format: 'jwk' });
        const dot = proof.lastIndexOf('.');
        verify(
          'sha256',
          Buffer.from(proof.slice(0, dot)),
          { key: fresh, dsaEncoding: 'ieee-p1363' },
          Buffer.from(proof.slice(dot + 1), 'base64url'),
        );
      }
    }),
  );
  rows.push(
    await measure('    part: RFC 7638 thumbprint', (proofs) => {
      for (let i = 0; i < proofs.length; i++) jwkThumbprint(jwk);
    }),
  );
  rows.push(
    await measure('    part: ES256 verify (parsed key, ieee-p1363)', (proofs) => {
      for (const proof of proofs) {
        const dot = proof.lastIndexOf('.');
        verify(
          'sha256',
          Buffer.from(proof.slice(0, dot)),
          { key, dsaEncoding: 'ieee-p1363' },
          Buffer.from(proof.slice(dot + 1), 'base64url'),
        );
      }
    }),
  );
  rows.push(
    await measure('    part: htu (two WHATWG URL parses)', (proofs) => {
      let parsed = 0;
      for (let i = 0; i < proofs.length; i++) {
        parsed += new URL(URL_CALLED).href.length + new URL(URL_CALLED).href.length;
      }
      if (parsed === 0) throw new Error('no URL parsed');
    }),
  );
  rows.push(
    await measure('    part: ath (SHA-256 of the token)', (proofs) => {
      for (let i = 0; i < proofs.length; i++) hash('sha256', token, 'base64url');
    }),
  );
  rows.push(
    await measure('    part: replay record (in-process LRU, firstUse)', async (proofs) => {
      const replays = new DpopReplayCache({ maxEntries: 4 * PROOFS, storeTimeoutMs: 100 }, quiet);
      for (let i = 0; i < proofs.length; i++) {
        await replays.firstUse(client.jkt, `jti-${i}`, 300_000);
      }
    }),
  );
  rows.push(await measure('total (last): checkProof + checkBinding (in-process replay)', whole));
  console.log(`DPoP proof check, µs per proof (median of ${PASSES} passes of ${PROOFS} proofs,`);
  console.log(`one ES256 client key, a new jti each, Node ${process.version}):`);
  for (const [name, micros] of rows) console.log(`${name.padEnd(62)} ${micros.toFixed(1)}`);
}

void main();
