import { checkProviderUrl } from './url-policy';

describe('checkProviderUrl', () => {
  it.each([
    'https://tenant.auth0.com/',
    'https://idp.example.com:8443/realms/main',
    'http://127.0.0.1:4000/',
    'http://localhost/',
    'http://LOCALHOST:4000/',
    'http://[::1]:4000/',
  ])('allows %p', (url) => {
    expect(checkProviderUrl(url)).toBeUndefined();
  });

  it.each([
    'http://tenant.auth0.com/',
    'http://localhost.attacker.example/',
    'http://127.0.0.1.nip.io/',
    'http://localhost@attacker.example/',
    'http://10.0.0.1/',
    'ftp://localhost/',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'tenant.auth0.com',
    '/relative/path',
    '',
  ])('refuses %p, naming it', (url) => {
    expect(checkProviderUrl(url)).toContain(`"${url}"`);
  });
});

describe('checkProviderUrl with white space', () => {
  it.each([
    'https://tenant.auth0.com/\n',
    ' https://tenant.auth0.com/',
    'https://tenant.auth0.com/ x',
  ])('refuses %j', (value) => {
    expect(checkProviderUrl(value)).toMatch(/white space/);
  });
});
