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
  grantsOf,
  listAccounts,
} from "../accounts/accounts.js";
import type { AuthDeps } from "../accounts/deps.js";
import { issueServiceToken, login, logout, refresh, type TokenPair } from "../accounts/sessions.js";
import {
  type AccountSwitchAuthorizer,
  deleteAccount,
  disableAccount,
  enableAccount,
} from "../commands/account-status.js";
import { grantRole, revokeRole } from "../commands/grants.js";
import { invalidInput, notFound } from "../domain/errors.js";
import { requireId } from "../domain/validators.js";
import { ROLES_OF, requireRoleOver, requireRoleWhere, Targets } from "./authorize.js";
import { authorizeAccountSwitch, authorizeGrant } from "./grant-policy.js";

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
  const switchPolicy =
    (caller: AuthorizedCall["caller"]): AccountSwitchAuthorizer =>
    async (account) =>
      authorizeAccountSwitch(
        caller,
        { ...account, grants: await grantsOf(deps.store.pool, account.accountId) },
        targets,
      );
  return {
    login: open(async (req) => {
      const res = await login(deps, req);
      logger.info({ account_id: res.accountId }, "login");
      return { accountId: res.accountId, tokens: pair(res.tokens) };
    }),
    refresh: open(async (req) => ({ tokens: pair(await refresh(deps, req, logger)) })),
    logout: open(async (req) => {
      await logout(deps, req, logger);
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
    disableAccount: authed(async (req, { caller, metadata }) => {
      await disableAccount(deps, req, { metadata }, switchPolicy(caller));
      logger.info({ account_id: req.accountId, actor: caller.accountId }, "account disabled");
      return {};
    }),
    enableAccount: authed(async (req, { caller, metadata }) => {
      await enableAccount(deps, req, { metadata }, switchPolicy(caller));
      logger.info({ account_id: req.accountId, actor: caller.accountId }, "account enabled");
      return {};
    }),
    deleteAccount: authed(async (req, { caller, metadata }) => {
      await deleteAccount(deps, req, { metadata }, switchPolicy(caller));
      logger.info({ account_id: req.accountId, actor: caller.accountId }, "account deleted");
      return {};
    }),
    listAccounts: authed(async (req, { caller }) => {
      if ((req.schoolId === "") === (req.personId === "")) {
        throw invalidInput("school_id", "give exactly one of school_id and person_id");
      }
      const pool = deps.store.pool;
      let of: { schoolId: string } | { personId: string };
      if (req.schoolId !== "") {
        const schoolId = requireId("school_id", req.schoolId);
        // An unknown school leaves the region only: then NOT_FOUND, as identity's reads do.
        requireRoleOver(caller, ROLES_OF.accounts, [await targets.school(schoolId)], deps.regionId);
        const { rows } = await pool.query("SELECT 1 FROM schools WHERE school_id = $1", [schoolId]);
        if (!rows[0]) throw notFound("school_id", "school", schoolId);
        of = { schoolId };
      } else {
        const personId = requireId("person_id", req.personId);
        // One school of the person is enough to read, as for GetPeople.
        requireRoleOver(caller, ROLES_OF.accounts, await targets.person(personId), deps.regionId);
        const { rows } = await pool.query("SELECT 1 FROM people WHERE person_id = $1", [personId]);
        if (!rows[0]) throw notFound("person_id", "person", personId);
        of = { personId };
      }
      const page = await listAccounts(deps, of, req);
      return {
        accounts: page.accounts.map((a) => ({ ...a, grants: a.grants.map(grantOf) })),
        nextPageToken: page.nextPageToken,
      };
    }),
    rotateSigningKey: authed(async (_req, { caller }) => {
      requireRole(caller, ["PLATFORM_ADMIN"]);
      const kid = await deps.keys.rotate();
      logger.info({ kid, actor: caller.accountId }, "signing key rotated");
      return { kid };
    }),
  };
}
