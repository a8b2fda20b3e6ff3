import {
  type Caller,
  DomainError,
  parseRoleClaim,
  type Role,
  requireRole,
} from "@otmetka/service-kit";
import type { GrantSubject } from "../commands/grants.js";
import { refused } from "../domain/errors.js";
import { requireRoleWhere, type Targets } from "./authorize.js";

/**
 * Who may grant (and revoke) what:
 * - TEACHER / SCHOOL_ADMIN at school S: SCHOOL_ADMIN of S, MUNICIPAL_OFFICER of S's
 *   municipality, PLATFORM_ADMIN;
 * - MUNICIPAL_OFFICER: MINISTRY_OFFICER of the region, PLATFORM_ADMIN;
 * - GUARDIAN / STUDENT (accounts linked to a person only): SCHOOL_ADMIN or MUNICIPAL_OFFICER
 *   over every one of the person's schools, PLATFORM_ADMIN;
 * - MINISTRY_OFFICER, PORTAL_SUBSCRIBER, PLATFORM_ADMIN: PLATFORM_ADMIN only.
 * Nobody changes their own grants, so an admin cannot widen (or lock out) themselves.
 */
export async function authorizeGrant(
  caller: Caller,
  s: GrantSubject,
  targets: Targets,
): Promise<void> {
  if (s.account.accountId === caller.accountId) {
    throw new DomainError("permission_denied", "account_id: nobody changes their own grants", {
      field: "account_id",
    });
  }
  const { role, scope } = s.grant;
  const need = (roles: Role[], target = targets.region()) => requireRole(caller, roles, target);
  switch (role) {
    case "TEACHER":
    case "SCHOOL_ADMIN":
      if (scope.kind !== "school") return need(["PLATFORM_ADMIN"]);
      return need(
        ["PLATFORM_ADMIN", "SCHOOL_ADMIN", "MUNICIPAL_OFFICER"],
        await targets.school(scope.id),
      );
    case "MUNICIPAL_OFFICER":
      return need(["PLATFORM_ADMIN", "MINISTRY_OFFICER"]);
    case "GUARDIAN":
    case "STUDENT": {
      if (!s.account.personId) {
        throw refused("account_id", `${role} is granted to accounts linked to a person`);
      }
      // Unscoped roles of the person as a whole: every school holding them.
      const where = await targets.everySchoolOf(s.account.personId);
      requireRoleWhere(
        caller,
        ["PLATFORM_ADMIN", "SCHOOL_ADMIN", "MUNICIPAL_OFFICER"],
        where,
        targets.regionId,
      );
      return;
    }
    default:
      return need(["PLATFORM_ADMIN"]);
  }
}

/**
 * Who may disable, enable or delete an account. As for opening it (CreateAccount): an account of a
 * person answers to SCHOOL_ADMIN or MUNICIPAL_OFFICER over every school of the person, or
 * PLATFORM_ADMIN; an account of no person (platform, service) to PLATFORM_ADMIN alone. And,
 * since switching it off (or deleting it) takes all its roles away at once, only someone who may revoke each of
 * them (a school's admin cannot switch off a municipal officer who also teaches there).
 * Nobody switches or deletes their own account: an admin cannot lock themselves, or the last platform
 * admin, out.
 */
export async function authorizeAccountSwitch(
  caller: Caller,
  account: { accountId: string; personId: string | null; grants: readonly string[] },
  targets: Targets,
): Promise<void> {
  if (account.accountId === caller.accountId) {
    throw new DomainError(
      "permission_denied",
      "account_id: nobody disables, enables or deletes their own account",
      { field: "account_id" },
    );
  }
  if (account.personId === null) requireRole(caller, ["PLATFORM_ADMIN"], targets.region());
  else {
    requireRoleWhere(
      caller,
      ["PLATFORM_ADMIN", "SCHOOL_ADMIN", "MUNICIPAL_OFFICER"],
      await targets.everySchoolOf(account.personId),
      targets.regionId,
    );
  }
  for (const claim of account.grants) {
    await authorizeGrant(
      caller,
      {
        grant: parseRoleClaim(claim),
        routing: { schoolId: "", municipalityId: "" },
        account: { accountId: account.accountId, personId: account.personId },
      },
      targets,
    );
  }
}
