import type { LoggerService } from '@nestjs/common';

/** Everything the Nest Logger printed during one test file, as text (bounded). */
const lines: string[] = [];
const MAX_LINES = 100_000;

/** Tokens a test file minted or handed out, to be looked for in the logs. */
const tokens = new Set<string>();

const describe = (message: unknown, params: unknown[]) =>
  [message, ...params]
    .map((part) => (part instanceof Error ? `${part.message} ${part.stack ?? ''}` : String(part)))
    .join(' ');

function record(level: string) {
  return (message: unknown, ...params: unknown[]) => {
    if (lines.length < MAX_LINES) lines.push(`${level} ${describe(message, params)}`);
  };
}

/** A Nest logger that keeps every line, at every level, debug and verbose included. */
export const capturingLogger: LoggerService = {
  log: record('log'),
  error: record('error'),
  warn: record('warn'),
  debug: record('debug'),
  verbose: record('verbose'),
  fatal: record('fatal'),
};

export function capturedLogs(): readonly string[] {
  return lines;
}

/** Registers a token that must never appear in the logs. */
export function rememberToken(token: string): string {
  tokens.add(token);
  return token;
}

/** A compact JWS anywhere in a text: header and payload are encoded JSON objects. */
const JWT_PATTERN = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/;

/**
 * The log lines that contain a remembered token, its signature segment, or anything shaped like a
 * signed JWT. The library logs only 12-character hashes of tokens.
 */
export function findLeaks(logLines: readonly string[], secrets: Iterable<string>): string[] {
  const needles = [...secrets].flatMap((token) => {
    const signature = token.split('.')[2];
    return signature && signature.length >= 16 ? [token, signature] : [token];
  });
  return logLines.filter(
    (line) =>
      JWT_PATTERN.test(line) ||
      needles.some((needle) => needle.length >= 16 && line.includes(needle)),
  );
}

export function rememberedTokens(): ReadonlySet<string> {
  return tokens;
}

/** Makes a development identity provider remember every token it hands out. */
export function rememberTokensOf<
  T extends {
    getAccessToken(scope?: string): Promise<string>;
    getOpaqueToken(options?: object): Promise<string>;
  },
>(idp: T): T {
  const { getAccessToken, getOpaqueToken } = idp;
  idp.getAccessToken = async (scope?: string) =>
    rememberToken(await getAccessToken.call(idp, scope));
  idp.getOpaqueToken = async (options?: object) =>
    rememberToken(await getOpaqueToken.call(idp, options));
  return idp;
}
