import { InvalidTokenError, IssuerUnavailableError } from '../errors/auth-error';
import { fetchJson, RemoteFetchError, type FetchLimits } from '../issuer/fetch-json';
import type { UserProfile } from '../token/auth-user';
import { claimTypeProblem } from '../token/validate-claims';
import { MalformedAnswerError } from './malformed-answer';

/**
 * Asks `/userinfo` (OpenID Connect Core §5.3) about a token. 200 with a profile: the token is good;
 * 401/403: it is not (401 `invalid_token`); 429, 5xx, timeouts and garbage (including registered
 * claims of the wrong type, {@link MalformedAnswerError}): 503.
 */
export async function requestUserinfo(
  endpoint: string,
  token: string,
  limits: FetchLimits,
): Promise<UserProfile> {
  let body: unknown;
  try {
    body = await fetchJson(endpoint, limits, { headers: { authorization: `Bearer ${token}` } });
  } catch (error) {
    throw upstreamFailure(error, 'userinfo');
  }
  const profile = body as Partial<UserProfile> | null;
  if (
    typeof profile !== 'object' ||
    profile === null ||
    typeof profile.sub !== 'string' ||
    profile.sub === ''
  ) {
    throw new IssuerUnavailableError(
      'The identity provider answered /userinfo without a subject; try again shortly.',
      5,
    );
  }
  const problem = claimTypeProblem(profile);
  if (problem) throw new MalformedAnswerError('userinfo', problem);
  return profile as UserProfile;
}

/** Maps a failed call to the provider: a refusal of the token, or the provider's unavailability. */
export function upstreamFailure(error: unknown, endpoint: 'userinfo' | 'introspection'): Error {
  if (error instanceof RemoteFetchError && error.failure === 'invalid_encoding') {
    return new MalformedAnswerError(endpoint, 'invalid_utf8');
  }
  if (error instanceof RemoteFetchError && (error.status === 401 || error.status === 403)) {
    return new InvalidTokenError(
      'token_rejected_by_issuer',
      `The identity provider's ${endpoint} endpoint refused the access token: it is invalid, expired or revoked.`,
      { cause: error },
    );
  }
  const rateLimited = error instanceof RemoteFetchError && error.status === 429;
  const retryAfter = error instanceof RemoteFetchError ? error.retryAfterSeconds : undefined;
  return new IssuerUnavailableError(
    rateLimited
      ? `The identity provider is rate-limiting ${endpoint} calls; try again later.`
      : `The identity provider's ${endpoint} endpoint could not be reached; try again shortly.`,
    retryAfter ?? (rateLimited ? 60 : 5),
    { cause: error },
  );
}
