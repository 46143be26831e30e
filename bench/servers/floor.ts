// Hand-written, and never a library path: the bench's floor (issue 24), the least checks a request
// with a token needs, made the plain way (one request at a time, no batch). It checks far less than
// the library (a bearer token's exp, iss and aud only; a DPoP proof's signature, cnf, ath and jti
// only: no iat window, htm or htu). Not a lower bound: batched, the library's new token has cost less
// (bench/RESULTS.md); a target the floor meets is within reach in the same Nest app.
import 'reflect-metadata';
import {
  Controller,
  Get,
  Injectable,
  Module,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { APP_GUARD, NestFactory, Reflector } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import KeyvRedis from '@keyv/redis';
import { createHash, createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { jwkThumbprint } from '../../test/support/dpop-proofs';
import { benchEnv, reportMemoryOnRequest } from './report-memory';

const OPEN = 'bench:open';
const LOCAL = 'bench:local';
const BEARER = 'bench:bearer';

/**
 * The floor: `/public` is open; `/bearer` takes an RS256 bearer token, remembered once verified
 * under its SHA-256 (as the library's verified-token cache keys it), until its `exp`; `/private` takes a DPoP-bound RS256 token and its ES256 proof, and
 * records the proof's `jti` with Redis `SET NX PX` through the client `@keyv/redis` gives (the
 * client the library uses); `/private-local` does the same checks and records the `jti` in a
 * bounded in-process Set.
 */
@Controller()
class FloorController {
  @Get('public')
  open() {
    return { ok: true };
  }

  @Get('private')
  private() {
    return { ok: true };
  }

  @Get('private-local')
  privateLocal() {
    return { ok: true };
  }

  @Get('bearer')
  bearer() {
    return { ok: true };
  }
}
Reflect.defineMetadata(OPEN, true, FloorController.prototype.open);
Reflect.defineMetadata(LOCAL, true, FloorController.prototype.privateLocal);
Reflect.defineMetadata(BEARER, true, FloorController.prototype.bearer);

interface RedisSet {
  set(key: string, value: string, options: { NX: true; PX: number }): Promise<unknown>;
}

const b64 = (part: string) =>
  JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>;

@Injectable()
class FloorGuard implements CanActivate {
  /** The proof keys seen, by their JWK's JSON: parsed and thumbprinted once. */
  private readonly proofKeys = new Map<string, { key: KeyObject; jkt: string }>();
  private readonly local = new Set<string>();
  /** Bearer tokens verified, by their SHA-256: their claims. */
  private readonly users = new Map<string, Record<string, unknown>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly tokenKeys: Map<string, KeyObject>,
    private readonly redis: RedisSet | undefined,
    private readonly issuer: string,
    private readonly audience: string,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const handler = context.getHandler();
    if (this.reflector.get(OPEN, handler)) return true;
    const request = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, string>; user?: unknown }>();
    if (this.reflector.get(BEARER, handler)) {
      request.user = this.bearer(request.headers.authorization ?? '');
      return true;
    }
    return this.dpop(context, request.headers);
  }

  private bearer(header: string): Record<string, unknown> {
    if (!header.startsWith('Bearer ')) throw new UnauthorizedException();
    const token = header.slice('Bearer '.length);
    const digest = createHash('sha256').update(token).digest('base64url');
    const now = Date.now() / 1000;
    const known = this.users.get(digest);
    if (known && (known.exp as number) > now) return known;
    const claims = this.verifiedClaims(token);
    const ok =
      claims !== undefined &&
      (claims.exp as number) > now &&
      claims.iss === this.issuer &&
      (claims.aud === this.audience ||
        (Array.isArray(claims.aud) && claims.aud.includes(this.audience)));
    if (!ok) throw new UnauthorizedException();
    if (this.users.size >= 10_000) this.users.clear();
    this.users.set(digest, claims);
    return claims;
  }

  /** The claims of an RS256 token whose signature verifies with the issuer's key of its `kid`. */
  private verifiedClaims(token: string): Record<string, unknown> | undefined {
    const [th, tp, ts] = token.split('.');
    const key = this.tokenKeys.get(b64(th).kid as string);
    return key && verify('sha256', Buffer.from(`${th}.${tp}`), key, Buffer.from(ts, 'base64url'))
      ? b64(tp)
      : undefined;
  }

  private async dpop(context: ExecutionContext, headers: Record<string, string>): Promise<boolean> {
    // BENCH_FLOOR_DEFER: the checks wait for the event loop's check phase first, as the library's
    // turn batch makes them (a request then spans as many turns as the library's).
    if (process.env.BENCH_FLOOR_DEFER) await new Promise((resolve) => setImmediate(resolve));
    const token = headers.authorization?.slice('DPoP '.length) ?? '';
    const [ph, pp, ps] = (headers.dpop ?? '').split('.');
    const proofHeader = b64(ph);
    const jwkText = JSON.stringify(proofHeader.jwk);
    let proofKey = this.proofKeys.get(jwkText);
    if (!proofKey && this.proofKeys.size < 1000) {
      const jwk = proofHeader.jwk as JsonWebKey;
      proofKey = {
        key: createPublicKey({ key: jwk, format: 'jwk' }),
        jkt: jwkThumbprint(jwk as Record<string, unknown>),
      };
      this.proofKeys.set(jwkText, proofKey);
    }
    const proof = b64(pp);
    const ok =
      proofKey !== undefined &&
      verify(
        'sha256',
        Buffer.from(`${ph}.${pp}`),
        { key: proofKey.key, dsaEncoding: 'ieee-p1363' },
        Buffer.from(ps, 'base64url'),
      ) &&
      (this.verifiedClaims(token)?.cnf as { jkt?: string } | undefined)?.jkt === proofKey.jkt &&
      proof.ath === createHash('sha256').update(token).digest('base64url');
    if (!ok) throw new UnauthorizedException();
    const key = createHash('sha256')
      .update(`${proofKey!.jkt} ${String(proof.jti)}`)
      .digest('base64url');
    if (this.reflector.get(LOCAL, context.getHandler())) {
      if (this.local.has(key)) throw new UnauthorizedException();
      if (this.local.size >= 1_000_000) this.local.clear();
      this.local.add(key);
      return true;
    }
    if (!this.redis) throw new Error('BENCH_REDIS_URL missing');
    const first = await this.redis.set(`floor:${key}`, '1', { NX: true, PX: 300_000 });
    if (first !== 'OK') throw new UnauthorizedException();
    return true;
  }
}

async function fetchTokenKeys(issuer: string): Promise<Map<string, KeyObject>> {
  const discovery = (await (
    await fetch(
      new URL('.well-known/openid-configuration', issuer.endsWith('/') ? issuer : `${issuer}/`),
      { signal: AbortSignal.timeout(5000) },
    )
  ).json()) as {
    jwks_uri: string;
  };
  const { keys } = (await (
    await fetch(discovery.jwks_uri, { signal: AbortSignal.timeout(5000) })
  ).json()) as { keys: JsonWebKey[] };
  return new Map(
    keys.map((jwk) => [jwk.kid as string, createPublicKey({ key: jwk, format: 'jwk' })]),
  );
}

async function main() {
  const { issuer, audience, port } = benchEnv();
  const keys = await fetchTokenKeys(issuer);
  const url = process.env.BENCH_REDIS_URL;
  const redis = url
    ? ((await new KeyvRedis({ url }).getClient()) as unknown as RedisSet)
    : undefined;
  @Module({
    controllers: [FloorController],
    providers: [
      {
        provide: APP_GUARD,
        inject: [Reflector],
        useFactory: (reflector: Reflector) =>
          new FloorGuard(reflector, keys, redis, issuer, audience),
      },
    ],
  })
  class FloorModule {}
  // BENCH_PLATFORM=fastify: the same app on Fastify.
  const app =
    process.env.BENCH_PLATFORM === 'fastify'
      ? await NestFactory.create(FloorModule, new FastifyAdapter(), { logger: false })
      : await NestFactory.create(FloorModule, { logger: false });
  await app.listen(port, '127.0.0.1');
  reportMemoryOnRequest();
  process.send?.('ready');
}

void main();
