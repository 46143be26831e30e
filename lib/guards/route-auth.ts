import type { Reflector } from '@nestjs/core';
import {
  IS_PUBLIC_KEY,
  MCP_ENDPOINT_KEY,
  OPTIONAL_AUTH_KEY,
  PROTECTED_RESOURCE_KEY,
  SCOPES_KEY,
  WITH_USERINFO_KEY,
} from '../auth.constants';
import type { ClaimRule } from '../token/claim-rules';
import { CLAIM_RULES_KEY } from '../decorators/claim-rules.decorator';
import type { ScopeRequirement } from '../token/scopes';
import { STEP_UP_KEY } from '../decorators/step-up.decorator';
import type { StepUpRequirement } from '../token/step-up';

/** What a route's decorators ask of the guard. */
export interface RouteAuth {
  isPublic: boolean;
  /** `@OptionalAuth()` without `@Scopes()`: a call without a token goes through anonymously. */
  anonymousAllowed: boolean;
  scopes: ScopeRequirement[];
  /** `@ClaimRules()` of the handler and its class. */
  claimRules: ClaimRule[];
  withUserinfo: boolean;
  /** `@StepUp()` of the handler, or else of its class. */
  stepUp?: StepUpRequirement;
  /** `@ProtectedResource()`: the name of the route's resource, when it is not the API. */
  resource?: string;
  /** `@McpEndpoint()`: the route hands its requests to an MCP transport. */
  mcpEndpoint: boolean;
}

/**
 * Reads `@Public()`, `@OptionalAuth()`, `@Scopes()`, `@WithUserinfo()` and `@ProtectedResource()` of a handler and its
 * class: the one reading the guard enforces and the OpenAPI document describes.
 */
export function readRouteAuth(
  reflector: Reflector,
  handler: object,
  controller: object,
): RouteAuth {
  const targets = [handler, controller] as Parameters<Reflector['getAllAndMerge']>[1];
  const scopes = reflector.getAllAndMerge<ScopeRequirement[]>(SCOPES_KEY, targets) ?? [];
  const claimRules = reflector.getAllAndMerge<ClaimRule[]>(CLAIM_RULES_KEY, targets) ?? [];
  const stepUp = reflector.getAllAndOverride<StepUpRequirement | undefined>(STEP_UP_KEY, targets);
  const optional =
    reflector.getAllAndOverride<boolean | undefined>(OPTIONAL_AUTH_KEY, targets) === true;
  const resource = reflector.getAllAndOverride<string | undefined>(PROTECTED_RESOURCE_KEY, targets);
  return {
    isPublic: reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, targets) === true,
    // Scopes and claims are asked of a caller: a route that requires some never serves anonymous ones.
    anonymousAllowed: optional && scopes.length === 0 && claimRules.length === 0 && !stepUp,
    scopes,
    claimRules,
    withUserinfo:
      reflector.getAllAndOverride<boolean | undefined>(WITH_USERINFO_KEY, targets) === true,
    ...(stepUp ? { stepUp } : {}),
    ...(resource !== undefined ? { resource } : {}),
    mcpEndpoint:
      reflector.getAllAndOverride<boolean | undefined>(MCP_ENDPOINT_KEY, targets) === true,
  };
}
