import type { GuardResponse } from '../errors/auth-http-exception';

/** Sets a header on an Express (`setHeader`) or Fastify (`header`) response. */
export function writeHeader(
  response: GuardResponse | undefined,
  name: string,
  value: string,
): void {
  if (typeof response?.setHeader === 'function') response.setHeader(name, value);
  else if (typeof response?.header === 'function') response.header(name, value);
}
