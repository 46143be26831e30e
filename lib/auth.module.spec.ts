import { MODULE_METADATA } from '@nestjs/common/constants';
import { RESOLVED_AUTH_OPTIONS } from './auth.constants';
import { AuthModule } from './auth.module';
import * as barrel from './index';

describe('AuthModule exports', () => {
  it('exports to other modules only what lib/index.ts exports, and the options token', () => {
    const exported = Reflect.getMetadata(MODULE_METADATA.EXPORTS, AuthModule) as unknown[];
    const publicValues = new Set<unknown>(Object.values(barrel));
    const internal = exported.filter(
      (token) => token !== RESOLVED_AUTH_OPTIONS && !publicValues.has(token),
    );
    expect(internal.map((token) => (token as { name?: string }).name ?? String(token))).toEqual([]);
  });
});
