/**
 * The token the guard extracted, per request. Kept beside the request rather than on it: nothing
 * can serialise or log it with the request, and the request object keeps its shape (defining a
 * property on Express's request measured several µs a request).
 */
const TOKENS = new WeakMap<object, string>();

/** Remembers `token` as the one the guard extracted from `request`. */
export function attachToken(request: object, token: string): void {
  TOKENS.set(request, token);
}

/** The token the guard extracted from this request, if any. */
export function attachedToken(request: object): string | undefined {
  return TOKENS.get(request);
}
