import type { Queryable } from "@otmetka/eventstore";
import { type Caller, DomainError } from "@otmetka/service-kit";
import { hasRoleOver, ROLES_OF, type Targets } from "./authorize.js";

/**
 * GetPeople with personal data: every person asked for must be the caller, a child of the
 * calling guardian, or within the staff/authority scope of the caller (a school of theirs).
 * One person outside it refuses the whole call, naming its index.
 */
export async function requirePersonalDataAccess(
  db: Queryable,
  targets: Targets,
  caller: Caller,
  personIds: string[],
): Promise<void> {
  const children = new Set<string>();
  if (caller.personId && caller.grants.some((g) => g.role === "GUARDIAN")) {
    const { rows } = await db.query<{ student_id: string }>(
      "SELECT student_id FROM guardian_links WHERE guardian_id = $1",
      [caller.personId],
    );
    for (const r of rows) children.add(r.student_id);
  }
  for (const [i, id] of personIds.entries()) {
    if (id === caller.personId || children.has(id)) continue;
    if (hasRoleOver(caller, ROLES_OF.personalData, await targets.person(id))) continue;
    throw new DomainError(
      "permission_denied",
      `person_ids[${i}]: personal data of ${id} needs ${ROLES_OF.personalData.join(" or ")} at one of their schools`,
      { field: `person_ids[${i}]` },
    );
  }
}
