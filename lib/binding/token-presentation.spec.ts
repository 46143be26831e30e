import type { InvalidRequestError } from '../errors/auth-error';
import {
  headerValues,
  httpPresentation,
  requestUrl,
  type PresentedRequest,
} from './token-presentation';

const plain = { trustForwardedHeaders: false };
const request = (overrides: Partial<PresentedRequest> = {}): PresentedRequest => ({
  method: 'POST',
  url: '/api/messages?page=2#top',
  headers: { host: 'API.example.com:8443' },
  ...overrides,
});

describe('requestUrl', () => {
  it('is the scheme of the connection, the Host header and the path, without query and fragment', () => {
    expect(requestUrl(request(), plain)).toBe('http://api.example.com:8443/api/messages');
    expect(requestUrl(request({ socket: { encrypted: true } }), plain)).toBe(
      'https://api.example.com:8443/api/messages',
    );
    // Fastify: Node's request (the URL the client sent) under raw; Express: originalUrl, the URL
    // before routers rewrote it.
    expect(
      requestUrl(
        request({ url: '/rewritten', raw: { url: '/original?x', socket: { encrypted: true } } }),
        plain,
      ),
    ).toBe('https://api.example.com:8443/original');
    expect(requestUrl(request({ originalUrl: '/mounted/api', url: '/api' }), plain)).toBe(
      'http://api.example.com:8443/mounted/api',
    );
  });

  it('reads the path of an absolute-form target, and names no URL for one that is not a URL', () => {
    expect(requestUrl(request({ url: 'http://proxy.example/api/x?y=1' }), plain)).toBe(
      'http://api.example.com:8443/api/x',
    );
    expect(requestUrl(request({ url: 'http://[bad' }), plain)).toBeUndefined();
  });

  it('uses publicBaseUrl when set, whatever the Host header says', () => {
    const options = { publicBaseUrl: 'https://api.example.com', trustForwardedHeaders: false };
    expect(requestUrl(request({ headers: { host: 'evil.example' } }), options)).toBe(
      'https://api.example.com/api/messages',
    );
  });

  it('reads X-Forwarded-Proto and X-Forwarded-Host only when trusted, first value only', () => {
    const headers = {
      host: 'internal:3000',
      'x-forwarded-proto': 'https, http',
      'x-forwarded-host': ['Public.example.com', 'other.example'],
    };
    expect(requestUrl(request({ headers }), { trustForwardedHeaders: true })).toBe(
      'https://public.example.com/api/messages',
    );
    expect(requestUrl(request({ headers }), plain)).toBe('http://internal:3000/api/messages');
    expect(
      requestUrl(request({ headers: { ...headers, 'x-forwarded-proto': 'ftp' } }), {
        trustForwardedHeaders: true,
      }),
    ).toBeUndefined();
  });

  it("falls back to HTTP/2's :authority, and names no URL without any host", () => {
    expect(requestUrl(request({ headers: { ':authority': 'h2.example.com' } }), plain)).toBe(
      'http://h2.example.com/api/messages',
    );
    expect(requestUrl(request({ headers: {} }), plain)).toBeUndefined();
    expect(requestUrl(request({ headers: { host: ' , x' } }), plain)).toBeUndefined();
  });
});

describe('requestUrl and the Host header (RFC 9112 §3.2, RFC 3986 §3.2.2)', () => {
  const refusal = (headers: PresentedRequest['headers'], trustForwardedHeaders = false) => {
    try {
      requestUrl(request({ url: '/api/me', headers }), { trustForwardedHeaders });
    } catch (error) {
      return {
        status: (error as InvalidRequestError).status,
        reason: (error as InvalidRequestError).reason,
      };
    }
    return undefined;
  };

  it.each([
    'api.example.com/api/public?',
    'api.example.com/api/public#',
    'api.example.com#x',
    'localhost:3000/api/public?',
    'user@api.example.com',
    'api.example.com:80:81',
    'api.example.com:port',
    '[::1',
    'api example.com',
    'api.example.com\\x',
  ])('refuses the Host %j with 400 invalid_request, never reading a path from it', (host) => {
    expect(refusal({ host })).toEqual({ status: 400, reason: 'invalid_host_header' });
  });

  it('refuses a trusted X-Forwarded-Host, and HTTP/2 :authority, that is not host[:port]', () => {
    expect(
      refusal({ host: 'api.example.com', 'x-forwarded-host': 'api.example.com/x?' }, true),
    ).toEqual({
      status: 400,
      reason: 'invalid_host_header',
    });
    expect(refusal({ ':authority': 'h2.example.com/x#' })).toEqual({
      status: 400,
      reason: 'invalid_host_header',
    });
  });

  it('accepts every valid authority: names, IPv4, IPv6 literals, ports', () => {
    for (const host of [
      'api.example.com',
      'API.example.com:8443',
      '10.0.0.7:8080',
      '[::1]:3000',
      'my_host-1.internal',
      'api.example.com:',
    ]) {
      expect(refusal({ host })).toBeUndefined();
    }
    expect(requestUrl(request({ url: '/api/me?x', headers: { host: '[::1]:3000' } }), plain)).toBe(
      'http://[::1]:3000/api/me',
    );
  });
});

describe('headerValues', () => {
  it('gives one value per header line from the raw list, whatever the case of the name', () => {
    const raw = ['Host', 'h', 'DPoP', 'first', 'dpop', 'second', 'Accept', '*/*'];
    expect(headerValues(raw, {}, 'dpop')).toEqual(['first', 'second']);
    expect(headerValues(['DPoP'], {}, 'dpop')).toEqual([]);
  });

  it('reads the parsed headers when there is no raw list', () => {
    expect(headerValues(undefined, { dpop: 'one' }, 'dpop')).toEqual(['one']);
    expect(headerValues(undefined, { dpop: ['a', 'b'] }, 'dpop')).toEqual(['a', 'b']);
    expect(headerValues(undefined, {}, 'dpop')).toEqual([]);
  });
});

describe('httpPresentation', () => {
  it('looks for DPoP proofs only when the token came with the DPoP scheme', () => {
    const withProof = request({ rawHeaders: ['Host', 'api.example.com', 'DPoP', 'proof'] });
    expect(httpPresentation(withProof, 'DPoP', plain).dpopProofs).toEqual(['proof']);
    expect(httpPresentation(withProof, 'Bearer', plain).dpopProofs).toEqual([]);
    const presented = httpPresentation(request({ method: undefined }), 'Bearer', plain);
    expect([presented.method, presented.url(), presented.urlFromClientHost]).toEqual([
      'GET',
      'http://api.example.com:8443/api/messages',
      true,
    ]);
  });
});
