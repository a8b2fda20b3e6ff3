import { type Caller, DomainError, hasRole } from "@otmetka/service-kit";
import type pg from "pg";

/**
 * Who may read a person's access audit: the pupil themselves, their guardians (a current
 * guardian link), a SCHOOL_ADMIN of a school holding the person now (SQL `person_schools`, as
 * every identity call: after a transfer the new school, not the old one), and PLATFORM_ADMIN.
 * Every other caller is refused the same way, whether or not the person exists, so the
 * answer does not tell who is enrolled where.
 */
export async function authorizeAuditRead(
  pool: pg.Pool,
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
  if (caller.grants.some((g) => g.role === "SCHOOL_ADMIN")) {
    const { rows } = await pool.query<{ school_id: string }>(
      "SELECT person_schools($1) AS school_id",
      [personId],
    );
    if (rows.some((r) => hasRole(caller, "SCHOOL_ADMIN", { schoolId: r.school_id }))) return;
  }
  throw new DomainError(
    "permission_denied",
    "person_id: the access audit of a person is read by that pupil, their guardians, a SCHOOL_ADMIN of their school or PLATFORM_ADMIN",
    { field: "person_id" },
  );
}
