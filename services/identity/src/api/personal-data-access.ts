import type { Queryable } from "@otmetka/eventstore";
import { type Caller, DomainError } from "@otmetka/service-kit";
import { hasRoleOver, ROLES_OF, type Targets } from "./authorize.js";

/**
 * GetPeople with personal data: every person asked for must be the caller, a child of the
 * calling guardian, or within the staff/authority scope of the caller over one of their
 * current schools — all of their personal data — or, failing that, over a school that held
 * them before (README "A person's former schools") — their name only: a school's journals keep
 * listing a pupil who left, their current data is the current school's. One person outside
 * both refuses the whole call, naming its index. Answers the ids read names-only.
 */
export async function personalDataAccess(
  db: Queryable,
  targets: Targets,
  caller: Caller,
  personIds: string[],
): Promise<ReadonlySet<string>> {
  const children = new Set<string>();
  if (caller.personId && caller.grants.some((g) => g.role === "GUARDIAN")) {
    const { rows } = await db.query<{ student_id: string }>(
      "SELECT student_id FROM guardian_links WHERE guardian_id = $1",
      [caller.personId],
    );
    for (const r of rows) children.add(r.student_id);
  }
  const namesOnly = new Set<string>();
  // One query for the whole batch (not two or more per person).
  const schools = await targets.schoolsOfPeople(personIds);
  for (const [i, id] of personIds.entries()) {
    if (id === caller.personId || children.has(id)) continue;
    const { current, former } = schools.get(id) ?? { current: [], former: [] };
    if (hasRoleOver(caller, ROLES_OF.personalData, current)) continue;
    // An empty list would mean "unscoped roles only" to hasRoleOver: a person with no former
    // school gives nothing more than their current schools did.
    if (former.length > 0 && hasRoleOver(caller, ROLES_OF.personalData, former)) {
      namesOnly.add(id);
      continue;
    }
    throw new DomainError(
      "permission_denied",
      `person_ids[${i}]: personal data of ${id} needs ${ROLES_OF.personalData.join(" or ")} at one of their schools (the name alone: at a school that held them before)`,
      { field: `person_ids[${i}]` },
    );
  }
  return namesOnly;
}
