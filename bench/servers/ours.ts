import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AuthModule, Public } from '../../lib';
import { benchEnv, reportMemoryOnRequest } from './report-memory';

/** This library: AuthModule with the global guard; opaque tokens through userinfo. */
@Controller()
class BenchController {
  @Public()
  @Get('public')
  open() {
    return { ok: true };
  }

  @Get('private')
  private() {
    return { ok: true };
  }
}

async function main() {
  const { issuer, audience, port } = benchEnv();
  @Module({
    imports: [
      AuthModule.forRoot({
        issuerUrl: issuer,
        audience,
        opaqueTokens: 'userinfo',
        ...(process.env.BENCH_NO_CACHE ? { verifiedTokenCache: false } : {}),
      }),
    ],
    controllers: [BenchController],
  })
  class BenchModule {}
  // BENCH_PLATFORM=fastify: the same app on Fastify.
  const app =
    process.env.BENCH_PLATFORM === 'fastify'
      ? await NestFactory.create(BenchModule, new FastifyAdapter(), { logger: false })
      : await NestFactory.create(BenchModule, { logger: false });
  await app.listen(port, '127.0.0.1');
  reportMemoryOnRequest();
  process.send?.('ready');
}

void main();
