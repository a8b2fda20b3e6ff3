import { type Caller, DomainError, hasRole } from "@otmetka/service-kit";
import type pg from "pg";
import type { Targets } from "../api/authorize.js";
import { peopleAccess } from "../api/personal-data-access.js";

/**
 * Who may read a person's access audit: the pupil themselves, their guardians (a current
 * guardian link), a SCHOOL_ADMIN of a school holding the person now (SQL `person_schools`, as
 * every identity call: after a transfer the new school, not the old one), and PLATFORM_ADMIN.
 * Every other caller is refused the same way, whether or not the person exists, so the
 * answer does not tell who is enrolled where.
 */
export async function authorizeAuditRead(
  pool: pg.Pool,
  targets: Targets,
  caller: Caller,
  personId: string,
): Promise<void> {
  if (hasRole(caller, "PLATFORM_ADMIN")) return;
  if (caller.personId === personId && hasRole(caller, "STUDENT")) return;
  if (caller.personId && hasRole(caller, "GUARDIAN")) {
    const linked = await pool.query(
      "SELECT 1 FROM guardian_links WHERE guardian_id = $1 AND student_id = $2",
      [caller.personId, personId],
    );
    if (linked.rowCount) return;
  }
  if (await adminOfCurrentSchool(pool, targets, caller, personId)) return;
  throw new DomainError(
    "permission_denied",
    "person_id: the access audit of a person is read by that pupil, their guardians, a SCHOOL_ADMIN of their school or PLATFORM_ADMIN",
    { field: "person_id" },
  );
}

/**
 * GetPeople's rule (peopleAccess) asked for the caller's school SCHOOL_ADMIN grants alone: a
 * reader of all the person's data is an admin of one of their current schools; a names-only
 * reader is one of a former school, which the audit does not admit. Without the caller's
 * person and other roles, peopleAccess's self, guardian and wider-role paths cannot widen it.
 */
async function adminOfCurrentSchool(
  pool: pg.Pool,
  targets: Targets,
  caller: Caller,
  personId: string,
): Promise<boolean> {
  const grants = caller.grants.filter(
    (g) => g.role === "SCHOOL_ADMIN" && g.scope.kind === "school",
  );
  if (grants.length === 0) return false;
  const { personId: _own, ...rest } = caller;
  const access = await peopleAccess(pool, targets, { ...rest, grants }, [personId], {
    personalData: false,
  });
  return access.currentSchools.has(personId) && !access.namesOnly.has(personId);
}
