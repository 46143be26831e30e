import { createHash, X509Certificate } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A key pair and its self-signed certificate, in PEM. */
export interface TlsIdentity {
  key: string;
  cert: string;
  /** The certificate's DER. */
  der: Buffer;
  /** RFC 8705 `x5t#S256`: base64url of the SHA-256 of the DER. */
  thumbprint: string;
}

/**
 * Self-signed certificates made for this run by openssl in a temporary folder, deleted at once:
 * no key is ever written to the repository. `server` is valid for 127.0.0.1.
 */
export function makeTlsIdentities<N extends string>(
  ...clients: N[]
): { server: TlsIdentity } & Record<N, TlsIdentity> {
  const dir = mkdtempSync(join(tmpdir(), 'mtls-'));
  try {
    const make = (name: string, extra: string[]): TlsIdentity => {
      const key = join(dir, `${name}.key`);
      const cert = join(dir, `${name}.crt`);
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'].concat([
          '-keyout',
          key,
          '-out',
          cert,
          '-days',
          '1',
          '-subj',
          `/CN=${name}`,
          ...extra,
        ]),
        { stdio: 'ignore' },
      );
      const certPem = readFileSync(cert, 'utf8');
      const der = Buffer.from(new X509Certificate(certPem).raw);
      return {
        key: readFileSync(key, 'utf8'),
        cert: certPem,
        der,
        thumbprint: createHash('sha256').update(der).digest('base64url'),
      };
    };
    const identities: Record<string, TlsIdentity> = {
      server: make('server', ['-addext', 'subjectAltName=IP:127.0.0.1']),
    };
    for (const client of clients) identities[client] = make(client, []);
    return identities as { server: TlsIdentity } & Record<N, TlsIdentity>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface TlsAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/**
 * GET `url` on a new connection (no agent, so no TLS session is reused), over HTTPS with the
 * client certificate `client` (if any) and `ca` trusted, or over plain HTTP. `headers` values that
 * are arrays become one header line each.
 */
export function tlsGet(
  url: string,
  {
    ca,
    client,
    headers = {},
  }: { ca?: string; client?: TlsIdentity; headers?: Record<string, string | string[]> } = {},
): Promise<TlsAnswer> {
  const target = new URL(url);
  // Headers as a raw list (so that a header may repeat): Node then adds no Host of its own.
  const lines = ['Host', target.host].concat(
    Object.entries(headers).flatMap(([name, value]) =>
      (Array.isArray(value) ? value : [value]).flatMap((v) => [name, v]),
    ),
  );
  return new Promise((resolve, reject) => {
    const options = {
      hostname: target.hostname,
      port: target.port,
      path: target.pathname + target.search,
      method: 'GET',
      agent: false as const,
      headers: lines,
    };
    const req =
      target.protocol === 'https:'
        ? httpsRequest({
            ...options,
            ca,
            ...(client ? { key: client.key, cert: client.cert } : {}),
          })
        : httpRequest(options);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          body = { text };
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`GET ${url} timed out`)));
    req.end();
  });
}
