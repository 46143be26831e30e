const TOKEN = Symbol('nest-oauth2-bearer:token');

interface TokenCarrier {
  [TOKEN]?: string;
}

/** Keeps the request's extracted token on the request, out of sight of JSON and logs. */
export function attachToken(request: object, token: string): void {
  Object.defineProperty(request, TOKEN, {
    value: token,
    enumerable: false,
    configurable: true,
    writable: true,
  });
}

/** The token the guard extracted from this request, if any. */
export function attachedToken(request: object): string | undefined {
  return (request as TokenCarrier)[TOKEN];
}
