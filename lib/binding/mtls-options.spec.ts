import { AuthOptionsError } from '../errors/auth-options-error';
import { resolveAuthOptions } from '../options/resolve-auth-options';
import { resolveMtlsOptions } from './mtls-options';

describe('resolveMtlsOptions', () => {
  it('allows certificate-bound tokens by default, with no trusted header', () => {
    expect(resolveMtlsOptions(undefined)).toEqual({ mode: 'allowed' });
    expect(resolveMtlsOptions({})).toEqual({ mode: 'allowed' });
  });

  it('keeps a trusted header, its name in lower case', () => {
    expect(
      resolveMtlsOptions({
        certificateHeader: { name: 'X-Client-Cert', encoding: 'url-encoded-pem' },
      }),
    ).toEqual({
      mode: 'allowed',
      certificateHeader: { name: 'x-client-cert', encoding: 'url-encoded-pem' },
    });
  });

  it.each([
    ['a string', 'on', 'mtls', /must be an object/],
    ['an unknown option', { header: 'x' }, 'mtls.header', /not an option; .*certificateHeader/],
    ['a mode of DPoP', { mode: 'required' }, 'mtls.mode', /'allowed' or 'disabled'/],
    [
      'a header as a bare name',
      { certificateHeader: 'client-cert' },
      'mtls.certificateHeader',
      /\{ name, encoding \}/,
    ],
    [
      'a header name with a space',
      { certificateHeader: { name: 'client cert', encoding: 'rfc9440' } },
      'mtls.certificateHeader.name',
      /HTTP header name/,
    ],
    [
      'the Authorization header',
      { certificateHeader: { name: 'Authorization', encoding: 'rfc9440' } },
      'mtls.certificateHeader.name',
      /cannot be Authorization/,
    ],
    [
      'no encoding',
      { certificateHeader: { name: 'client-cert' } },
      'mtls.certificateHeader.encoding',
      /'rfc9440'.*'url-encoded-pem'/,
    ],
    [
      'an unknown encoding',
      { certificateHeader: { name: 'client-cert', encoding: 'xfcc' } },
      'mtls.certificateHeader.encoding',
      /'rfc9440'/,
    ],
    [
      'an extra header option',
      { certificateHeader: { name: 'client-cert', encoding: 'rfc9440', trust: true } },
      'mtls.certificateHeader.trust',
      /not an option/,
    ],
  ])('refuses %s, naming the option', (_case, mtls, option, problem) => {
    const resolve = () =>
      resolveAuthOptions({
        issuerUrl: 'https://tenant.auth0.com/',
        audience: 'https://api.example.com',
        mtls: mtls as never,
      });
    expect(resolve).toThrow(AuthOptionsError);
    expect(resolve).toThrow(`AuthModule option '${option}'`);
    expect(resolve).toThrow(problem);
  });
});
