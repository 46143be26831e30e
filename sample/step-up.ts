/**
 * What `GET /api/step-up` asks of a sign-in (RFC 9470): multi-factor, at most 5 minutes ago. The
 * acr is the OpenID PAPE multi-factor policy, which Auth0 also uses for MFA in `acr_values`.
 */
export const STEP_UP = {
  acr: 'http://schemas.openid.net/pape/policies/2007/06/multi-factor',
  maxAge: 300,
} as const;
