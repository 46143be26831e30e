import { IssuerUnavailableError } from '../errors/auth-error';
import { fetchJson, RemoteFetchError, type FetchLimits } from '../issuer/fetch-json';
import { upstreamFailure } from './userinfo-client';

/** An RFC 7662 introspection response, its members checked by type before use. */
export interface IntrospectionResponse {
  active: boolean;
  scope?: string;
  sub?: string;
  exp?: number;
  aud?: string | string[];
  iss?: string;
  client_id?: string;
  [member: string]: unknown;
}

export interface IntrospectionCredentials {
  clientId: string;
  clientSecret: string;
}

/**
 * Introspects a token (RFC 7662 §2) with the resource server's client credentials
 * (`client_secret_basic`). A 401 here means our credentials are wrong: a 503 and a logged
 * configuration error, never a refusal that blames the caller.
 */
export async function introspectToken(
  endpoint: string,
  token: string,
  credentials: IntrospectionCredentials,
  limits: FetchLimits,
): Promise<IntrospectionResponse> {
  const basic = Buffer.from(
    `${encodeURIComponent(credentials.clientId)}:${encodeURIComponent(credentials.clientSecret)}`,
  ).toString('base64');
  let body: unknown;
  try {
    body = await fetchJson(endpoint, limits, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
    });
  } catch (error) {
    if (error instanceof RemoteFetchError && (error.status === 401 || error.status === 403)) {
      throw new IssuerUnavailableError(
        'The API could not authenticate to the introspection endpoint (check introspection.clientId ' +
          'and clientSecret); try again later.',
        60,
        { cause: error },
      );
    }
    throw upstreamFailure(error, 'introspection');
  }
  const response = body as Partial<IntrospectionResponse> | null;
  if (typeof response !== 'object' || response === null || typeof response.active !== 'boolean') {
    throw new IssuerUnavailableError(
      'The introspection endpoint answered without an active member; try again shortly.',
      5,
    );
  }
  return response as IntrospectionResponse;
}
