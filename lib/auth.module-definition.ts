import { ConfigurableModuleBuilder } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { AuthModuleExtras, AuthModuleOptions } from './auth-options.interface';
import { AccessTokenGuard } from './guards/access-token.guard';

export const {
  ConfigurableModuleClass: ConfigurableAuthModule,
  MODULE_OPTIONS_TOKEN: AUTH_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<AuthModuleOptions>({ moduleName: 'Auth' })
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
