import type { AuthServiceServer } from "@otmetka/proto/identity/v1/auth_service";
import {
  type AuthorizedCall,
  authorizedHandler,
  type CallerVerifier,
  type Logger,
  requireRole,
  unaryHandler,
} from "@otmetka/service-kit";
import {
  changePassword,
  createAccount,
  createServiceAccount,
  getAccount,
} from "../accounts/accounts.js";
import type { AuthDeps } from "../accounts/deps.js";
import { issueServiceToken, login, logout, refresh, type TokenPair } from "../accounts/sessions.js";
import { grantRole, revokeRole } from "../commands/grants.js";
import { requireId } from "../domain/validators.js";
import { requireRoleWhere, Targets } from "./authorize.js";
import { authorizeGrant } from "./grant-policy.js";

const grantOf = (claim: string) => {
  const at = claim.indexOf("@");
  if (at < 0) return { role: claim, scopeKind: "", scopeId: "" };
  const [kind, ...id] = claim.slice(at + 1).split(":");
  return { role: claim.slice(0, at), scopeKind: kind ?? "", scopeId: id.join(":") };
};

const pair = (t: TokenPair) => ({
  accessToken: t.accessToken,
  expiresIn: t.expiresIn,
  refreshToken: t.refreshToken,
  refreshExpiresIn: t.refreshExpiresIn,
});

/**
 * AuthService: Login, Refresh, Logout and IssueServiceToken carry their own credentials (no
 * caller token); account administration needs a verified caller. Logs carry ids only, never
 * usernames, passwords or tokens.
 */
export function createAuthService(o: {
  deps: AuthDeps;
  logger: Logger;
  verifier: CallerVerifier;
}): AuthServiceServer {
  const { deps, logger } = o;
  const targets = new Targets(deps.store.pool, deps.regionId);
  const open = <Req, Res>(fn: (req: Req) => Promise<Res>) => unaryHandler(logger, fn);
  const authed = <Req, Res>(fn: (req: Req, call: AuthorizedCall) => Promise<Res>) =>
    authorizedHandler(logger, o.verifier, fn);
  return {
    login: open(async (req) => {
      const res = await login(deps, req);
      logger.info({ account_id: res.accountId }, "login");
      return { accountId: res.accountId, tokens: pair(res.tokens) };
    }),
    refresh: open(async (req) => ({ tokens: pair(await refresh(deps, req)) })),
    logout: open(async (req) => {
      await logout(deps, req);
      return {};
    }),
    issueServiceToken: open(async (req) => issueServiceToken(deps, req)),
    createAccount: authed(async (req, { caller }) => {
      if (req.personId === "") requireRole(caller, ["PLATFORM_ADMIN"]);
      else {
        // An account acts as the person: every school holding them must be the caller's.
        const where = await targets.everySchoolOf(requireId("person_id", req.personId));
        requireRoleWhere(
          caller,
          ["PLATFORM_ADMIN", "SCHOOL_ADMIN", "MUNICIPAL_OFFICER"],
          where,
          deps.regionId,
        );
      }
      const res = await createAccount(deps, req);
      logger.info({ account_id: res.accountId, actor: caller.accountId }, "account created");
      return res;
    }),
    changePassword: authed(async (req, { caller }) => {
      const self = req.accountId === caller.accountId;
      if (!self) requireRole(caller, ["PLATFORM_ADMIN"]);
      await changePassword(deps, req, self);
      logger.info({ account_id: req.accountId, actor: caller.accountId }, "password changed");
      return {};
    }),
    createServiceAccount: authed(async (req, { caller }) => {
      requireRole(caller, ["PLATFORM_ADMIN"]);
      const res = await createServiceAccount(deps, req);
      logger.info({ account_id: res.clientId, actor: caller.accountId }, "service account created");
      return res;
    }),
    grantRole: authed(async (req, { caller, metadata }) => {
      await grantRole(deps, req, { metadata }, (s) => authorizeGrant(caller, s, targets));
      return {};
    }),
    revokeRole: authed(async (req, { caller, metadata }) => {
      await revokeRole(deps, req, { metadata }, (s) => authorizeGrant(caller, s, targets));
      return {};
    }),
    getAccount: authed(async (req, { caller }) => {
      if (req.accountId !== caller.accountId) requireRole(caller, ["PLATFORM_ADMIN"]);
      const a = await getAccount(deps, req.accountId);
      return { ...a, grants: a.grants.map(grantOf) };
    }),
    rotateSigningKey: authed(async (_req, { caller }) => {
      requireRole(caller, ["PLATFORM_ADMIN"]);
      const kid = await deps.keys.rotate();
      logger.info({ kid, actor: caller.accountId }, "signing key rotated");
      return { kid };
    }),
  };
}
