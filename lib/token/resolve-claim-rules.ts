import { isClaimRule, type ClaimRule } from './claim-rules';

/**
 * The module's `claimRules`, checked: an array of rules made by the helpers. Returns the problem
 * as `[option, problem]` for `AuthOptionsError`.
 */
export function resolveClaimRules(value: unknown): ClaimRule[] | [string, string] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    return ['claimRules', 'must be an array of rules (claimEquals, claimIncludes, claimCheck)'];
  }
  const bad = value.findIndex((rule) => !isClaimRule(rule));
  if (bad !== -1) {
    return [
      `claimRules[${bad}]`,
      'is not a rule: make it with claimEquals, claimIncludes or claimCheck',
    ];
  }
  return [...(value as ClaimRule[])];
}
