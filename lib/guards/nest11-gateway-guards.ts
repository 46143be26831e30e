import type { ModulesContainer } from '@nestjs/core';
import { AccessTokenGuard } from './access-token.guard';

/** @nestjs/websockets' gateway marker (read as a string: this file must not load the package). */
const GATEWAY_METADATA = 'websockets:is_gateway';
/** `@UseGuards()`' metadata key (NestJS 11 does not export GUARDS_METADATA from its index). */
const GUARDS_METADATA = '__guards__';

/** The major of the installed @nestjs/websockets, or undefined when it is not installed. */
export function websocketsMajor(): number | undefined {
  try {
    // NestJS 11 exposes its package.json; 12 does not export it (and needs none of this).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { version } = require('@nestjs/websockets/package.json') as { version: string };
    return Number(version.split('.')[0]);
  } catch {
    return undefined;
  }
}

/**
 * NestJS 11 never runs global guards (`APP_GUARD`) on WebSocket gateways (its SocketModule creates
 * their guards without the application config; 12 does). Without this, a gateway's `@Scopes()`
 * would go unchecked on 11: the module's guard instance is put first in every gateway class's
 * guards, before Nest binds their handlers. A guard instance an earlier app put there is replaced.
 * A no-op on NestJS 12 and without @nestjs/websockets.
 */
export function guardGatewaysOnNest11(
  modules: ModulesContainer,
  guard: AccessTokenGuard,
  major = websocketsMajor(),
): void {
  if (major === undefined || major >= 12) return;
  for (const module of modules.values()) {
    for (const wrapper of module.providers.values()) {
      const type = wrapper.metatype as object | null | undefined;
      if (typeof type !== 'function' || !Reflect.getMetadata(GATEWAY_METADATA, type)) continue;
      const guards = (Reflect.getMetadata(GUARDS_METADATA, type) ?? []) as unknown[];
      const others = guards.filter((entry) => !(entry instanceof AccessTokenGuard));
      Reflect.defineMetadata(GUARDS_METADATA, [guard, ...others], type);
    }
  }
}
