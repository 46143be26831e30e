/** Metadata key of `@Public()`. */
export const IS_PUBLIC_KEY = 'nest-oauth2-bearer:public';
/** Metadata key of `@OptionalAuth()`. */
export const OPTIONAL_AUTH_KEY = 'nest-oauth2-bearer:optional-auth';
/** Metadata key of `@Scopes()`. */
export const SCOPES_KEY = 'nest-oauth2-bearer:scopes';
/** Injection token of the resolved options (private: use `@InjectAuthOptions()`). */
export const RESOLVED_AUTH_OPTIONS = Symbol('nest-oauth2-bearer:resolved-options');
/** Metadata key of `@WithUserinfo()`. */
export const WITH_USERINFO_KEY = 'nest-oauth2-bearer:with-userinfo';
/** Injection token of the userinfo profile cache (private). */
export const USERINFO_CACHE = Symbol('nest-oauth2-bearer:userinfo-cache');
/** Injection token of the opaque-token cache (private). */
export const OPAQUE_CACHE = Symbol('nest-oauth2-bearer:opaque-cache');
/** Injection token of the timeout and size cap of userinfo and introspection calls (private). */
export const TOKEN_INFO_LIMITS = Symbol('nest-oauth2-bearer:token-info-limits');
/** Injection token of the upstream budget of opaque-token lookups (private). */
export const OPAQUE_LIMITER = Symbol('nest-oauth2-bearer:opaque-limiter');
/** Injection token of the upstream budget of profile fetches for verified callers (private). */
export const PROFILE_LIMITER = Symbol('nest-oauth2-bearer:profile-limiter');
/** Injection token of the introspection client's credentials, secret included (private). */
export const INTROSPECTION_CREDENTIALS = Symbol('nest-oauth2-bearer:introspection-credentials');
/** Metadata key of `@ProtectedResource()`: the name of the resource, of the module's `resources`. */
export const PROTECTED_RESOURCE_KEY = 'nest-oauth2-bearer:protected-resource';
/** Metadata key of `@McpEndpoint()`. */
export const MCP_ENDPOINT_KEY = 'nest-oauth2-bearer:mcp-endpoint';
