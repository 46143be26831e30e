import { AuthOptionsError } from '../errors/auth-options-error';
/** How an API treats certificate-bound tokens (RFC 8705 §3): accepted with their certificate, or refused. */
export type MtlsMode = 'allowed' | 'disabled';

/**
 * How a TLS-terminating proxy forwards the client certificate: `rfc9440`, the `Client-Cert`
 * header of RFC 9440 (the DER as a structured-field byte sequence, `:<base64>:`; HAProxy:
 * `:%[ssl_c_der,base64]:`); `url-encoded-pem`, a URL-encoded PEM certificate (nginx's
 * `$ssl_client_escaped_cert`, AWS ALB's `X-Amzn-Mtls-Clientcert`).
 */
export type CertificateHeaderEncoding = 'rfc9440' | 'url-encoded-pem';

/** A request header a trusted proxy puts the client's certificate in. */
export interface CertificateHeaderOptions {
  /** The header's name, such as `client-cert` or `x-client-cert` (compared case-insensitively). */
  name: string;
  /** How the proxy encodes the certificate. */
  encoding: CertificateHeaderEncoding;
}

/** Options of certificate-bound tokens (RFC 8705): the `mtls` option of AuthModuleOptions. */
export interface MtlsOptions {
  /**
   * `allowed`: a token with `cnf["x5t#S256"]` is accepted only on a request whose TLS client
   * certificate has that SHA-256 thumbprint (unbound tokens are unaffected, so this is safe as a
   * default). `disabled`: every certificate-bound token is refused (`unsupported_cnf`).
   * @default 'allowed'
   */
  mode?: MtlsMode;
  /**
   * Behind a proxy that terminates TLS: the header it forwards the client certificate in. The
   * connection's own certificate is then ignored. Only behind a proxy that sets the header itself
   * and strips it from every client request: otherwise a client could claim any certificate it
   * has seen (its public part is enough to forge the header).
   * @default none: the certificate of the TLS connection to the app
   */
  certificateHeader?: CertificateHeaderOptions;
}

/** The mTLS options after validation, with defaults: what `ResolvedAuthOptions.mtls` holds. */
export interface ResolvedMtlsOptions {
  mode: MtlsMode;
  /** The trusted header, its name in lower case. */
  certificateHeader?: CertificateHeaderOptions;
}

const OPTION_NAMES = ['mode', 'certificateHeader'];
const HEADER_OPTION_NAMES = ['name', 'encoding'];
/** An HTTP field name (RFC 9110 §5.1). */
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers that carry something else the library reads: never a certificate. */
const RESERVED_HEADERS = new Set(['authorization', 'dpop', 'host', 'cookie', 'content-length']);

/**
 * Validates the `mtls` option and fills in its defaults; a bad value throws an `AuthOptionsError`
 * that names it.
 */
export function resolveMtlsOptions(value: unknown): ResolvedMtlsOptions {
  if (value === undefined) return { mode: 'allowed' };
  if (!isRecord(value))
    throw new AuthOptionsError('mtls', "must be an object such as { mode: 'allowed' }");
  const unknown = Object.keys(value).find((key) => !OPTION_NAMES.includes(key));
  if (unknown) {
    throw new AuthOptionsError(
      `mtls.${unknown}`,
      `is not an option; the options here are ${OPTION_NAMES.join(', ')}`,
    );
  }
  const mode = value.mode ?? 'allowed';
  if (mode !== 'allowed' && mode !== 'disabled') {
    throw new AuthOptionsError('mtls.mode', "must be 'allowed' or 'disabled'");
  }
  const header = value.certificateHeader;
  if (header === undefined) return { mode };
  if (!isRecord(header)) {
    throw new AuthOptionsError(
      'mtls.certificateHeader',
      "must be { name, encoding } such as { name: 'client-cert', encoding: 'rfc9440' }",
    );
  }
  const extra = Object.keys(header).find((key) => !HEADER_OPTION_NAMES.includes(key));
  if (extra) {
    throw new AuthOptionsError(
      `mtls.certificateHeader.${extra}`,
      'is not an option; the options here are name, encoding',
    );
  }
  const { name, encoding } = header;
  if (typeof name !== 'string' || !FIELD_NAME.test(name)) {
    throw new AuthOptionsError(
      'mtls.certificateHeader.name',
      'must be an HTTP header name such as client-cert',
    );
  }
  if (RESERVED_HEADERS.has(name.toLowerCase())) {
    throw new AuthOptionsError(
      'mtls.certificateHeader.name',
      `cannot be ${name}: choose the header your proxy sets`,
    );
  }
  if (encoding !== 'rfc9440' && encoding !== 'url-encoded-pem') {
    throw new AuthOptionsError(
      'mtls.certificateHeader.encoding',
      "must be 'rfc9440' (Client-Cert: :<base64 DER>:) or 'url-encoded-pem' (nginx's $ssl_client_escaped_cert)",
    );
  }
  return { mode, certificateHeader: { name: name.toLowerCase(), encoding } };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
