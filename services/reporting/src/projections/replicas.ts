import type { Deltas, Scope } from "./deltas.js";
import { type Data, int, scopeOf, str, yearOf } from "./event-data.js";
import type { Q } from "./query.js";

/*
 * Identity and curriculum facts reporting needs (ids, dates, non-personal attributes only).
 * Enrollment changes re-attribute the pupil's results for the whole year: every subject and
 * period of that pupil is recomputed in the batch's flush.
 */
export type Handler = (q: Q, d: Data, deltas: Deltas, meta: EventMeta) => Promise<unknown>;

/** What a handler needs of the envelope: when the event was recorded. */
export interface EventMeta {
  readonly time: string;
}

async function touchStudentYear(
  q: Q,
  deltas: Deltas,
  studentId: string,
  startYear: number,
  fallback: Scope,
) {
  const rows = await q<{ subject_id: string; term: number }>(
    "SELECT subject_id, term FROM $S.pupil_results WHERE student_id = $1 AND start_year = $2",
    [studentId, startYear],
  );
  for (const r of rows) deltas.touch(studentId, startYear, r.term, r.subject_id, fallback);
}

/**
 * The enrollments a rebuild gathered, in one statement (in their order: attribution takes
 * the latest by `seq`), before anything reads the table: a day close or flush, a roster, a
 * transfer or withdrawal.
 */
export async function enrollmentsWritten(q: Q, deltas: Deltas): Promise<void> {
  if (deltas.newEnrollments.length === 0) return;
  const rows = deltas.newEnrollments.splice(0);
  await q(
    `INSERT INTO $S.enrollments (person_id, class_group_id, first_day)
     SELECT p, c, f FROM unnest($1::text[], $2::text[], $3::date[]) WITH ORDINALITY AS t(p, c, f, n)
     ORDER BY n ON CONFLICT DO NOTHING`,
    [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
  );
}

const closeEnrollment = (q: Q, person: string, classGroup: string, until: string) =>
  q(
    "UPDATE $S.enrollments SET until = $3 WHERE person_id = $1 AND class_group_id = $2 AND until IS NULL",
    [person, classGroup, until],
  );

const openEnrollment = (q: Q, person: string, classGroup: string, from: string) =>
  q(
    "INSERT INTO $S.enrollments (person_id, class_group_id, first_day) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    [person, classGroup, from],
  );

async function yearOfClassGroup(q: Q, classGroupId: string): Promise<number | null> {
  const [r] = await q<{ start_year: number }>(
    "SELECT start_year FROM $S.class_groups WHERE class_group_id = $1",
    [classGroupId],
  );
  return r?.start_year ?? null;
}

export const identityHandlers: Record<string, Handler> = {
  "identity.v1.SchoolRegistered": (q, d) =>
    q(
      `INSERT INTO $S.schools (school_id, municipality_id, time_zone, name) VALUES ($1, $2, $3, $4)
       ON CONFLICT (school_id) DO NOTHING`,
      [
        str(d, "schoolId"),
        str(d, "municipalityId"),
        str(d, "timeZone") || "Asia/Yekaterinburg",
        str(d, "name"),
      ],
    ),
  "identity.v1.ClassGroupOpened": (q, d) =>
    q("INSERT INTO $S.class_groups VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING", [
      str(d, "classGroupId"),
      str(d, "schoolId"),
      str(d, "municipalityId"),
      yearOf(d),
      int(d, "gradeLevel"),
    ]),
  "identity.v1.ClassGroupRenamed": (q, d) =>
    q("UPDATE $S.class_groups SET grade_level = $2 WHERE class_group_id = $1", [
      str(d, "classGroupId"),
      int(d, "gradeLevel"),
    ]),
  "identity.v1.StudentEnrolled": async (q, d, deltas) => {
    deltas.attendance.forgetRosters();
    const person = str(d, "personId");
    if (deltas.rebuild) {
      // A rebuild knows every pupil_results row it made: the same touches, no round trip.
      deltas.newEnrollments.push([person, str(d, "classGroupId"), str(d, "effectiveDate")]);
      const scope = scopeOf(d, "classGroupId");
      for (const [subject, term] of deltas.rebuild.resultsOf(person, yearOf(d)))
        deltas.touch(person, yearOf(d), term, subject, scope);
      return;
    }
    // One statement: the enrollment opened and the pupil's results of the year to re-attribute.
    const rows = await q<{ subject_id: string; term: number }>(
      `WITH opened AS (INSERT INTO $S.enrollments (person_id, class_group_id, first_day) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING)
       SELECT subject_id, term FROM $S.pupil_results WHERE student_id = $1 AND start_year = $4`,
      [person, str(d, "classGroupId"), str(d, "effectiveDate"), yearOf(d)],
    );
    const scope = scopeOf(d, "classGroupId");
    for (const r of rows) deltas.touch(person, yearOf(d), r.term, r.subject_id, scope);
  },
  "identity.v1.StudentTransferred": async (q, d, deltas) => {
    deltas.attendance.forgetRosters();
    await enrollmentsWritten(q, deltas);
    const person = str(d, "personId");
    await closeEnrollment(q, person, str(d, "fromClassGroupId"), str(d, "effectiveDate"));
    await openEnrollment(q, person, str(d, "toClassGroupId"), str(d, "effectiveDate"));
    await touchStudentYear(q, deltas, person, yearOf(d), scopeOf(d, "toClassGroupId"));
  },
  "identity.v1.StudentWithdrawn": async (q, d, deltas) => {
    deltas.attendance.forgetRosters();
    await enrollmentsWritten(q, deltas);
    const person = str(d, "personId");
    const classGroup = str(d, "classGroupId");
    await closeEnrollment(q, person, classGroup, str(d, "effectiveDate"));
    const year = await yearOfClassGroup(q, classGroup);
    if (year !== null) await touchStudentYear(q, deltas, person, year, scopeOf(d, "classGroupId"));
  },
  // Whose subgroup it is: the journal view lists its members only under that class group.
  "identity.v1.SubgroupOpened": (q, d) =>
    q(
      "INSERT INTO $S.subgroups (subgroup_id, class_group_id, subject_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
      [str(d, "subgroupId"), str(d, "classGroupId"), str(d, "subjectId")],
    ),
  "identity.v1.SubgroupMemberAdded": (q, d, deltas) => {
    deltas.attendance.forgetRosters();
    return q(
      "INSERT INTO $S.subgroup_members (person_id, subgroup_id, first_day) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
      [str(d, "personId"), str(d, "subgroupId"), str(d, "effectiveDate")],
    );
  },
  "identity.v1.SubgroupMemberRemoved": (q, d, deltas) => {
    deltas.attendance.forgetRosters();
    return q(
      "UPDATE $S.subgroup_members SET until = $3 WHERE person_id = $1 AND subgroup_id = $2 AND until IS NULL",
      [str(d, "personId"), str(d, "subgroupId"), str(d, "effectiveDate")],
    );
  },
  "identity.v1.GuardianLinked": (q, d) =>
    q("INSERT INTO $S.guardians VALUES ($1, $2) ON CONFLICT DO NOTHING", [
      str(d, "guardianId"),
      str(d, "personId"),
    ]),
  "identity.v1.GuardianUnlinked": (q, d) =>
    q("DELETE FROM $S.guardians WHERE guardian_id = $1 AND student_id = $2", [
      str(d, "guardianId"),
      str(d, "personId"),
    ]),
};

/**
 * Names of municipalities and schools, for the statutory export only: nothing is attributed
 * by them, so they are kept apart from the replica events that drop a rebuild's attributions.
 */
export const nameHandlers: Record<string, Handler> = {
  "identity.v1.MunicipalityRegistered": (q, d) =>
    q("INSERT INTO $S.municipalities VALUES ($1, $2) ON CONFLICT DO NOTHING", [
      str(d, "municipalityId"),
      str(d, "name"),
    ]),
  "identity.v1.MunicipalityRenamed": (q, d) =>
    q(
      `INSERT INTO $S.municipalities VALUES ($1, $2)
       ON CONFLICT (municipality_id) DO UPDATE SET name = EXCLUDED.name`,
      [str(d, "municipalityId"), str(d, "name")],
    ),
  "identity.v1.SchoolRenamed": (q, d) =>
    q("UPDATE $S.schools SET name = $2 WHERE school_id = $1", [str(d, "schoolId"), str(d, "name")]),
};

export const curriculumReplicaHandlers: Record<string, Handler> = {
  // A work programme version: its planned lessons are its items' hours.
  "curriculum.v1.WorkProgrammeDrafted": (q, d) => {
    const items = Array.isArray(d.items) ? (d.items as Data[]) : [];
    return q(
      `INSERT INTO $S.programmes (school_id, start_year, grade_level, subject_id, version, hours)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [
        str(d, "schoolId"),
        yearOf(d),
        int(d, "gradeLevel"),
        str(d, "subjectId"),
        int(d, "version"),
        items.reduce((n, i) => n + int(i, "hours"), 0),
      ],
    );
  },
  "curriculum.v1.WorkProgrammeApproved": (q, d) =>
    q(
      `UPDATE $S.programmes SET approved = true WHERE school_id = $1 AND start_year = $2 AND grade_level = $3
         AND subject_id = $4 AND version = $5`,
      [str(d, "schoolId"), yearOf(d), int(d, "gradeLevel"), str(d, "subjectId"), int(d, "version")],
    ),
  "curriculum.v1.SubjectAdded": (q, d, deltas) => {
    const grading = str(d, "grading") || "GRADING_FIVE_POINT";
    // The first wins, as the insert's ON CONFLICT DO NOTHING.
    const gradings = deltas.rebuild?.gradings;
    if (gradings && !gradings.has(str(d, "subjectId"))) gradings.set(str(d, "subjectId"), grading);
    return q(
      "INSERT INTO $S.subjects (subject_id, grading, name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
      [str(d, "subjectId"), grading, str(d, "name")],
    );
  },
  "curriculum.v1.TermSystemDefined": async (q, d, deltas) => {
    const terms = Array.isArray(d.terms) ? (d.terms as Data[]) : [];
    const levels = Array.isArray(d.gradeLevels) ? (d.gradeLevels as number[]) : [];
    await enrollmentsWritten(q, deltas);
    for (const level of levels) {
      await q(
        "DELETE FROM $S.terms WHERE school_id = $1 AND start_year = $2 AND grade_level = $3",
        [str(d, "schoolId"), yearOf(d), level],
      );
      for (const t of terms) {
        // The kind names the period in the statutory export (quarter, trimester, half-year).
        await q("INSERT INTO $S.terms VALUES ($1, $2, $3, $4, $5, $6, $7)", [
          str(d, "schoolId"),
          yearOf(d),
          level,
          int(t, "number"),
          str(t, "firstDay"),
          str(t, "lastDay"),
          str(d, "kind"),
        ]);
      }
    }
    // The terms' last days decide where a pupil counts and whether on roll (attribution.ts):
    // the results of the grade levels' pupils are attributed again, not only those a later
    // mark touches. A rare event: one statement.
    const rows = await q<{ student_id: string; subject_id: string; term: number } & Scope>(
      `SELECT DISTINCT r.student_id, r.subject_id, r.term, c.class_group_id AS "classGroupId",
              c.school_id AS "schoolId", c.municipality_id AS "municipalityId"
         FROM $S.class_groups c JOIN $S.enrollments e USING (class_group_id)
         JOIN $S.pupil_results r ON r.student_id = e.person_id AND r.start_year = c.start_year
        WHERE c.school_id = $1 AND c.start_year = $2 AND c.grade_level = ANY($3::int[])`,
      [str(d, "schoolId"), yearOf(d), levels],
    );
    for (const r of rows) {
      const { classGroupId, schoolId, municipalityId } = r;
      deltas.touch(r.student_id, yearOf(d), r.term, r.subject_id, {
        classGroupId,
        schoolId,
        municipalityId,
      });
    }
  },
};
