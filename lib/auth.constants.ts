/** Metadata key of `@Public()`. */
export const IS_PUBLIC_KEY = 'nest-oauth2-bearer:public';
/** Metadata key of `@Scopes()`. */
export const SCOPES_KEY = 'nest-oauth2-bearer:scopes';
/** Injection token of the resolved options (private: use `@InjectAuthOptions()`). */
export const RESOLVED_AUTH_OPTIONS = Symbol('nest-oauth2-bearer:resolved-options');
