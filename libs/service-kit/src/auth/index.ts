export {
  type AuthorizedCall,
  authorizedHandler,
  authorizedMetadata,
  bearerMetadata,
} from "./authorized-handler.js";
export { type CachingVerifierOptions, cachingVerifier } from "./caching-verifier.js";
export { type Caller, hasRole, requireRole, type ScopeTarget } from "./caller.js";
export {
  bearerToken,
  type CallerVerifier,
  type CallerVerifierOptions,
  createCallerVerifier,
  TOKEN_ALGORITHMS,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
} from "./caller-verifier.js";
export {
  formatRoleClaim,
  type Grant,
  parseRoleClaim,
  ROLES,
  type Role,
  SCOPE_OF_ROLE,
  type Scope,
  type ScopeKind,
} from "./roles.js";
export {
  createServiceTokenSource,
  type IssuedToken,
  type ServiceTokenSource,
} from "./service-token-source.js";
