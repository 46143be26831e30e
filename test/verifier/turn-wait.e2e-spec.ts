import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { AccessTokenVerifier } from '../../lib';
import { createFixtureApp } from '../support/create-fixture-app';
import { KeyServer } from '../support/key-server';

/**
 * A token whose signature must be checked waits for the event loop's check phase, to be checked
 * with the other requests of the turn (turnBatch); a bearer token the verified-token cache holds
 * has no signature to check and is answered at once. At light load, one request per turn, the wait
 * was a promise and a phase for nothing (bench/RESULTS.md, "Cost across load").
 */
describe('which verifications wait for the turn', () => {
  let ks: KeyServer;
  let app: INestApplication;
  let verifier: AccessTokenVerifier;

  beforeAll(async () => {
    ks = await KeyServer.start();
    app = await createFixtureApp(
      { issuerUrl: ks.issuer, audience: ks.audience },
      { keepVerifiedTokenCache: true },
    );
    verifier = app.get(AccessTokenVerifier);
  });

  afterAll(async () => {
    await app.close();
    await ks.stop();
  });

  /** The order in which the verification and an immediate queued just before it settle. */
  async function order(token: string): Promise<string[]> {
    const seen: string[] = [];
    setImmediate(() => seen.push('check phase'));
    await verifier.verify(token).then(() => seen.push('verified'));
    await new Promise((resolve) => setImmediate(resolve));
    return seen;
  }

  it('checks a new token in the check phase, with the turn', async () => {
    expect(await order(ks.token({ jti: randomUUID() }))).toStrictEqual(['check phase', 'verified']);
  });

  it('answers a bearer token the cache holds before the check phase', async () => {
    const token = ks.token({ jti: randomUUID() });
    // The cache takes a token on its second use (its doorkeeper): the third is answered from it.
    await verifier.verify(token);
    await verifier.verify(token);
    expect(await order(token)).toStrictEqual(['verified', 'check phase']);
  });
});
