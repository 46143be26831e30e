import {
  InsufficientScopeError,
  InvalidTokenError,
  IssuerUnavailableError,
  MissingTokenError,
} from '../errors/auth-error';
import { authErrorAnswer, buildChallenge } from '../errors/www-authenticate';

const challenge = {
  realm: 'api',
  resourceMetadataUrl: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
};
const param = `resource_metadata="${challenge.resourceMetadataUrl}"`;

describe('resource_metadata in challenges (RFC 9728 §5.1)', () => {
  it('is the last parameter of a challenge without an error code', () => {
    expect(buildChallenge(new MissingTokenError(), challenge)).toBe(`Bearer realm="api", ${param}`);
  });

  it('follows error, error_description and scope', () => {
    expect(buildChallenge(new InvalidTokenError('token_expired', 'Expired.'), challenge)).toBe(
      `Bearer realm="api", error="invalid_token", error_description="Expired.", ${param}`,
    );
    expect(buildChallenge(new InsufficientScopeError(['a'], 'Needs a.'), challenge)).toBe(
      `Bearer realm="api", error="insufficient_scope", scope="a", error_description="Needs a.", ${param}`,
    );
  });

  it('is absent when the app publishes no metadata', () => {
    expect(buildChallenge(new MissingTokenError(), { realm: 'api' })).toBe('Bearer realm="api"');
  });

  it('is not sent with a 503 (no challenge at all)', () => {
    const answer = authErrorAnswer(new IssuerUnavailableError('Down.', 5), challenge);
    expect(answer.headers).toEqual({ 'Retry-After': '5' });
  });
});
