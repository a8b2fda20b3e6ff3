import {
  type Caller,
  DomainError,
  hasRole,
  type Role,
  requireRole,
  type ScopeTarget,
} from "@otmetka/service-kit";
import type { Level } from "../projections/deltas.js";
import type { ReadDb } from "../queries/read-db.js";
import { today } from "./mapping.js";

/*
 * Who may read what (domain.md roles): guardians their linked children's diaries, pupils
 * their own, teachers and school admins their school, municipal officers their
 * municipality, the ministry the region; platform admins and services everything.
 */
const STAFF: Role[] = [
  "TEACHER",
  "SCHOOL_ADMIN",
  "MUNICIPAL_OFFICER",
  "MINISTRY_OFFICER",
  "PLATFORM_ADMIN",
  "SERVICE",
];
const ABOVE_SCHOOL: Role[] = ["MUNICIPAL_OFFICER", "MINISTRY_OFFICER", "PLATFORM_ADMIN", "SERVICE"];
const REGION: Role[] = ["MINISTRY_OFFICER", "PLATFORM_ADMIN", "SERVICE"];

export class Access {
  constructor(
    private readonly db: ReadDb,
    private readonly regionId: string,
  ) {}

  async diary(caller: Caller, studentId: string): Promise<void> {
    if (caller.personId === studentId && hasRole(caller, "STUDENT")) return;
    if (caller.personId && hasRole(caller, "GUARDIAN")) {
      const [link] = await this.db.rows(
        "SELECT 1 FROM $S.guardians WHERE guardian_id = $1 AND student_id = $2",
        [caller.personId, studentId],
      );
      if (link) return;
    }
    // Not cached: a transfer must move who may read the diary at once. The school is that
    // of the latest enrollment begun by today (the region's day): a transfer recorded ahead
    // of its date moves nothing until then (a later one counts only when none has begun).
    const [school] = await this.db.rows<{ school_id: string; municipality_id: string }>(
      `SELECT c.school_id, c.municipality_id FROM $S.enrollments e JOIN $S.class_groups c USING (class_group_id)
        WHERE e.person_id = $1 ORDER BY e.first_day <= $2::date DESC, e.first_day DESC, e.seq DESC LIMIT 1`,
      [studentId, today()],
    );
    this.require(
      caller,
      school ? { schoolId: school.school_id, municipalityId: school.municipality_id } : {},
      "studentId",
      "this pupil's diary",
    );
  }

  async classGroup(caller: Caller, classGroupId: string): Promise<void> {
    const [cg] = await this.db.cachedRows<{ school_id: string; municipality_id: string }>(
      "SELECT school_id, municipality_id FROM $S.class_groups WHERE class_group_id = $1",
      [classGroupId],
    );
    const what = `class group ${classGroupId}`;
    if (!cg) return this.unknown(caller, "classGroupId", what);
    this.require(
      caller,
      { schoolId: cg.school_id, municipalityId: cg.municipality_id },
      "classGroupId",
      what,
    );
  }

  async dashboard(caller: Caller, level: Level, scopeId: string): Promise<void> {
    switch (level) {
      case "CLASS_GROUP":
        return this.classGroup(caller, scopeId);
      case "SCHOOL": {
        const [s] = await this.db.cachedRows<{ municipality_id: string }>(
          "SELECT municipality_id FROM $S.schools WHERE school_id = $1",
          [scopeId],
        );
        const what = `school ${scopeId}`;
        if (!s) return this.unknown(caller, "scopeId", what);
        return this.require(
          caller,
          { schoolId: scopeId, municipalityId: s.municipality_id },
          "scopeId",
          what,
        );
      }
      case "MUNICIPALITY":
        requireRole(caller, ABOVE_SCHOOL, { municipalityId: scopeId, regionId: this.regionId });
        return this.municipalityExists(scopeId);
      case "REGION":
        return requireRole(caller, REGION, { regionId: this.regionId });
    }
  }

  /**
   * Refuses a caller without a staff role over the entity's school, municipality or the
   * region. The refusal names what was asked for, never where it lives: the school a pupil
   * attends or a class group belongs to is not for a caller outside it to learn.
   */
  private require(caller: Caller, at: ScopeTarget, field: string, what: string): void {
    const target = { ...at, regionId: this.regionId };
    if (STAFF.some((r) => hasRole(caller, r, target))) return;
    throw new DomainError("permission_denied", `${field}: the caller may not read ${what}`, {
      field,
    });
  }

  /**
   * An unknown id is NOT_FOUND only to a caller who reads every school (the region's roles);
   * anyone else gets the refusal another school's id gets, so ids cannot be probed.
   */
  private unknown(caller: Caller, field: string, what: string): never {
    this.require(caller, {}, field, what);
    throw new DomainError("not_found", `${field}: no ${what}`, { field });
  }

  /**
   * A municipality exists here once MunicipalityRegistered is replicated (a municipality with
   * no school yet answers zeros) or a school of it is (SchoolRegistered carries
   * municipality_id; its municipality's event may not have been seen). Checked after the
   * caller's scope, so an officer elsewhere learns nothing of the id; an id never registered
   * would otherwise be answered with zeros that look real (dashboards, the statutory export).
   */
  private async municipalityExists(municipalityId: string): Promise<void> {
    const [known] = await this.db.cachedRows(
      `SELECT 1 FROM $S.municipalities WHERE municipality_id = $1
       UNION ALL (SELECT 1 FROM $S.schools WHERE municipality_id = $1 LIMIT 1) LIMIT 1`,
      [municipalityId],
    );
    if (!known)
      throw new DomainError("not_found", `scopeId: no municipality ${municipalityId}`, {
        field: "scopeId",
      });
  }
}
