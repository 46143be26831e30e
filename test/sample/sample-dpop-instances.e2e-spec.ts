import { findLeaks, rememberToken } from '../support/log-capture';
import { freePort } from '../support/free-port';
import { RedisServer } from '../support/redis-server';
import {
  printedExport,
  startSample,
  untilListening,
  type SampleProcess,
} from '../support/sample-process';

const AUDIENCE = 'https://api.example.com';
/** The balancer's URL: what clients address, so the `htu` of their proofs, for both instances. */
const PUBLIC_URL = 'https://balancer.example.com';
const NONCE_SECRET = 'one nonce secret for every instance, 32 bytes or more';

/**
 * Two instances of the built sample, each in its own process as a user deploys them behind a
 * balancer: A with its embedded provider (oidc-provider, DPoP-bound tokens), B checking A's tokens,
 * one REDIS_URL (a real redis-server) and AUTH_PUBLIC_URL, DPoP nonces from one shared secret.
 * A runs on Express and B on Fastify.
 */
describe('two sample instances behind one balancer, sharing a real redis-server (DPoP)', () => {
  let redis: RedisServer;
  let a: SampleProcess;
  let b: SampleProcess;
  const handedOut: string[] = [NONCE_SECRET];
  let token: string;
  let proof: (nonce?: string) => Promise<string>;

  beforeAll(async () => {
    redis = await RedisServer.start();
    const idpPort = await freePort();
    const issuer = `http://127.0.0.1:${idpPort}/`;
    const shared = {
      NODE_ENV: 'development',
      REDIS_URL: redis.url,
      AUTH_PUBLIC_URL: PUBLIC_URL,
      AUTH_DPOP: 'allowed',
      AUTH_DPOP_NONCE: 'on',
      AUTH_DPOP_NONCE_SECRET: NONCE_SECRET,
      AUTH_HS256_SECRET: undefined,
      CORS_ORIGINS: undefined,
    };
    // Started together: B fetches A's discovery document at its first request, not at startup.
    [a, b] = await Promise.all([
      startSample({
        ...shared,
        SAMPLE_PLATFORM: 'express',
        AUTH_ISSUER_URL: undefined,
        AUTH_AUDIENCE: AUDIENCE,
        DEV_IDP_PORT: String(idpPort),
      }),
      startSample({
        ...shared,
        SAMPLE_PLATFORM: 'fastify',
        AUTH_ISSUER_URL: issuer,
        AUTH_AUDIENCE: AUDIENCE,
      }),
    ]);
    await printedExport(a, 'TOKEN');
    await untilListening(b);
    // The development client's credentials, from the curl command A prints.
    const credentials = / -d client_id=(\S+) -d client_secret=(\S+) /.exec(a.output());
    if (!credentials) throw new Error(`A printed no token command:\n${a.output().slice(-2000)}`);
    const [, clientId, clientSecret] = credentials;

    // A DPoP-bound token from A's provider: client credentials with a proof (RFC 9449 §5).
    const { generateKeyPair, generateProof } = await import('dpop');
    const keyPair = await generateKeyPair('ES256');
    const tokenUrl = `${issuer}oauth/token`;
    const response = await fetch(tokenUrl, {
      method: 'POST',
      headers: { DPoP: await generateProof(keyPair, tokenUrl, 'POST') },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
        resource: AUDIENCE,
        scope: 'read:messages',
      }),
      signal: AbortSignal.timeout(5000),
    });
    const json = (await response.json()) as { access_token: string; token_type: string };
    if (response.status !== 200 || json.token_type !== 'DPoP') {
      throw new Error(
        `A's provider issued no DPoP-bound token: ${response.status} ${json.token_type}`,
      );
    }
    token = rememberToken(json.access_token);
    handedOut.push(token);
    proof = async (nonce) => {
      const made = await generateProof(keyPair, `${PUBLIC_URL}/api/private`, 'GET', nonce, token);
      handedOut.push(made);
      return rememberToken(made);
    };
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
  });

  /** What the balancer forwards to one instance: the same request, whichever instance gets it. */
  async function call(instance: SampleProcess, dpopProof: string) {
    const res = await fetch(`http://127.0.0.1:${instance.port}/api/private`, {
      headers: { Authorization: `DPoP ${token}`, DPoP: dpopProof },
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json()) as { error?: string; reason?: string; message?: string };
    return {
      status: res.status,
      body,
      nonce: res.headers.get('dpop-nonce'),
      challenge: res.headers.get('www-authenticate'),
    };
  }

  it('asks for a nonce (use_dpop_nonce), and B accepts the nonce A gave', async () => {
    const asked = await call(a, await proof());
    expect([asked.status, asked.body.error]).toEqual([401, 'use_dpop_nonce']);
    expect(asked.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const accepted = await call(b, await proof(asked.nonce!));
    expect(accepted.status).toBe(200);
    const forged = await call(b, await proof('a'.repeat(43)));
    expect([forged.status, forged.body.error]).toEqual([401, 'use_dpop_nonce']);
  });

  it('refuses on B the very request A accepted (a replay), and accepts a fresh proof', async () => {
    const nonce = (await call(a, await proof())).nonce!;
    const first = await proof(nonce);
    expect((await call(a, first)).status).toBe(200);
    const replay = await call(b, first);
    expect([replay.status, replay.body.error, replay.body.reason]).toEqual([
      401,
      'invalid_dpop_proof',
      'dpop_proof_replayed',
    ]);
    expect(replay.body.message).toMatch(/used before \(same jti\)/);
    expect(replay.challenge).toMatch(/^DPoP realm="api", error="invalid_dpop_proof"/);
    expect((await call(b, await proof(nonce))).status).toBe(200);
    // And the other way round: what B accepted, A refuses.
    const second = await proof(nonce);
    expect((await call(b, second)).status).toBe(200);
    expect((await call(a, second)).body.reason).toBe('dpop_proof_replayed');
  });

  it("prints no token, proof or nonce secret in B's logs", () => {
    expect(findLeaks(b.output().split('\n'), handedOut)).toEqual([]);
    expect(b.output()).not.toContain(NONCE_SECRET);
  });
});
