import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Public } from '../lib';
import { IdentityProviderHealthIndicator } from '../lib/health/identity-provider.health';

/**
 * Readiness: 200 while tokens can be verified (the identity provider answers, or its keys are
 * cached), 503 when it cannot be reached and no key is cached.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly identityProvider: IdentityProviderHealthIndicator,
  ) {}

  @Public()
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.identityProvider.isHealthy('identityProvider')]);
  }
}
