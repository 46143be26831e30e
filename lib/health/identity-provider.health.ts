// First: names the package to install when this entry's optional peer is missing.
// oxlint-disable-next-line import/no-unassigned-import
import '../peers/terminus.peer';
import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { KeyStoreHealth } from '../issuer/jwks-key-store';
import { TrustedIssuers } from '../issuer/trusted-issuers';

/**
 * A `@nestjs/terminus` indicator of the identity provider, for readiness probes: up while tokens
 * can be verified (the provider answers discovery and JWKS, or its keys are cached), down when it
 * cannot be reached and no key is cached, or when `issuerUrl` does not match it (with `reason:
 * 'issuer_misconfigured'` and a message naming the disagreement). It asks the module's own key store: cached fresh keys
 * answer without a request, and a probe never adds load the store's cooldowns would not allow.
 * With several issuers, each one's state is under `issuers` (by issuer URL), and the indicator is
 * up while at least one issuer's tokens can be verified: one tenant's outage does not take the
 * API's instances out of service for the others. With a `secret` (HS256), nothing is fetched: up.
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
    private readonly issuers: TrustedIssuers,
  ) {}

  /**
   * `up` with the number of keys and their age in seconds (`stale: true` when the provider fails
   * to answer a refresh and older keys serve), or `down` with the reason.
   */
  async isHealthy<const Key extends string>(key: Key): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.indicators.check(key);
    const states = await this.issuers.health();
    if (states.length === 0) return indicator.up({ keySource: 'secret' });
    if (states.length > 1) {
      const issuers = Object.fromEntries(
        states.map((state) => [
          state.issuer,
          { status: state.usable ? 'up' : 'down', ...describe(state) },
        ]),
      );
      if (states.some((state) => state.usable)) return indicator.up({ issuers });
      return indicator.down({
        issuers,
        message: states.some((state) => state.reason === 'issuer_misconfigured')
          ? "No trusted issuer's tokens can be verified: each is unreachable or misconfigured " +
            '(see its message), and none has a usable key cached.'
          : 'No trusted identity provider can be reached, and none has a usable key cached.',
      });
    }
    const [state] = states;
    const details = describe(state);
    if (state.usable) return indicator.up(details);
    return indicator.down({
      ...details,
      message: state.error ?? "The identity provider's key set has no usable key.",
    });
  }
}

function describe({ keys, ageMs, stale, error, reason }: KeyStoreHealth) {
  return {
    keys,
    ...(ageMs !== undefined ? { ageSeconds: Math.floor(ageMs / 1000), stale } : {}),
    ...(error ? { message: error } : {}),
    ...(reason ? { reason } : {}),
  };
}
