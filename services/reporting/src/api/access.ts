import { type Caller, DomainError, hasRole, type Role, requireRole } from "@otmetka/service-kit";
import type { Level } from "../projections/deltas.js";
import type { ReadDb } from "../queries/read-db.js";

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
    // Not cached: a transfer must move who may read the diary at once.
    const [school] = await this.db.rows<{ school_id: string; municipality_id: string }>(
      `SELECT c.school_id, c.municipality_id FROM $S.enrollments e JOIN $S.class_groups c USING (class_group_id)
        WHERE e.person_id = $1 ORDER BY e.first_day DESC, e.seq DESC LIMIT 1`,
      [studentId],
    );
    requireRole(caller, STAFF, {
      ...(school ? { schoolId: school.school_id, municipalityId: school.municipality_id } : {}),
      regionId: this.regionId,
    });
  }

  async classGroup(caller: Caller, classGroupId: string): Promise<void> {
    const [cg] = await this.db.cachedRows<{ school_id: string; municipality_id: string }>(
      "SELECT school_id, municipality_id FROM $S.class_groups WHERE class_group_id = $1",
      [classGroupId],
    );
    if (!cg)
      throw new DomainError("not_found", `classGroupId: no class group ${classGroupId}`, {
        field: "classGroupId",
      });
    requireRole(caller, STAFF, {
      schoolId: cg.school_id,
      municipalityId: cg.municipality_id,
      regionId: this.regionId,
    });
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
        if (!s)
          throw new DomainError("not_found", `scopeId: no school ${scopeId}`, { field: "scopeId" });
        return requireRole(caller, STAFF, {
          schoolId: scopeId,
          municipalityId: s.municipality_id,
          regionId: this.regionId,
        });
      }
      case "MUNICIPALITY":
        requireRole(caller, ABOVE_SCHOOL, { municipalityId: scopeId, regionId: this.regionId });
        return this.municipalityExists(scopeId);
      case "REGION":
        return requireRole(caller, REGION, { regionId: this.regionId });
    }
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
