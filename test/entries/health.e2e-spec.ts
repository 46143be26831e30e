import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { healthApp } from '../support/health.controller';
import { KeyServer } from '../support/key-server';

describe('IdentityProviderHealthIndicator (nest-oauth2-bearer/health)', () => {
  let keyServer: KeyServer;
  let app: INestApplication;

  beforeEach(async () => {
    keyServer = await KeyServer.start();
    app = await healthApp(keyServer.issuer, keyServer.audience);
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await app.close();
    await keyServer.stop();
  });

  const probe = () => request(app.getHttpServer()).get('/health');

  it('is up when the provider answers, and asks it nothing more while the keys are fresh', async () => {
    const res = await probe();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'ok',
      info: { identityProvider: { status: 'up', keys: 1, ageSeconds: 0, stale: false } },
    });
    expect(keyServer.fetches).toMatchObject({ discovery: 1, jwks: 1 });
    for (let i = 0; i < 5; i++) expect((await probe()).status).toBe(200);
    expect(keyServer.fetches).toMatchObject({ discovery: 1, jwks: 1 });
  });

  it('stays up while the provider is down and keys are cached, stale ones included', async () => {
    expect((await probe()).status).toBe(200);
    await keyServer.stop();
    expect((await probe()).body.info.identityProvider).toMatchObject({ status: 'up', keys: 1 });
    // Eleven minutes later the keys are past their age; the refresh fails, the keys still serve.
    const now = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(now + 11 * 60 * 1000);
    const stale = await probe();
    expect(stale.status).toBe(200);
    expect(stale.body.info.identityProvider).toMatchObject({
      status: 'up',
      keys: 1,
      stale: true,
      message: expect.stringContaining('could not be reached'),
    });
  });

  it('is down (503) when the provider cannot be reached and no key is cached', async () => {
    await keyServer.stop();
    const res = await probe();
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({
      status: 'error',
      error: {
        identityProvider: {
          status: 'down',
          keys: 0,
          message: expect.stringContaining('could not be reached'),
        },
      },
    });
  });

  it('is down when the provider answers a key set with no key', async () => {
    keyServer.jwksOverride = { keys: [] };
    const res = await probe();
    expect(res.status).toBe(503);
    expect(res.body.error.identityProvider).toMatchObject({ status: 'down', keys: 0 });
  });

  it.each([
    ['names another issuer than issuerUrl', 'mismatch'],
    ['publishes no metadata', 'no-metadata'],
  ] as const)(
    'is down with the configuration error, not an outage, when the provider %s',
    async (_, fault) => {
      await app.close();
      if (fault === 'no-metadata') keyServer.publishes = [];
      const issuerUrl =
        fault === 'mismatch' ? keyServer.issuer.replace(/\/$/, '') : keyServer.issuer;
      app = await healthApp(issuerUrl, keyServer.audience);
      const res = await probe();
      expect(res.status).toBe(503);
      expect(res.body.error.identityProvider).toMatchObject({
        status: 'down',
        keys: 0,
        reason: 'issuer_misconfigured',
      });
      expect(res.body.error.identityProvider.message).not.toMatch(
        /could not be reached|try again/i,
      );
    },
  );

  it('comes up once the provider answers again', async () => {
    keyServer.mode = 'error500';
    expect((await probe()).status).toBe(503);
    keyServer.mode = 'ok';
    // The store waits out its failure backoff (one second) before it asks again.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await probe()).status).toBe(200);
  });
});
