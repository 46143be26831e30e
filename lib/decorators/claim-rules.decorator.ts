import 'reflect-metadata';
import { describeValue } from '../token/describe-value';
import { isClaimRule, type ClaimRule } from '../token/claim-rules';

/** Metadata key of `@ClaimRules()`. */
export const CLAIM_RULES_KEY = 'nest-oauth2-bearer:claim-rules';

/**
 * Requires the verified token's claims to pass every rule (`claimEquals`, `claimIncludes`,
 * `claimCheck`), on every request, after the signature, the standard claims and `@Scopes()`.
 * Class- and handler-level declarations add up. A failure answers 403 `insufficient_scope` (no
 * `scope`: no scope would help) unless the rule says `withStatus(401)`.
 *
 * @example
 * @ClaimRules(claimEquals('org_id', 'acme'))
 * @ClaimRules(claimIncludes('https://example.com/roles', 'admin').withStatus(401))
 */
export function ClaimRules(...rules: ClaimRule[]): ClassDecorator & MethodDecorator {
  if (rules.length === 0 || !rules.every(isClaimRule)) {
    throw new TypeError(
      `@ClaimRules: give rules made by claimEquals, claimIncludes or claimCheck, got ${describeValue(rules)}`,
    );
  }
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const where = descriptor?.value ?? target;
    const existing: ClaimRule[] = Reflect.getMetadata(CLAIM_RULES_KEY, where) ?? [];
    Reflect.defineMetadata(CLAIM_RULES_KEY, [...existing, ...rules], where);
  };
}
