import type { Queryable } from "@otmetka/eventstore";
import { decodeEvent } from "../domain/events.js";
import { PersonKind } from "../domain/person.js";

/*
 * Identity's query tables, kept by applying each event. Commands call this inside the append's
 * transaction (an inline projection: the tables are never behind the log); rebuild.ts replays
 * the whole log through the same function. Statements are idempotent per event.
 */
export async function applyToReadModels(
  db: Queryable,
  event: { type: string; data: unknown },
): Promise<void> {
  const e = decodeEvent(event);
  switch (e.name) {
    case "MunicipalityRegistered":
    case "MunicipalityRenamed":
      await db.query(
        `INSERT INTO municipalities (municipality_id, name) VALUES ($1, $2)
         ON CONFLICT (municipality_id) DO UPDATE SET name = EXCLUDED.name`,
        [e.value.municipalityId, e.value.name],
      );
      return;
    case "SchoolRegistered": {
      const v = e.value;
      await db.query(
        `INSERT INTO schools (school_id, municipality_id, name, short_name, address, time_zone, inn, ogrn)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (school_id) DO NOTHING`,
        [v.schoolId, v.municipalityId, v.name, v.shortName, v.address, v.timeZone, v.inn, v.ogrn],
      );
      return;
    }
    case "SchoolRenamed":
      await db.query("UPDATE schools SET name = $2, short_name = $3 WHERE school_id = $1", [
        e.value.schoolId,
        e.value.name,
        e.value.shortName,
      ]);
      return;
    case "SchoolClosed":
      await db.query("UPDATE schools SET closed_on = $2 WHERE school_id = $1", [
        e.value.schoolId,
        e.value.closedOn,
      ]);
      return;
    case "PersonRegistered": {
      const v = e.value;
      await db.query(
        `INSERT INTO people (person_id, kind, school_id, municipality_id, personal_data)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (person_id) DO NOTHING`,
        [v.personId, v.kind, v.schoolId, v.municipalityId, v.personalData],
      );
      // A staff member works at the school that registered them (until they leave it).
      if (v.kind === PersonKind.PERSON_KIND_STAFF) {
        await db.query(
          "INSERT INTO staff_schools (person_id, school_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
          [v.personId, v.schoolId],
        );
      }
      return;
    }
    case "PersonalDataChanged":
      await db.query("UPDATE people SET personal_data = $2 WHERE person_id = $1 AND NOT erased", [
        e.value.personId,
        e.value.personalData,
      ]);
      return;
    case "LegalHoldPlaced":
    case "LegalHoldLifted":
      await db.query("UPDATE people SET legal_hold = $2 WHERE person_id = $1", [
        e.value.personId,
        e.name === "LegalHoldPlaced",
      ]);
      return;
    case "PersonErased":
      // The ciphertext is unreadable once the key is gone; dropping it and the index tokens
      // as well leaves nothing of the person in the read models but their id.
      await db.query(
        "UPDATE people SET personal_data = NULL, portal_id = NULL, erased = true WHERE person_id = $1",
        [e.value.personId],
      );
      await db.query("DELETE FROM person_name_index WHERE person_id = $1", [e.value.personId]);
      return;
    case "ClassGroupOpened": {
      const v = e.value;
      await db.query(
        `INSERT INTO class_groups (class_group_id, school_id, municipality_id, academic_year, grade_level, letter, homeroom_teacher_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (class_group_id) DO NOTHING`,
        [
          v.classGroupId,
          v.schoolId,
          v.municipalityId,
          v.academicYear?.startYear ?? 0,
          v.gradeLevel,
          v.letter,
          v.homeroomTeacherId || null,
        ],
      );
      return;
    }
    case "ClassGroupRenamed":
      await db.query(
        "UPDATE class_groups SET grade_level = $2, letter = $3 WHERE class_group_id = $1",
        [e.value.classGroupId, e.value.gradeLevel, e.value.letter],
      );
      return;
    case "HomeroomTeacherAssigned":
      await db.query("UPDATE class_groups SET homeroom_teacher_id = $2 WHERE class_group_id = $1", [
        e.value.classGroupId,
        e.value.homeroomTeacherId || null,
      ]);
      return;
    case "ClassGroupClosed":
      await db.query("UPDATE class_groups SET closed = true WHERE class_group_id = $1", [
        e.value.classGroupId,
      ]);
      return;
    case "StudentEnrolled":
      await db.query(
        `INSERT INTO enrollments (person_id, valid_from, class_group_id, school_id)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        [e.value.personId, e.value.effectiveDate, e.value.classGroupId, e.value.schoolId],
      );
      return;
    case "StudentTransferred":
      await closeEnrollment(db, e.value.personId, e.value.effectiveDate);
      await db.query(
        `INSERT INTO enrollments (person_id, valid_from, class_group_id, school_id)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        [e.value.personId, e.value.effectiveDate, e.value.toClassGroupId, e.value.schoolId],
      );
      return;
    case "StudentWithdrawn":
      await closeEnrollment(db, e.value.personId, e.value.effectiveDate);
      return;
    case "SubgroupOpened":
      await db.query(
        `INSERT INTO subgroups (subgroup_id, class_group_id, school_id, subject_id, name)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
        [
          e.value.subgroupId,
          e.value.classGroupId,
          e.value.schoolId,
          e.value.subjectId,
          e.value.name,
        ],
      );
      return;
    case "SubgroupMemberAdded":
      await db.query(
        `INSERT INTO subgroup_members (subgroup_id, person_id, valid_from) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING`,
        [e.value.subgroupId, e.value.personId, e.value.effectiveDate],
      );
      return;
    case "SubgroupMemberRemoved":
      await db.query(
        `UPDATE subgroup_members SET valid_to = $3
         WHERE subgroup_id = $1 AND person_id = $2 AND valid_to IS NULL`,
        [e.value.subgroupId, e.value.personId, e.value.effectiveDate],
      );
      return;
    case "GuardianLinked":
      await db.query(
        "INSERT INTO guardian_links (guardian_id, student_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [e.value.guardianId, e.value.personId],
      );
      return;
    case "GuardianUnlinked":
      await db.query("DELETE FROM guardian_links WHERE guardian_id = $1 AND student_id = $2", [
        e.value.guardianId,
        e.value.personId,
      ]);
      return;
    case "PortalConsentGranted":
    case "PortalConsentWithdrawn":
      await db.query("UPDATE people SET portal_consent = $2 WHERE person_id = $1", [
        e.value.personId,
        e.name === "PortalConsentGranted",
      ]);
      return;
    case "PortalIdAssigned":
      await db.query("UPDATE people SET portal_id = $2 WHERE person_id = $1 AND NOT erased", [
        e.value.personId,
        e.value.portalId,
      ]);
      return;
    case "StaffAssignedToSchool":
      await db.query(
        "INSERT INTO staff_schools (person_id, school_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [e.value.personId, e.value.schoolId],
      );
      return;
    case "StaffUnassignedFromSchool":
      await db.query("DELETE FROM staff_schools WHERE person_id = $1 AND school_id = $2", [
        e.value.personId,
        e.value.schoolId,
      ]);
      // Kept: the school's journals still show the teacher's name (person_former_schools).
      await db.query(
        "INSERT INTO staff_schools_left (person_id, school_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [e.value.personId, e.value.schoolId],
      );
      // Its staff no longer find them by name (the registering school's entries stay, as
      // rebuild.ts indexes every person there).
      await db.query(
        `DELETE FROM person_name_index WHERE person_id = $1 AND school_id = $2
           AND NOT EXISTS (SELECT 1 FROM people WHERE person_id = $1 AND school_id = $2)`,
        [e.value.personId, e.value.schoolId],
      );
      return;
    case "RoleGranted":
      await db.query(
        `INSERT INTO account_grants (account_id, role, scope_kind, scope_id) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING`,
        [e.value.accountId, e.value.role, e.value.scopeKind, e.value.scopeId],
      );
      return;
    case "RoleRevoked":
      await db.query(
        `DELETE FROM account_grants
         WHERE account_id = $1 AND role = $2 AND scope_kind = $3 AND scope_id = $4`,
        [e.value.accountId, e.value.role, e.value.scopeKind, e.value.scopeId],
      );
      return;
    case "AccountDisabled":
      await db.query(
        `INSERT INTO disabled_accounts (account_id, reason) VALUES ($1, $2)
         ON CONFLICT (account_id) DO UPDATE SET reason = EXCLUDED.reason`,
        [e.value.accountId, e.value.reason],
      );
      return;
    case "AccountEnabled":
      await db.query("DELETE FROM disabled_accounts WHERE account_id = $1", [e.value.accountId]);
      return;
    case "AccountDeleted":
      // Its grants and status go with it (the accounts row itself is not a read model).
      await db.query("DELETE FROM account_grants WHERE account_id = $1", [e.value.accountId]);
      await db.query("DELETE FROM disabled_accounts WHERE account_id = $1", [e.value.accountId]);
      return;
    default:
      return;
  }
}

const closeEnrollment = (db: Queryable, personId: string, date: string) =>
  db.query("UPDATE enrollments SET valid_to = $2 WHERE person_id = $1 AND valid_to IS NULL", [
    personId,
    date,
  ]);
