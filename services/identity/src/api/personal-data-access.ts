import type { Queryable } from "@otmetka/eventstore";
import { type Caller, DomainError, type ScopeTarget } from "@otmetka/service-kit";
import type { PeopleAccess } from "../projections/people-queries.js";
import { hasRoleOver, ROLES_OF, type Targets } from "./authorize.js";

/**
 * Whom of a GetPeople batch the caller may read: the caller, a child of the calling guardian,
 * or a person within the staff/authority scope of the caller over one of their current
 * schools — all of their personal data — or, failing that, over a school that held them
 * before (README "A person's former schools") — their name only: a school's journals keep
 * listing a pupil who left, their current data is the current school's. Those readers also get
 * the person's current schools; anyone else gets ids alone. With `personalData`, one person
 * outside both refuses the whole call, naming its index.
 */
export async function peopleAccess(
  db: Queryable,
  targets: Targets,
  caller: Caller,
  personIds: string[],
  o: { personalData: boolean },
): Promise<PeopleAccess> {
  const children = new Set<string>();
  if (caller.personId && caller.grants.some((g) => g.role === "GUARDIAN")) {
    const { rows } = await db.query<{ student_id: string }>(
      "SELECT student_id FROM guardian_links WHERE guardian_id = $1",
      [caller.personId],
    );
    for (const r of rows) children.add(r.student_id);
  }
  const namesOnly = new Set<string>();
  const currentSchools = new Map<string, string[]>();
  // One query for the whole batch (not two or more per person), also for the schools returned.
  const current = await targets.currentSchoolsOfPeople(personIds);
  const fully = (id: string) =>
    id === caller.personId ||
    children.has(id) ||
    hasRoleOver(caller, ROLES_OF.personalData, current.get(id) ?? []);
  // Former schools only for whom the current ones do not settle: none for a caller whose role
  // covers the region (services, the platform, the ministry), as every known person has a
  // current school (person_schools falls back to the last one).
  const regionWide = hasRoleOver(caller, ROLES_OF.personalData, [targets.region()]);
  const unsettled = regionWide ? [] : personIds.filter((id) => !fully(id));
  const formerOf =
    unsettled.length > 0
      ? await targets.formerSchoolsOfPeople(unsettled)
      : new Map<string, ScopeTarget[]>();
  for (const [i, id] of personIds.entries()) {
    const former = formerOf.get(id) ?? [];
    const readable = () => {
      if (fully(id)) return true;
      // An empty list would mean "unscoped roles only" to hasRoleOver: a person with no former
      // school gives nothing more than their current schools did.
      if (former.length > 0 && hasRoleOver(caller, ROLES_OF.personalData, former)) {
        namesOnly.add(id);
        return true;
      }
      return false;
    };
    if (readable()) {
      currentSchools.set(id, (current.get(id) ?? []).map((t) => t.schoolId ?? "").sort());
      continue;
    }
    if (!o.personalData) continue;
    throw new DomainError(
      "permission_denied",
      `person_ids[${i}]: personal data of ${id} needs ${ROLES_OF.personalData.join(" or ")} at one of their schools (the name alone: at a school that held them before)`,
      { field: `person_ids[${i}]` },
    );
  }
  return { namesOnly, currentSchools };
}

/**
 * One person, read by GetPeople's readers (peopleAccess: themself, a linked guardian, a
 * personal-data role over one of their current or former schools); anyone else is refused
 * PERMISSION_DENIED naming `field` and the id, as GetPeople refuses an out-of-scope person's
 * data. An id that names no one is refused alike (only unscoped roles pass, and find nothing),
 * so the answer does not tell whether the person exists.
 */
export async function requireReadablePerson(
  db: Queryable,
  targets: Targets,
  caller: Caller,
  personId: string,
  o: { field: string; what: string },
): Promise<void> {
  const { currentSchools } = await peopleAccess(db, targets, caller, [personId], {
    personalData: false,
  });
  if (currentSchools.has(personId)) return;
  throw new DomainError(
    "permission_denied",
    `${o.field}: ${o.what} of ${personId} is read by the person, a linked guardian, or ${ROLES_OF.personalData.join(" or ")} at one of their current or former schools`,
    { field: o.field },
  );
}
