import { MODULE_METADATA } from '@nestjs/common/constants';
import { RESOLVED_AUTH_OPTIONS } from './auth.constants';
import { AuthModule } from './auth.module';
import { TrustedIssuers } from './issuer/trusted-issuers';
import * as barrel from './index';

describe('AuthModule exports', () => {
  it('exports to other modules only what lib/index.ts exports, and what it names on purpose', () => {
    const exported = Reflect.getMetadata(MODULE_METADATA.EXPORTS, AuthModule) as unknown[];
    const publicValues = new Set<unknown>(Object.values(barrel));
    // The options token (@InjectAuthOptions()); the trusted issuers' key stores, for the health
    // indicator that an application provides in its own module (nest-oauth2-bearer/health).
    const deliberate = new Set<unknown>([RESOLVED_AUTH_OPTIONS, TrustedIssuers]);
    const internal = exported.filter((token) => !deliberate.has(token) && !publicValues.has(token));
    expect(internal.map((token) => (token as { name?: string }).name ?? String(token))).toEqual([]);
  });
});
