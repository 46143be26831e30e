import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { DpopOptions } from '../lib';

/**
 * The sample's DPoP options from the environment: `AUTH_DPOP=allowed|required|disabled` (default
 * `allowed`), `AUTH_DPOP_NONCE=on` for server nonces with `AUTH_DPOP_NONCE_SECRET` (at least 32
 * bytes, the same on every instance), `AUTH_PUBLIC_URL` for the URL clients address behind a proxy.
 */
export function sampleDpopOptions(env: (name: string) => string | undefined): DpopOptions {
  const mode = env('AUTH_DPOP') ?? 'allowed';
  if (mode !== 'allowed' && mode !== 'required' && mode !== 'disabled') {
    throw new Error(`AUTH_DPOP must be allowed, required or disabled, not "${mode}"`);
  }
  const publicBaseUrl = env('AUTH_PUBLIC_URL');
  const options: DpopOptions = { mode, ...(publicBaseUrl ? { publicBaseUrl } : {}) };
  if (env('AUTH_DPOP_NONCE') !== 'on') return options;
  let secret = env('AUTH_DPOP_NONCE_SECRET');
  if (!secret) {
    secret = randomBytes(32).toString('base64url');
    new Logger('DPoP').warn(
      'AUTH_DPOP_NONCE=on without AUTH_DPOP_NONCE_SECRET: this process made a nonce secret of its ' +
        "own, so instances behind one balancer refuse each other's nonces. Set the same " +
        'AUTH_DPOP_NONCE_SECRET (32 random bytes or more) on every instance.',
    );
  }
  return { ...options, nonce: { secret } };
}
