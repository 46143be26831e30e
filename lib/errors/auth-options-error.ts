// The one error type for a bad option, and the checks every component's options use: each names
// the option's path (`dpop.iatWindowSeconds`) and says what is wrong and how to fix it.

/** An option of AuthModule is missing or wrong. */
export class AuthOptionsError extends Error {
  constructor(option: string, problem: string) {
    super(`AuthModule option '${option}': ${problem}${/[.?]$/.test(problem) ? '' : '.'}`);
    this.name = this.constructor.name;
  }
}

/**
 * Refuses a key of `value` that is not an option, naming the nearest option: a typo such as
 * `audiance` stops the application instead of leaving the option at its default.
 */
export function refuseUnknownKeys(
  value: object,
  names: object,
  prefix: string,
  /** Keys that are not options here but belong elsewhere, with what to say of them. */
  elsewhere: Record<string, string> = {},
): void {
  for (const key of Object.keys(value)) {
    if (Object.hasOwn(names, key)) continue;
    const option = `${prefix}${key}`;
    if (Object.hasOwn(elsewhere, key)) throw new AuthOptionsError(option, elsewhere[key]);
    const nearest = nearestName(key, Object.keys(names));
    throw new AuthOptionsError(
      option,
      nearest
        ? `is not an option; did you mean '${prefix}${nearest}'?`
        : `is not an option; the options here are ${Object.keys(names).join(', ')}`,
    );
  }
}

/** The option name closest to `key` (case-insensitive edit distance), when it is close enough. */
export function nearestName(key: string, names: readonly string[]): string | undefined {
  const wanted = key.toLowerCase();
  // A shortened or lengthened name (`issuer` for `issuerUrl`, `clockToleranceSeconds`).
  const prefixed = names.find((name) => {
    const lower = name.toLowerCase();
    return wanted.length >= 3 && (lower.startsWith(wanted) || wanted.startsWith(lower));
  });
  if (prefixed) return prefixed;
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = editDistance(wanted, name.toLowerCase());
    if (!best || distance < best.distance) best = { name, distance };
  }
  if (!best) return undefined;
  const allowed = Math.max(2, Math.ceil(key.length / 3));
  return best.distance <= allowed ? best.name : undefined;
}

/** Levenshtein distance, with adjacent transpositions counted as one edit. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0].push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let distance = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        distance = Math.min(distance, rows[i - 2][j - 2] + 1);
      }
      rows[i].push(distance);
    }
  }
  return rows[a.length][b.length];
}

/** A number option within [min, max], or `fallback` when unset. */
export function optionNumber(
  value: unknown,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new AuthOptionsError(name, `must be a number from ${min} to ${max}`);
  }
  return value;
}

/** A boolean option, or `fallback` when unset. */
export function optionFlag(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new AuthOptionsError(name, 'must be true or false');
  return value;
}

/** Printable ASCII fit for a quoted challenge parameter, or `fallback` when unset. */
export function optionText(value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^[\x20\x21\x23-\x5b\x5d-\x7e]+$/.test(value)) {
    throw new AuthOptionsError(name, 'must be printable ASCII without quotes or backslashes');
  }
  return value;
}
