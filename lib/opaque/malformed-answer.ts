import { IssuerUnavailableError } from '../errors/auth-error';
import type { ClaimTypeProblem } from '../token/validate-claims';

/**
 * The identity provider vouched for a token with an answer whose members are not of their types
 * (`scp: 42`, `permissions: "admin"`), or whose body is not UTF-8 (RFC 8259 §8.1): the provider's
 * fault, never the caller's, so a 503 that grants nothing. Callers log it once with the token's
 * hash.
 */
export class MalformedAnswerError extends IssuerUnavailableError {
  constructor(
    readonly endpoint: 'userinfo' | 'introspection',
    readonly problem: ClaimTypeProblem | 'invalid_utf8',
  ) {
    super(
      problem === 'invalid_utf8'
        ? `The identity provider's ${endpoint} answer is malformed: it is not valid UTF-8 ` +
            '(RFC 8259 §8.1). The token was not accepted; try again later.'
        : `The identity provider's ${endpoint} answer is malformed: its ${problem.claim} must be ` +
            `${problem.expected}. The token was not accepted; try again later.`,
      30,
    );
  }
}
