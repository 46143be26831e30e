import type { AuthModuleOptions } from './auth-options.interface';
import { checkProviderUrl } from './issuer/url-policy';
import { SUPPORTED_ALGORITHMS } from './token/check-jwt-header';

/** The options after validation, with every default filled in. */
export interface ResolvedAuthOptions {
  issuer: string;
  audiences: string[];
  jwksUri?: string;
  algorithms?: string[];
  clockToleranceSeconds: number;
  allowQueryToken: boolean;
  strict: boolean;
  realm: string;
  maxTokenLength: number;
  httpTimeoutMs: number;
  jwksCooldownMs: number;
}

/** An option of AuthModule is missing or wrong. */
export class AuthOptionsError extends Error {
  constructor(option: string, problem: string) {
    super(`AuthModule option '${option}': ${problem}.`);
    this.name = this.constructor.name;
  }
}

const SUPPORTED = new Set<string>(SUPPORTED_ALGORITHMS);

/** Validates the options once, at bootstrap, and fills in the defaults. */
export function resolveAuthOptions(options: AuthModuleOptions): ResolvedAuthOptions {
  if (typeof options !== 'object' || options === null)
    throw new AuthOptionsError('options', 'an options object is required');
  const { issuerUrl, audience, jwksUri, algorithms } = options;
  if (typeof issuerUrl !== 'string' || issuerUrl === '') {
    throw new AuthOptionsError(
      'issuerUrl',
      'is required (for Auth0: https://YOUR_TENANT.auth0.com/)',
    );
  }
  const issuerProblem = checkProviderUrl(issuerUrl);
  if (issuerProblem) throw new AuthOptionsError('issuerUrl', issuerProblem);
  if (jwksUri !== undefined) {
    const problem = typeof jwksUri === 'string' ? checkProviderUrl(jwksUri) : 'must be a string';
    if (problem) throw new AuthOptionsError('jwksUri', problem);
  }

  const audiences = typeof audience === 'string' ? [audience] : audience;
  if (
    !Array.isArray(audiences) ||
    audiences.length === 0 ||
    !audiences.every((a) => typeof a === 'string' && a !== '')
  ) {
    throw new AuthOptionsError(
      'audience',
      "is required: your API's identifier (Auth0: APIs > your API > Identifier)",
    );
  }

  if (algorithms !== undefined) {
    if (!Array.isArray(algorithms) || algorithms.length === 0) {
      throw new AuthOptionsError('algorithms', 'must be a non-empty array when set');
    }
    const unsupported = algorithms.filter((alg) => !SUPPORTED.has(alg));
    if (unsupported.length > 0) {
      throw new AuthOptionsError(
        'algorithms',
        `${unsupported.join(', ')} not supported; choose from ${SUPPORTED_ALGORITHMS.join(', ')} (never none or HMAC)`,
      );
    }
  }

  return {
    issuer: issuerUrl,
    audiences: [...audiences],
    ...(jwksUri !== undefined ? { jwksUri } : {}),
    ...(algorithms !== undefined ? { algorithms: [...algorithms] } : {}),
    clockToleranceSeconds: number(options, 'clockTolerance', 5, 0, 300),
    allowQueryToken: flag(options, 'allowQueryToken', false),
    strict: flag(options, 'strict', false),
    realm: text(options, 'realm', 'api'),
    maxTokenLength: number(options, 'maxTokenLength', 8192, 256, 65536),
    httpTimeoutMs: number(options, 'httpTimeoutMs', 5000, 100, 60000),
    jwksCooldownMs: number(options, 'jwksCooldownSeconds', 30, 1, 3600) * 1000,
  };
}

function number<K extends keyof AuthModuleOptions>(
  o: AuthModuleOptions,
  key: K,
  fallback: number,
  min: number,
  max: number,
): number {
  const value = o[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new AuthOptionsError(key, `must be a number from ${min} to ${max}`);
  }
  return value;
}

function flag<K extends keyof AuthModuleOptions>(
  o: AuthModuleOptions,
  key: K,
  fallback: boolean,
): boolean {
  const value = o[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new AuthOptionsError(key, 'must be true or false');
  return value;
}

function text<K extends keyof AuthModuleOptions>(
  o: AuthModuleOptions,
  key: K,
  fallback: string,
): string {
  const value = o[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/.test(value)) {
    throw new AuthOptionsError(key, 'must be printable ASCII without quotes or backslashes');
  }
  return value;
}
