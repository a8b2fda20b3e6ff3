import { type Caller, hasRole, requireRole, type ScopeTarget } from "@otmetka/service-kit";
import type { IdentityFactsReader, Period } from "../projections/identity-facts-queries.js";
import { denied, READ } from "./access.js";

/**
 * Which days of a class group's lessons the caller may read. Staff, officers and services
 * (READ over the class group's school) read all of them: `undefined`. A pupil reads the days
 * they belonged to the class group, a guardian those of their linked pupils (identity's
 * enrolments and guardianships in the replica); anyone else is PERMISSION_DENIED.
 */
export async function readablePeriods(
  facts: IdentityFactsReader,
  caller: Caller,
  classGroupId: string,
  target: ScopeTarget,
): Promise<Period[] | undefined> {
  if (READ.some((r) => hasRole(caller, r, target))) return undefined;
  const periods = await facts.enrolmentPeriods(await pupilsOf(facts, caller), classGroupId);
  // Not theirs: one refusal for every caller and every id, naming the class group only; its
  // school and municipality (the target) are not for a caller outside it to learn, nor
  // whether the id exists.
  if (periods.length === 0)
    throw denied(
      "class_group_id",
      `needs ${READ.join(" or ")} of its school, or to be its pupil or their guardian`,
    );
  return periods;
}

/**
 * Reading a school's own subjects (names and codes, no one's personal data): READ over the
 * school, or a pupil or guardian whose pupil was ever enrolled there (a diary names the
 * subjects of past years too); anyone else is PERMISSION_DENIED.
 */
export async function requireSchoolSubjectsReader(
  facts: IdentityFactsReader,
  caller: Caller,
  target: ScopeTarget & { schoolId: string },
): Promise<void> {
  if (READ.some((r) => hasRole(caller, r, target))) return;
  if (!(await facts.everEnrolledIn(await pupilsOf(facts, caller), target.schoolId)))
    requireRole(caller, READ, target);
}

/** The pupils whose school life the caller may follow: themselves, or their wards. */
async function pupilsOf(facts: IdentityFactsReader, caller: Caller): Promise<string[]> {
  const me = caller.personId;
  const people: string[] = [];
  if (me && hasRole(caller, "STUDENT")) people.push(me);
  if (me && hasRole(caller, "GUARDIAN")) people.push(...(await facts.wardsOf(me)));
  return people;
}

/** Whether a date falls in one of the periods ([from, to)). */
export const within = (periods: readonly Period[], date: string) =>
  periods.some((p) => p.from <= date && (p.to === null || date < p.to));
