/**
 * What the guard keeps per request: the token it extracted and the response it answers on. Kept
 * beside the request rather than on it: nothing can serialise or log the token with the request,
 * and the request object keeps its shape (defining a property on Express's request measured
 * several µs a request).
 */
interface Attached {
  token: string;
  response: object | undefined;
}

const ATTACHED = new WeakMap<object, Attached>();

/** Remembers `token` as the one the guard extracted from `request`, answered on `response`. */
export function attachToken(request: object, token: string, response?: object): void {
  ATTACHED.set(request, { token, response });
}

/** The token the guard extracted from this request, if any. */
export function attachedToken(request: object): string | undefined {
  return ATTACHED.get(request)?.token;
}

/** The response of a request whose token the guard extracted, if it was given one. */
export function attachedResponse(request: object): object | undefined {
  return ATTACHED.get(request)?.response;
}
