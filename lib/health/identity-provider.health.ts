// First: names the package to install when this entry's optional peer is missing.
// oxlint-disable-next-line import/no-unassigned-import
import '../peers/terminus.peer';
import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { JwksKeyStore } from '../issuer/jwks-key-store';

/**
 * A `@nestjs/terminus` indicator of the identity provider, for readiness probes: up while tokens
 * can be verified (the provider answers discovery and JWKS, or its keys are cached), down when it
 * cannot be reached and no key is cached. It asks the module's own key store: cached fresh keys
 * answer without a request, and a probe never adds load the store's cooldowns would not allow.
 * Import it from `nest-oauth2-bearer/health`, and provide it beside `TerminusModule`.
 *
 * @example
 * @Public() @Get('health') @HealthCheck()
 * check() { return this.health.check([() => this.identityProvider.isHealthy('identityProvider')]); }
 */
@Injectable()
export class IdentityProviderHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly keyStore: JwksKeyStore,
  ) {}

  /**
   * `up` with the number of keys and their age in seconds (`stale: true` when the provider fails
   * to answer a refresh and older keys serve), or `down` with the reason.
   */
  async isHealthy<const Key extends string>(key: Key): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.indicators.check(key);
    const { usable, keys, ageMs, stale, error } = await this.keyStore.health();
    const details = {
      keys,
      ...(ageMs !== undefined ? { ageSeconds: Math.floor(ageMs / 1000), stale } : {}),
      ...(error ? { message: error } : {}),
    };
    if (usable) return indicator.up(details);
    return indicator.down({
      ...details,
      message: error ?? "The identity provider's key set has no usable key.",
    });
  }
}
