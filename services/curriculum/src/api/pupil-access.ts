import { type Caller, hasRole, requireRole, type ScopeTarget } from "@otmetka/service-kit";
import type { IdentityFactsReader, Period } from "../projections/identity-facts-queries.js";
import { READ } from "./access.js";

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
  const me = caller.personId;
  const people: string[] = [];
  if (me && hasRole(caller, "STUDENT")) people.push(me);
  if (me && hasRole(caller, "GUARDIAN")) people.push(...(await facts.wardsOf(me)));
  const periods = await facts.enrolmentPeriods(people, classGroupId);
  // Not theirs: the same refusal as any other caller without a role here.
  if (periods.length === 0) requireRole(caller, READ, target);
  return periods;
}

/** Whether a date falls in one of the periods ([from, to)). */
export const within = (periods: readonly Period[], date: string) =>
  periods.some((p) => p.from <= date && (p.to === null || date < p.to));
