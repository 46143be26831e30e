import type { AuthModuleOptions } from '../lib';

/**
 * The sample's issuers and key source from its environment: `AUTH_ISSUER_URL` may list several
 * issuers separated by commas (custom domains of one tenant, several tenants, a migration), and
 * `AUTH_HS256_SECRET` switches to HS256 tokens signed with that secret. Opaque tokens (checked
 * with /userinfo) need exactly one issuer: with several, they are off.
 */
export function sampleIssuerOptions(
  read: (name: string) => string | undefined,
): Pick<AuthModuleOptions, 'issuerUrl' | 'secret' | 'opaqueTokens'> {
  const issuers = (read('AUTH_ISSUER_URL') ?? '')
    .split(',')
    .map((issuer) => issuer.trim())
    .filter((issuer) => issuer !== '');
  if (issuers.length === 0) throw new Error('AUTH_ISSUER_URL is required.');
  const secret = read('AUTH_HS256_SECRET');
  return {
    issuerUrl: issuers.length === 1 ? issuers[0] : issuers,
    ...(secret ? { secret } : {}),
    ...(issuers.length === 1 ? { opaqueTokens: 'userinfo' as const } : {}),
  };
}
