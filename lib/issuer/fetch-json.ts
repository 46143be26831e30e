import { MAX_JSON_DEPTH, nestingDepth } from '../token/json-depth';
import { utf8Text } from '../token/strict-decoding';

/** Why a remote document could not be had. */
export type FetchFailure =
  'timeout' | 'network' | 'status' | 'too_large' | 'invalid_encoding' | 'invalid_json' | 'redirect';

export class RemoteFetchError extends Error {
  constructor(
    readonly failure: FetchFailure,
    message: string,
    options?: {
      cause?: unknown;
      /** The HTTP status, for `status` failures. */
      status?: number;
      /** The server's `Retry-After`, in seconds, when it sent one. */
      retryAfterSeconds?: number;
    },
  ) {
    super(message, options);
    this.name = this.constructor.name;
    this.status = options?.status;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  readonly status?: number;
  readonly retryAfterSeconds?: number;
}

/** A request other than a plain GET: userinfo carries the token, introspection POSTs it. */
export interface FetchInit {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

export interface FetchLimits {
  /** Whole-request timeout in milliseconds, connection to last byte. */
  timeoutMs: number;
  /** Largest body accepted, in bytes. */
  maxBytes: number;
}

/**
 * Fetches a JSON document with a timeout and a size cap, and without following redirects (a
 * redirect could lead anywhere); a body that is not UTF-8 is refused (`invalid_encoding`). Every
 * outbound call of the library goes through here.
 */
export async function fetchJson(
  url: string,
  limits: FetchLimits,
  init: FetchInit = {},
): Promise<unknown> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, {
      signal,
      redirect: 'manual',
      method: init.method ?? 'GET',
      headers: { accept: 'application/json', ...init.headers },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
  } catch (error) {
    throw wrap(error, url, signal);
  }
  try {
    if (response.status >= 300 && response.status < 400) {
      throw new RemoteFetchError(
        'redirect',
        `${url} answered a redirect (${response.status}); redirects are not followed.`,
      );
    }
    if (!response.ok) {
      const retryAfterHeader = response.headers.get('retry-after');
      const retryAfter = retryAfterHeader === null ? NaN : Number(retryAfterHeader);
      throw new RemoteFetchError('status', `${url} answered HTTP ${response.status}.`, {
        status: response.status,
        ...(Number.isInteger(retryAfter) && retryAfter >= 0
          ? { retryAfterSeconds: retryAfter }
          : {}),
      });
    }
    const declared = Number(response.headers.get('content-length'));
    if (declared > limits.maxBytes) throw tooLarge(url, limits);
    const text = await readCapped(response, url, limits);
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw new RemoteFetchError('invalid_json', `${url} did not answer valid JSON.`, {
        cause: error,
      });
    }
    if (nestingDepth(document, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      throw new RemoteFetchError(
        'invalid_json',
        `${url} answered JSON nested deeper than ${MAX_JSON_DEPTH}.`,
      );
    }
    return document;
  } catch (error) {
    await response.body?.cancel().catch(() => undefined);
    throw error instanceof RemoteFetchError ? error : wrap(error, url, signal);
  }
}

async function readCapped(response: Response, url: string, limits: FetchLimits): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limits.maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(url, limits);
    }
    chunks.push(value);
  }
  // JSON between systems is UTF-8 (RFC 8259 §8.1): invalid bytes are refused, never replaced.
  const text = utf8Text(Buffer.concat(chunks));
  if (text === undefined) {
    throw new RemoteFetchError(
      'invalid_encoding',
      `${url} answered a body that is not valid UTF-8 (RFC 8259 §8.1).`,
    );
  }
  return text;
}

function tooLarge(url: string, limits: FetchLimits): RemoteFetchError {
  return new RemoteFetchError('too_large', `${url} answered more than ${limits.maxBytes} bytes.`);
}

function wrap(error: unknown, url: string, signal: AbortSignal): RemoteFetchError {
  if (signal.aborted)
    return new RemoteFetchError('timeout', `${url} did not answer in time.`, { cause: error });
  return new RemoteFetchError('network', `${url} could not be reached.`, { cause: error });
}
