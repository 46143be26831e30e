import type { AccessTokenClaims } from './validate-claims';

/** A route's scope requirement: all of the scopes, or at least one of them. */
export interface ScopeRequirement {
  mode: 'all' | 'any';
  scopes: readonly string[];
}

/** A scope-token (RFC 6749 §3.3): one or more NQCHAR, so no space, quote or backslash. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * The scopes a token grants: `scope` (space-separated), `scp` (string or array) and Auth0's
 * RBAC `permissions` (array). Values must have been type-checked by `validateClaims`.
 */
export function grantedScopes(
  claims: Pick<AccessTokenClaims, 'scope' | 'scp' | 'permissions'>,
): Set<string> {
  const granted = new Set<string>();
  const add = (value: string | readonly string[] | undefined, split: boolean) => {
    if (value === undefined) return;
    const items = typeof value === 'string' ? (split ? value.split(' ') : [value]) : value;
    for (const item of items) if (SCOPE_TOKEN.test(item)) granted.add(item);
  };
  add(claims.scope, true);
  add(claims.scp, true);
  add(claims.permissions, false);
  return granted;
}

/** The requirements that `granted` fails; empty when every requirement holds. Matching is exact. */
export function unmetRequirements(
  granted: ReadonlySet<string>,
  requirements: readonly ScopeRequirement[],
): ScopeRequirement[] {
  return requirements.filter((req) =>
    req.mode === 'all'
      ? !req.scopes.every((s) => granted.has(s))
      : !req.scopes.some((s) => granted.has(s)),
  );
}

/**
 * Every scope `requirements` name, once each, in declaration order: what a challenge's `scope`
 * asks for. An any-of requirement names all its scopes, as a client cannot ask for "one of": a
 * token granted them all meets it.
 */
export function requiredScopes(requirements: readonly ScopeRequirement[]): string[] {
  return [...new Set(requirements.flatMap((requirement) => requirement.scopes))];
}

/**
 * A scope requirement in words, for refusals: "the scope read:messages", "the scopes
 * read:messages and write:messages", "one of the scopes read:messages, admin".
 */
export function describeRequirement({ mode, scopes }: ScopeRequirement): string {
  if (scopes.length === 1) return `the scope ${scopes[0]}`;
  return mode === 'all'
    ? `the scopes ${scopes.join(' and ')}`
    : `one of the scopes ${scopes.join(', ')}`;
}
