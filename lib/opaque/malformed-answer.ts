import { IssuerUnavailableError } from '../errors/auth-error';
import type { ClaimTypeProblem } from '../token/validate-claims';

/**
 * The identity provider vouched for a token with an answer whose members are not of their types
 * (`scp: 42`, `permissions: "admin"`): the provider's fault, never the caller's, so a 503 that
 * grants nothing. Callers log it once with the token's hash.
 */
export class MalformedAnswerError extends IssuerUnavailableError {
  constructor(
    readonly endpoint: 'userinfo' | 'introspection',
    readonly problem: ClaimTypeProblem,
  ) {
    super(
      `The identity provider's ${endpoint} answer is malformed: its ${problem.claim} must be ` +
        `${problem.expected}. The token was not accepted; try again later.`,
      30,
    );
  }
}
