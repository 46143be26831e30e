import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { IssuerConfigurationError, type IssuerDiscovery } from './issuer-discovery';

/**
 * Reads the provider's discovery document once at startup, in the background (startup never waits
 * for it and never fails by it), so that an `issuerUrl` that differs from the published issuer,
 * or that publishes no metadata at all, is logged at error level when the application starts, not
 * after the first request. The metadata it fetches (or the configuration error it meets) is the
 * one requests would fetch first: they find it cached.
 */
export class IssuerStartupCheck implements OnApplicationBootstrap, OnApplicationShutdown {
  private stopped = false;
  /** The check under way, for tests. */
  done: Promise<void> = Promise.resolve();

  constructor(
    /** Every trusted issuer's discovery (none with a secret and no opaque tokens). */
    private readonly discoveries: readonly IssuerDiscovery[],
    private readonly logger: Pick<Logger, 'error'> = new Logger('AuthModule'),
  ) {}

  onApplicationBootstrap(): void {
    this.done = Promise.all(
      this.discoveries.map((discovery) =>
        discovery.getMetadata().then(
          () => undefined,
          (error: unknown) => {
            // Other failures (the provider is down) are told by the first request that needs keys.
            if (error instanceof IssuerConfigurationError && !this.stopped)
              this.logger.error(error.message);
          },
        ),
      ),
    ).then(() => undefined);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
  }
}
