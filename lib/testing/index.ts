// nest-oauth2-bearer/testing: a local issuer for the tests of applications that use the library.
// Not exported by the main entry: nothing here is loaded by an application in production.
export { TestIssuer } from './test-issuer';
export type {
  MintAccessTokenOptions,
  MintIdTokenOptions,
  OpaqueTokenOptions,
  TestIssuerOptions,
} from './test-issuer';
export { TestingKitError } from './kit-checks';
export type { TestSigningAlgorithm } from './signing-key';
