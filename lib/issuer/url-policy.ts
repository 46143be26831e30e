import { AuthOptionsError } from '../errors/auth-options-error';
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Whether a URL may be used to reach an identity provider: https anywhere, plain http only on a
 * loopback host (for local development and tests). Returns a reason when it may not.
 */
export function checkProviderUrl(value: string): string | undefined {
  if (/\s/.test(value)) {
    return `"${value}" contains white space (a stray newline in an environment variable?)`;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not an absolute URL`;
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)) return undefined;
  if (url.protocol === 'http:') {
    return `"${value}" uses http on a host that is not loopback (127.0.0.1, localhost, ::1); use https`;
  }
  return `"${value}" must be an https URL`;
}

/** An optional provider URL option, validated by {@link checkProviderUrl}. */
export function providerUrlOption(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  const problem = typeof value === 'string' ? checkProviderUrl(value) : 'must be a string';
  if (problem) throw new AuthOptionsError(name, problem);
  return value as string;
}
