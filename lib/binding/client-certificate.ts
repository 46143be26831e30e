import { X509Certificate } from 'node:crypto';
import { InvalidRequestError, InvalidTokenError } from '../errors/auth-error';
import { headerValues } from './token-presentation';
import type { CertificateHeaderOptions, ResolvedMtlsOptions } from './mtls-options';

/** The socket of a request: a TLSSocket over HTTPS, a plain one over HTTP. */
interface RequestSocket {
  encrypted?: boolean;
  getPeerCertificate?(detailed?: boolean): { raw?: Uint8Array } | null;
}

/** The parts of an HTTP request (Express, or Fastify's with Node's under `raw`) a certificate comes from. */
export interface CertificateRequest {
  headers: Record<string, string | string[] | undefined>;
  rawHeaders?: readonly string[];
  socket?: RequestSocket;
  raw?: { rawHeaders?: readonly string[]; socket?: RequestSocket };
}

/** Longest certificate header accepted (a client certificate is 1 to 3 KiB; chains are not sent). */
const MAX_HEADER_LENGTH = 16 * 1024;

/**
 * The DER of the client certificate a request presented: the trusted proxy header's when
 * `certificateHeader` is set, else the TLS connection's. Throws `certificate_missing` (saying why)
 * when there is none, and `certificate_header_malformed` (400) for a header that is not one
 * certificate. The certificate is only hashed: its chain, dates and names are the TLS layer's
 * business (`requestCert`, `rejectUnauthorized`), and RFC 8705 §3 allows self-signed ones.
 */
export function clientCertificate(
  request: CertificateRequest,
  options: ResolvedMtlsOptions,
): Uint8Array {
  if (options.certificateHeader) return headerCertificate(request, options.certificateHeader);
  const socket = request.raw?.socket ?? request.socket;
  if (!socket?.encrypted || typeof socket.getPeerCertificate !== 'function') {
    throw missing(
      'the request did not come over TLS: send it over HTTPS with that certificate (behind a ' +
        'proxy that terminates TLS, set mtls.certificateHeader)',
    );
  }
  const raw = socket.getPeerCertificate(false)?.raw;
  if (!(raw instanceof Uint8Array) || raw.length === 0) {
    throw missing(
      'the TLS connection presented no client certificate: connect with the certificate the token ' +
        'was issued for (the server must request one: requestCert: true)',
    );
  }
  return raw;
}

function headerCertificate(
  request: CertificateRequest,
  header: CertificateHeaderOptions,
): Uint8Array {
  const rawHeaders = request.rawHeaders ?? request.raw?.rawHeaders;
  const values = headerValues(rawHeaders, request.headers, header.name);
  if (values.length > 1) {
    throw malformed(
      header,
      `the request carries ${values.length} ${header.name} headers; the proxy must send one`,
    );
  }
  const value = values[0]?.trim() ?? '';
  if (value === '') {
    throw missing(
      `the trusted proxy sent no client certificate (no ${header.name} header): connect to it with ` +
        'the certificate the token was issued for',
    );
  }
  if (value.length > MAX_HEADER_LENGTH) {
    throw malformed(header, `it is longer than ${MAX_HEADER_LENGTH} characters`);
  }
  const der = header.encoding === 'rfc9440' ? fromByteSequence(value) : fromEscapedPem(value);
  if (der === undefined) {
    throw malformed(
      header,
      header.encoding === 'rfc9440'
        ? 'it is not an RFC 9440 byte sequence (:<base64 of the DER certificate>:)'
        : 'it is not one URL-encoded PEM certificate (-----BEGIN CERTIFICATE----- ...)',
    );
  }
  if (!isCertificate(der)) throw malformed(header, 'its content is not an X.509 certificate');
  return der;
}

function isCertificate(der: Uint8Array): boolean {
  try {
    return new X509Certificate(der).raw.length > 0;
  } catch {
    return false;
  }
}

/** RFC 8941 §3.3.5 byte sequence: `:` base64 `:`. */
function fromByteSequence(value: string): Uint8Array | undefined {
  const match = /^:([A-Za-z0-9+/]+={0,2}):$/.exec(value);
  if (!match || match[1].length % 4 !== 0) return undefined;
  return Buffer.from(match[1], 'base64');
}

const PEM = /^-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----\s*$/;

function fromEscapedPem(value: string): Uint8Array | undefined {
  let pem: string;
  try {
    pem = decodeURIComponent(value);
  } catch {
    return undefined;
  }
  const body = PEM.exec(pem.trim())?.[1].replace(/\s+/g, '');
  if (!body || !/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 !== 0) return undefined;
  return Buffer.from(body, 'base64');
}

function missing(why: string): InvalidTokenError {
  return new InvalidTokenError(
    'certificate_missing',
    `The access token is bound to a client certificate (cnf x5t#S256, RFC 8705), but ${why}.`,
  );
}

function malformed(header: CertificateHeaderOptions, why: string): InvalidRequestError {
  return new InvalidRequestError(
    'certificate_header_malformed',
    `The client certificate header ${header.name} (encoding ${header.encoding}) cannot be read: ${why}.`,
  );
}
