export { AuthModule } from './auth.module';
export type {
  AuthModuleAsyncOptions,
  AuthModuleExtras,
  AuthModuleOptions,
  AuthOptionsFactory,
  CacheOptions,
  IntrospectionOptions,
  IssuerOptions,
  UpstreamBudget,
  UpstreamOptions,
} from './options/auth-options.interface';
export type { AuthUser, JwtAuthUser, OpaqueAuthUser, UserProfile } from './token/auth-user';
export { AuthOptionsError } from './errors/auth-options-error';
export type { ResolvedAuthOptions } from './options/resolve-auth-options';
export { AccessTokenGuard } from './guards/access-token.guard';
export type { GuardRequest, GuardResponse } from './guards/access-token.guard';
export type { TokenSource } from './token/extract-token';
export type { ScopeRequirement } from './token/scopes';
export type { StepUpRequirement } from './token/step-up';
export { AccessTokenStrategy } from './strategies/access-token.strategy';
export { AccessTokenVerifier } from './verifier/access-token.verifier';
export { GRAPHQL_WS_CLOSE_CODES, GraphqlWsAuth } from './graphql-ws-auth.service';
export { graphqlAuthError } from './contexts/graphql.face';
export type {
  GraphqlAuthError,
  GraphqlAuthErrorCode,
  GraphqlAuthErrorExtensions,
  GraphqlWsContext,
} from './contexts/graphql.face';
export { Public } from './decorators/public.decorator';
export { ProtectedResource } from './decorators/protected-resource.decorator';
export { OptionalAuth } from './decorators/optional-auth.decorator';
export { defaultRpcAuthorization } from './token/rpc-authorization';
export type { RpcAuthorization } from './token/rpc-authorization';
export type { RpcAuthErrorPayload } from './contexts/rpc.face';
export { Scopes } from './decorators/scopes.decorator';
export { McpEndpoint } from './decorators/mcp-endpoint.decorator';
export { McpScopes } from './mcp/mcp-scopes';
export type { McpScopedRegistrar, McpServerLike } from './mcp/mcp-scopes';
export { mcpUser } from './mcp/mcp-auth-info';
export type { McpAuthInfo } from './mcp/mcp-auth-info';
export { CurrentUser } from './decorators/current-user.decorator';
export { InjectAuthOptions } from './decorators/inject-auth-options.decorator';
export { WithUserinfo } from './decorators/with-userinfo.decorator';
export { UserinfoService } from './userinfo.service';
export type { SharedCacheStore } from './cache/shared-cache-store.interface';
export type { DpopMode, DpopNonceOptions, DpopOptions } from './binding/dpop-options';
export type { TokenPresentation } from './binding/token-presentation';
export type {
  CertificateHeaderEncoding,
  CertificateHeaderOptions,
  MtlsMode,
  MtlsOptions,
} from './binding/mtls-options';
export {
  AuthError,
  InsufficientScopeError,
  InsufficientUserAuthenticationError,
  InvalidDpopProofError,
  InvalidRequestError,
  InvalidTokenError,
  IssuerUnavailableError,
  MissingTokenError,
  UnsupportedContextError,
  UseDpopNonceError,
} from './errors/auth-error';
export type { AuthErrorCode, AuthErrorReason, StepUpReason } from './errors/auth-error';
export type { AuthErrorAnswer, AuthErrorBody, StepUpParameters } from './errors/www-authenticate';
export { AuthHttpException } from './errors/auth-http-exception';
export { AuthHttpExceptionFilter } from './guards/auth-http-exception.filter';
export type { AccessTokenClaims, OpaqueTokenClaims } from './token/validate-claims';
export { SUPPORTED_ALGORITHMS } from './token/check-jwt-header';
export { PROTECTED_RESOURCE_METADATA_ROUTES } from './resource-metadata/protected-resource.controller';
export type { ProtectedResourceMetadataDocument } from './resource-metadata/protected-resource-metadata';
export type { ProtectedResourceOptions } from './resource-metadata/protected-resource-options';
export { claimCheck, claimEquals, claimIncludes, ClaimRuleError } from './token/claim-rules';
export type { ClaimRule, RuleClaims } from './token/claim-rules';
export { ClaimRules } from './decorators/claim-rules.decorator';
export { StepUp } from './decorators/step-up.decorator';
export type { StepUpOptions } from './decorators/step-up.decorator';
