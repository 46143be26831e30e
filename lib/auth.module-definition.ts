import { ConfigurableModuleBuilder, type ConfigurableModuleCls } from '@nestjs/common';
import { APP_GUARD, ModulesContainer } from '@nestjs/core';
import type { AuthModuleExtras, AuthModuleOptions } from './options/auth-options.interface';
import { AccessTokenGuard } from './guards/access-token.guard';
import { guardGatewaysOnNest11 } from './guards/nest11-gateway-guards';

/** Its factory guards WebSocket gateways on NestJS 11, which skips global guards there. */
const NEST11_GATEWAY_GUARDS = Symbol('NEST11_GATEWAY_GUARDS');

const built = new ConfigurableModuleBuilder<AuthModuleOptions>({
  moduleName: 'Auth',
  // A private token: the raw options hold the introspection secret; nothing outside injects them.
  optionsInjectionToken: Symbol('nest-oauth2-bearer:module-options'),
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createAuthOptions')
  .setExtras<Required<AuthModuleExtras>>(
    { isGlobal: true, globalGuard: true },
    (definition, extras) => ({
      ...definition,
      global: extras.isGlobal,
      providers: extras.globalGuard
        ? [
            ...(definition.providers ?? []),
            { provide: APP_GUARD, useExisting: AccessTokenGuard },
            {
              provide: NEST11_GATEWAY_GUARDS,
              inject: [ModulesContainer, AccessTokenGuard],
              useFactory: guardGatewaysOnNest11,
            },
          ]
        : definition.providers,
    }),
  )
  .build();

// Spelled out so the published declaration names the class type directly (NestJS 11 and 12 both
// export it) rather than through an inferred import type.
export const ConfigurableAuthModule: ConfigurableModuleCls<
  AuthModuleOptions,
  'forRoot',
  'createAuthOptions',
  Required<AuthModuleExtras>
> = built.ConfigurableModuleClass;
export const AUTH_MODULE_OPTIONS: string | symbol = built.MODULE_OPTIONS_TOKEN;
