import type { JsonWebKey } from 'node:crypto';
import { rawVerifyMicros } from './servers/report-memory';

/**
 * The idle verify process of `npm run bench`, pinned to the load generator's core: between rounds
 * (never while a load runs), it measures a raw RS256 `crypto.verify` with a parsed key.
 */
process.on('message', (message: { jwk: JsonWebKey; tokens: string[] } | 'exit') => {
  if (message === 'exit') process.exit(0);
  process.send?.({ rawVerifyMicros: rawVerifyMicros(message.jwk, message.tokens) });
});
process.send?.('ready');
