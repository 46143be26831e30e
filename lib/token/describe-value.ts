/**
 * Renders untrusted text (a claim, a header value) for an error description or a log line:
 * printable ASCII only, truncated. Never pass a token here.
 */
export function describeValue(value: unknown, max = 80): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    text = typeof value;
  }
  const printable = text.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, "'");
  return printable.length > max ? `${printable.slice(0, max)}...` : printable;
}
