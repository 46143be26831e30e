/** A NumericDate as ISO 8601 for a message; out-of-range values (1e308) are shown as they are. */
export function formatNumericDate(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? `${seconds} (seconds since 1970)` : date.toISOString();
}
