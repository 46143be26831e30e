import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { AuthModule } from '../lib';
import { ApiController } from './api.controller';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    AuthModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        issuerUrl: config.getOrThrow<string>('AUTH_ISSUER_URL'),
        audience: config
          .getOrThrow<string>('AUTH_AUDIENCE')
          .split(',')
          .map((audience) => audience.trim()),
      }),
    }),
  ],
  controllers: [ApiController],
})
export class AppModule {}
