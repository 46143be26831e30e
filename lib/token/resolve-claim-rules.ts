import { AuthOptionsError } from '../errors/auth-options-error';
import { isClaimRule, type ClaimRule } from './claim-rules';

/**
 * The module's `claimRules`, checked: an array of rules made by the helpers. Throws an
 * `AuthOptionsError` naming the rule that is not one.
 */
export function resolveClaimRules(value: unknown): ClaimRule[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new AuthOptionsError(
      'claimRules',
      'must be an array of rules (claimEquals, claimIncludes, claimCheck)',
    );
  }
  const bad = value.findIndex((rule) => !isClaimRule(rule));
  if (bad !== -1) {
    throw new AuthOptionsError(
      `claimRules[${bad}]`,
      'is not a rule: make it with claimEquals, claimIncludes or claimCheck',
    );
  }
  return [...(value as ClaimRule[])];
}
