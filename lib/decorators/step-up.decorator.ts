import 'reflect-metadata';
import { stepUpRequirement, type StepUpOptions, type StepUpRequirement } from '../token/step-up';

/** Metadata key of `@StepUp()`. */
export const STEP_UP_KEY = 'nest-oauth2-bearer:step-up';

export type { StepUpOptions };

/**
 * Step-up authentication (RFC 9470): requires the user of the token to have signed in with one of
 * the `acr` values and/or at most `maxAge` seconds ago, read from the token's `acr` and `auth_time`
 * (JWT access tokens, RFC 9068 §2.2.1, or introspection answers). Checked after the token, the
 * scopes and the claim rules. A token that falls short gets 401
 * `insufficient_user_authentication` with `acr_values` and/or `max_age`, for the client to sign
 * the user in again with them. On a class, it applies to every handler; a handler's own replaces
 * it. Bad options throw at decoration time.
 *
 * @example
 * @StepUp({ acr: 'http://schemas.openid.net/pape/policies/2007/06/multi-factor', maxAge: 300 })
 * @Post('transfers') transfer() {}
 */
export function StepUp(options: StepUpOptions): ClassDecorator & MethodDecorator {
  const requirement: StepUpRequirement = stepUpRequirement(options);
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    Reflect.defineMetadata(STEP_UP_KEY, requirement, descriptor?.value ?? target);
  };
}
