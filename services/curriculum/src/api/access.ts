import {
  type AuthorizedCall,
  type Caller,
  DomainError,
  hasRole,
  type Role,
  type ScopeTarget,
} from "@otmetka/service-kit";
import { checkSchoolId } from "../commands/calendar.js";
import type { CallContext } from "../commands/deps.js";
import { notFound } from "../domain/errors.js";
import type { IdentityFactsReader } from "../projections/identity-facts-queries.js";

/** Changes a school's calendar, subjects, plans, timetable and lessons. */
export const MANAGE: readonly Role[] = ["SCHOOL_ADMIN", "PLATFORM_ADMIN", "SERVICE"];
/** Drafts a work programme (a teacher writes their own КТП). */
export const DRAFT: readonly Role[] = ["TEACHER", ...MANAGE];
/** Approves a work programme: the school's admin, nobody else (not even a platform admin). */
export const APPROVE: readonly Role[] = ["SCHOOL_ADMIN"];
/** The regional subject catalogue is the ministry's. */
export const REGIONAL: readonly Role[] = ["MINISTRY_OFFICER", "PLATFORM_ADMIN"];
/** Reads a school's curriculum: its staff, its municipality, the ministry, services. */
export const READ: readonly Role[] = [
  "TEACHER",
  "SCHOOL_ADMIN",
  "MUNICIPAL_OFFICER",
  "MINISTRY_OFFICER",
  "PLATFORM_ADMIN",
  "SERVICE",
];

/**
 * Where a call lands, as a ScopeTarget for requireRole: the school, its municipality (from
 * the identity replica) and the region. A school or class group the replica does not know
 * gives no municipality, so a municipal officer is refused and the command answers NOT_FOUND
 * to the roles that pass.
 */
export class Access {
  constructor(
    private readonly facts: IdentityFactsReader,
    readonly regionId: string,
  ) {}

  region(): ScopeTarget {
    return { regionId: this.regionId };
  }

  async school(schoolId: string): Promise<ScopeTarget & { schoolId: string }> {
    // Bad ids are INVALID_ARGUMENT for everyone, before any role check.
    const id = checkSchoolId(schoolId);
    const school = await this.facts.school(id);
    return {
      schoolId: id,
      ...(school ? { municipalityId: school.municipalityId } : {}),
      regionId: this.regionId,
    };
  }

  /**
   * A lesson command names its school and class group: the grant is checked on the school,
   * so the class group must be that school's (a lesson stream is per class group).
   */
  async lessonSchool(schoolId: string, classGroupId: string): Promise<ScopeTarget> {
    const target = await this.school(schoolId);
    const group = classGroupId === "" ? undefined : await this.facts.classGroup(classGroupId);
    if (group && group.schoolId !== target.schoolId)
      throw notFound("class_group_id", "class group of this school", classGroupId);
    return target;
  }

  async classGroup(classGroupId: string): Promise<ScopeTarget> {
    const group = classGroupId === "" ? undefined : await this.facts.classGroup(classGroupId);
    return group ? this.school(group.schoolId) : this.region();
  }
}

/** Event metadata of a verified call: the actor is the token's account. */
export const contextOf = (call: AuthorizedCall): CallContext => ({ metadata: call.metadata });

export const denied = (field: string, why: string) =>
  new DomainError("permission_denied", `${field}: ${why}`, { field });

/**
 * The person a staff command acts as: the caller's own person id. Only managing roles may
 * name someone else (an admin entering a colleague's draft).
 */
export function actingPerson(
  caller: Caller,
  named: string,
  field: string,
  target: ScopeTarget,
): string {
  if (named !== "" && named !== caller.personId) {
    if (!MANAGE.some((r) => hasRole(caller, r, target)))
      throw denied(field, "a caller acts only as themselves");
    return named;
  }
  if (!caller.personId) throw denied(field, "is required when the caller is not a person");
  return caller.personId;
}
