import { defineProjection, type Projection } from "@otmetka/projections";
import { sql } from "kysely";

/*
 * Curriculum's replica of the identity facts it checks commands against: schools (zone,
 * closing), staff per school, class groups (year, grade level, closed) and subgroups. Fed by
 * identity's events through the projection runtime (inbox + checkpoint in the same
 * transaction), so it can be dropped and rebuilt from `<prefix>_IDENTITY` at any time.
 * Only ids and non-personal attributes are kept: personal data never reaches curriculum.
 */
export const IDENTITY_FACTS_SCHEMA = "proj_identity_facts";

type Data = Record<string, unknown>;
const str = (d: Data, k: string) => (typeof d[k] === "string" ? (d[k] as string) : "");
const int = (d: Data, k: string) => (typeof d[k] === "number" ? (d[k] as number) : 0);

export const identityFactsProjection: Projection = defineProjection({
  name: "identity_facts",
  // 2: enrolments and guardianships (who may read a class group's lessons as pupil or guardian).
  version: 2,
  sources: [{ context: "identity" }],
  async setup(db, schema) {
    // Raw SQL does not follow the builder's schema: qualify every table.
    const t = (name: string) => sql.id(schema, name);
    await sql`CREATE TABLE ${t("schools")} (
      school_id text PRIMARY KEY,
      municipality_id text NOT NULL,
      time_zone text NOT NULL,
      closed_on date
    )`.execute(db);
    await sql`CREATE TABLE ${t("staff")} (
      person_id text NOT NULL,
      school_id text NOT NULL,
      municipality_id text NOT NULL,
      erased boolean NOT NULL DEFAULT false,
      PRIMARY KEY (school_id, person_id)
    )`.execute(db);
    await sql`CREATE TABLE ${t("class_groups")} (
      class_group_id text PRIMARY KEY,
      school_id text NOT NULL,
      start_year integer NOT NULL,
      grade_level smallint NOT NULL,
      letter text NOT NULL,
      closed boolean NOT NULL DEFAULT false
    )`.execute(db);
    await sql`CREATE TABLE ${t("subgroups")} (
      subgroup_id text PRIMARY KEY,
      class_group_id text NOT NULL,
      school_id text NOT NULL,
      subject_id text NOT NULL,
      name text NOT NULL
    )`.execute(db);
    // [from_date, to_date): a transfer or withdrawal closes the period on its date.
    await sql`CREATE TABLE ${t("enrollments")} (
      person_id text NOT NULL,
      class_group_id text NOT NULL,
      from_date text NOT NULL,
      to_date text,
      PRIMARY KEY (person_id, class_group_id, from_date)
    )`.execute(db);
    await sql`CREATE TABLE ${t("guardians")} (
      guardian_id text NOT NULL,
      person_id text NOT NULL,
      PRIMARY KEY (guardian_id, person_id)
    )`.execute(db);
  },
  async apply(e, ctx) {
    const d = (e.data ?? {}) as Data;
    // ctx.schema: the live schema, or the one a rebuild is filling.
    const q = (text: string, params: unknown[]) =>
      ctx.query(text.replaceAll("$S.", `"${ctx.schema}".`), params);
    switch (e.type) {
      case "identity.v1.SchoolRegistered":
        await q(
          `INSERT INTO $S.schools (school_id, municipality_id, time_zone) VALUES ($1, $2, $3)
           ON CONFLICT (school_id) DO NOTHING`,
          [
            str(d, "schoolId"),
            str(d, "municipalityId"),
            str(d, "timeZone") || "Asia/Yekaterinburg",
          ],
        );
        return;
      case "identity.v1.SchoolClosed":
        await q("UPDATE $S.schools SET closed_on = $2 WHERE school_id = $1", [
          str(d, "schoolId"),
          str(d, "closedOn") || null,
        ]);
        return;
      case "identity.v1.PersonRegistered":
        if (d.kind !== "PERSON_KIND_STAFF") return;
        await addStaff(q, d);
        return;
      case "identity.v1.StaffAssignedToSchool":
        await addStaff(q, d);
        return;
      case "identity.v1.PersonErased":
        await q("UPDATE $S.staff SET erased = true WHERE person_id = $1", [str(d, "personId")]);
        return;
      case "identity.v1.ClassGroupOpened":
        await q(
          `INSERT INTO $S.class_groups (class_group_id, school_id, start_year, grade_level, letter)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (class_group_id) DO NOTHING`,
          [
            str(d, "classGroupId"),
            str(d, "schoolId"),
            int((d.academicYear ?? {}) as Data, "startYear"),
            int(d, "gradeLevel"),
            str(d, "letter"),
          ],
        );
        return;
      case "identity.v1.ClassGroupRenamed":
        await q(
          "UPDATE $S.class_groups SET grade_level = $2, letter = $3 WHERE class_group_id = $1",
          [str(d, "classGroupId"), int(d, "gradeLevel"), str(d, "letter")],
        );
        return;
      case "identity.v1.ClassGroupClosed":
        await q("UPDATE $S.class_groups SET closed = true WHERE class_group_id = $1", [
          str(d, "classGroupId"),
        ]);
        return;
      case "identity.v1.SubgroupOpened":
        await q(
          `INSERT INTO $S.subgroups (subgroup_id, class_group_id, school_id, subject_id, name)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subgroup_id) DO NOTHING`,
          [
            str(d, "subgroupId"),
            str(d, "classGroupId"),
            str(d, "schoolId"),
            str(d, "subjectId"),
            str(d, "name"),
          ],
        );
        return;
      case "identity.v1.StudentEnrolled":
        await enrol(q, str(d, "personId"), str(d, "classGroupId"), str(d, "effectiveDate"));
        return;
      case "identity.v1.StudentTransferred":
        await leave(q, str(d, "personId"), str(d, "fromClassGroupId"), str(d, "effectiveDate"));
        await enrol(q, str(d, "personId"), str(d, "toClassGroupId"), str(d, "effectiveDate"));
        return;
      case "identity.v1.StudentWithdrawn":
        await leave(q, str(d, "personId"), str(d, "classGroupId"), str(d, "effectiveDate"));
        return;
      case "identity.v1.GuardianLinked":
        await q(
          `INSERT INTO $S.guardians (guardian_id, person_id) VALUES ($1, $2)
           ON CONFLICT DO NOTHING`,
          [str(d, "guardianId"), str(d, "personId")],
        );
        return;
      case "identity.v1.GuardianUnlinked":
        await q("DELETE FROM $S.guardians WHERE guardian_id = $1 AND person_id = $2", [
          str(d, "guardianId"),
          str(d, "personId"),
        ]);
        return;
      default:
        return;
    }
  },
});

type Q = (text: string, params: unknown[]) => Promise<unknown>;

function enrol(q: Q, personId: string, classGroupId: string, from: string) {
  return q(
    `INSERT INTO $S.enrollments (person_id, class_group_id, from_date) VALUES ($1, $2, $3)
     ON CONFLICT DO NOTHING`,
    [personId, classGroupId, from],
  );
}

function leave(q: Q, personId: string, classGroupId: string, on: string) {
  return q(
    `UPDATE $S.enrollments SET to_date = $3
     WHERE person_id = $1 AND class_group_id = $2 AND to_date IS NULL`,
    [personId, classGroupId, on],
  );
}

function addStaff(q: Q, d: Data) {
  return q(
    `INSERT INTO $S.staff (person_id, school_id, municipality_id) VALUES ($1, $2, $3)
     ON CONFLICT (school_id, person_id) DO NOTHING`,
    [str(d, "personId"), str(d, "schoolId"), str(d, "municipalityId")],
  );
}
