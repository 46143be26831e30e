import 'reflect-metadata';
import { createPublicKey, verify } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import jwt from 'jsonwebtoken';
import {
  AccessTokenStrategy,
  AccessTokenVerifier,
  AuthModule,
  type AuthModuleOptions,
} from '../lib';
import { attachToken } from '../lib/token/attached-token';
import type { KeyServer } from '../test/support/key-server';

/** Microseconds per token of each verification path, in process, medians of three passes. */
export interface VerifyCosts {
  rawParsedKey: number;
  rawPemEachTime: number;
  jsonwebtoken: number;
  directPath: number;
  passportPath: number;
  cachedToken: number;
}

export async function measureVerifyPaths(ks: KeyServer, tokens: string[]): Promise<VerifyCosts> {
  /** An application context with AuthModule and `options`, and its strategy. */
  async function strategyWith(options: Partial<AuthModuleOptions>) {
    @Module({
      imports: [
        AuthModule.forRoot({
          issuerUrl: ks.issuer,
          audience: ks.audience,
          globalGuard: false,
          ...options,
        }),
      ],
    })
    class VerifyModule {}
    const context = await NestFactory.createApplicationContext(VerifyModule, { logger: false });
    return {
      context,
      strategy: context.get(AccessTokenStrategy),
      verifier: context.get(AccessTokenVerifier),
    };
  }
  const { context, strategy, verifier } = await strategyWith({ verifiedTokenCache: false });
  const { context: cached, verifier: cachedVerifier } = await strategyWith({});
  const publicKey = createPublicKey({ key: ks.key.publicJwk as never, format: 'jwk' });
  const pem = publicKey.export({ format: 'pem', type: 'spki' });

  async function perToken(run: (token: string) => unknown): Promise<number> {
    const passes: number[] = [];
    for (let pass = 0; pass < 3; pass++) {
      const started = process.hrtime.bigint();
      for (const token of tokens) await run(token);
      passes.push(Number(process.hrtime.bigint() - started) / 1000 / tokens.length);
    }
    return passes.sort((a, b) => a - b)[1];
  }
  /** The event loop's busy time per token, with `inFlight` checks running at once. */
  async function eventLoopPerToken(run: (token: string) => Promise<unknown>, inFlight = 64) {
    const passes: number[] = [];
    for (let pass = 0; pass < 3; pass++) {
      const before = performance.eventLoopUtilization();
      let next = 0;
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (next < tokens.length) await run(tokens[next++]);
        }),
      );
      const busy = performance.eventLoopUtilization(before).active;
      passes.push((busy * 1000) / tokens.length);
    }
    return passes.sort((a, b) => a - b)[1];
  }
  const raw = (key: typeof publicKey | string | Buffer) => (token: string) => {
    const dot = token.lastIndexOf('.');
    return verify(
      'sha256',
      Buffer.from(token.slice(0, dot)),
      key,
      Buffer.from(token.slice(dot + 1), 'base64url'),
    );
  };
  await verifier.verify(tokens[0]);
  await cachedVerifier.verify(tokens[0]);
  const costs: VerifyCosts = {
    rawParsedKey: await perToken(raw(publicKey)),
    rawPemEachTime: await perToken(raw(pem)),
    jsonwebtoken: await perToken((token) =>
      jwt.verify(token, publicKey, { algorithms: ['RS256'] }),
    ),
    // The verifier's checks wait for the loop turn's batch: 64 in flight, as on a busy server.
    directPath: await eventLoopPerToken((token) => verifier.verify(token)),
    passportPath: await perToken((token) => {
      const request = { headers: { authorization: `Bearer ${token}` } };
      attachToken(request, token);
      return strategy.authenticateWithPassport(request, {});
    }),
    cachedToken: await eventLoopPerToken(() => cachedVerifier.verify(tokens[0])),
  };
  await context.close();
  await cached.close();
  return costs;
}
