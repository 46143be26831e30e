import { ConfigurableModuleBuilder, type ConfigurableModuleCls } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { AuthModuleExtras, AuthModuleOptions } from './auth-options.interface';
import { AccessTokenGuard } from './guards/access-token.guard';

const built = new ConfigurableModuleBuilder<AuthModuleOptions>({ moduleName: 'Auth' })
  .setClassMethodName('forRoot')
  .setExtras<Required<AuthModuleExtras>>(
    { isGlobal: true, globalGuard: true },
    (definition, extras) => ({
      ...definition,
      global: extras.isGlobal,
      providers: extras.globalGuard
        ? [...(definition.providers ?? []), { provide: APP_GUARD, useExisting: AccessTokenGuard }]
        : definition.providers,
    }),
  )
  .build();

// Spelled out so the published declaration names the class type directly (NestJS 11 and 12 both
// export it) rather than through an inferred import type.
export const ConfigurableAuthModule: ConfigurableModuleCls<
  AuthModuleOptions,
  'forRoot',
  'create',
  Required<AuthModuleExtras>
> = built.ConfigurableModuleClass;
export const AUTH_MODULE_OPTIONS: string | symbol = built.MODULE_OPTIONS_TOKEN;
