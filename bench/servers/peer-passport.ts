import 'reflect-metadata';
import { Controller, Get, Injectable, Module, UseGuards } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import { passportJwtSecret } from 'jwks-rsa';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { benchEnv, reportMemoryOnRequest } from './report-memory';

const { issuer, audience, port } = benchEnv();

/** The pattern of Auth0's NestJS sample: passport-jwt with jwks-rsa's passportJwtSecret. */
@Injectable()
class JwtStrategy extends PassportStrategy(Strategy) {
  constructor() {
    super({
      secretOrKeyProvider: passportJwtSecret({
        cache: true,
        rateLimit: true,
        jwksRequestsPerMinute: 5,
        jwksUri: `${issuer}.well-known/jwks.json`,
      }),
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      audience,
      issuer,
      algorithms: ['RS256'],
    });
  }

  validate(payload: unknown) {
    return payload;
  }
}

@Controller()
class BenchController {
  @Get('public')
  open() {
    return { ok: true };
  }

  @UseGuards(AuthGuard('jwt'))
  @Get('private')
  private() {
    return { ok: true };
  }
}

@Module({ imports: [PassportModule], controllers: [BenchController], providers: [JwtStrategy] })
class BenchModule {}

async function main() {
  const app = await NestFactory.create(BenchModule, { logger: false });
  await app.listen(port, '127.0.0.1');
  reportMemoryOnRequest();
  process.send?.('ready');
}

void main();
