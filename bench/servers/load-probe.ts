/**
 * Preloaded (`node -r`) into every server of the load curve, the sample and the peers included, so
 * that none of them is changed for the bench. Over IPC it answers:
 * - 'batches': how many requests arrived in each event-loop turn since the last ask (a histogram:
 *   batch size → turns), counted from Node's `http.server.request.start` diagnostics channel, a
 *   turn ending in the check phase (`setImmediate`), where this library's verifier releases its
 *   batch of signature checks;
 * - { sigProbe: { jwk, token, everyMs } } then 'sigProbeStop': while the server is under load, one
 *   raw RS256 `crypto.verify` with a parsed key every `everyMs`, timed alone ('first') and again
 *   right after ('second'), µs: the signature check as this server, at this load, does it.
 */
import { subscribe } from 'node:diagnostics_channel';
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';

let inTurn = 0;
let histogram = new Map<number, number>();
subscribe('http.server.request.start', () => {
  if (inTurn++ === 0) setImmediate(endTurn);
});
function endTurn(): void {
  histogram.set(inTurn, (histogram.get(inTurn) ?? 0) + 1);
  inTurn = 0;
}

let probe: { timer: NodeJS.Timeout; first: number[]; second: number[] } | undefined;

process.on('message', (message: unknown) => {
  if (message === 'batches') {
    process.send?.({ batches: [...histogram] });
    histogram = new Map();
  } else if (typeof message === 'object' && message !== null && 'sigProbe' in message) {
    const { jwk, token, everyMs } = (
      message as { sigProbe: { jwk: JsonWebKey; token: string; everyMs: number } }
    ).sigProbe;
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    const dot = token.lastIndexOf('.');
    const data = Buffer.from(token.slice(0, dot));
    const signature = Buffer.from(token.slice(dot + 1), 'base64url');
    const timed = () => {
      const start = process.hrtime.bigint();
      if (!verify('sha256', data, key, signature)) throw new Error('probe verify failed');
      return Number(process.hrtime.bigint() - start) / 1000;
    };
    const first: number[] = [];
    const second: number[] = [];
    const timer = setInterval(() => {
      first.push(timed());
      second.push(timed());
    }, everyMs);
    probe = { timer, first, second };
    process.send?.('probing');
  } else if (message === 'sigProbeStop' && probe) {
    clearInterval(probe.timer);
    process.send?.({ sigProbe: { first: probe.first, second: probe.second } });
    probe = undefined;
  }
});
