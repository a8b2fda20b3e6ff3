import { defineProjection, type Projection } from "@otmetka/projections";
import { sql } from "kysely";

/*
 * Grades' replica of the identity and curriculum facts it checks commands against, fed by
 * their events through the projection runtime (inbox + checkpoint in one transaction), so
 * grading keeps working while those services are down and the replica can be rebuilt from
 * `<prefix>_IDENTITY` / `<prefix>_CURRICULUM` at any time. Ids, dates and non-personal
 * attributes only. Date ranges are [first_day, until): `until` is exclusive, null = open.
 */
export const FACTS_SCHEMA = "proj_grades_facts";

type Data = Record<string, unknown>;
const str = (d: Data, k: string) => (typeof d[k] === "string" ? (d[k] as string) : "");
const int = (d: Data, k: string) => (typeof d[k] === "number" ? (d[k] as number) : 0);
const year = (d: Data) => int((d.academicYear ?? {}) as Data, "startYear");

type Q = (text: string, params: unknown[]) => Promise<unknown>;

/** The transaction lock between erasures (exclusive) and note writers (shared). */
export const NOTES_LOCK = "hashtext('grades.notes')";

export const gradesFactsProjection: Projection = defineProjection({
  name: "grades_facts",
  // 2: term dates (TermSystemDefined), for exemptions over closed terms.
  // 3: erased persons, so that no note about them is written after their erasure.
  // 4: a lesson's conductor beside its teacher, so that conducting it takes no one's rights.
  // 5: an assignment's last day (TeacherAssignmentEnded), after which it gives no rights.
  version: 5,
  sources: [{ context: "identity" }, { context: "curriculum" }],
  async setup(db, schema) {
    const t = (name: string) => sql.id(schema, name);
    const ddl = [
      sql`CREATE TABLE ${t("schools")} (school_id text PRIMARY KEY, municipality_id text NOT NULL,
        time_zone text NOT NULL)`,
      sql`CREATE TABLE ${t("class_groups")} (class_group_id text PRIMARY KEY, school_id text NOT NULL,
        municipality_id text NOT NULL, start_year integer NOT NULL, grade_level smallint NOT NULL)`,
      sql`CREATE TABLE ${t("subgroups")} (subgroup_id text PRIMARY KEY, class_group_id text NOT NULL,
        subject_id text NOT NULL)`,
      sql`CREATE TABLE ${t("enrollments")} (person_id text NOT NULL, class_group_id text NOT NULL,
        first_day date NOT NULL, until date, PRIMARY KEY (person_id, class_group_id, first_day))`,
      sql`CREATE INDEX ON ${t("enrollments")} (class_group_id, person_id)`,
      sql`CREATE TABLE ${t("subgroup_members")} (person_id text NOT NULL, subgroup_id text NOT NULL,
        first_day date NOT NULL, until date, PRIMARY KEY (person_id, subgroup_id, first_day))`,
      sql`CREATE TABLE ${t("subjects")} (subject_id text PRIMARY KEY, grading text NOT NULL)`,
      sql`CREATE TABLE ${t("erased_persons")} (person_id text PRIMARY KEY)`,
      sql`CREATE TABLE ${t("lessons")} (lesson_id text PRIMARY KEY, class_group_id text NOT NULL,
        subgroup_id text NOT NULL, subject_id text NOT NULL, teacher_id text NOT NULL,
        lesson_date date NOT NULL, term smallint NOT NULL, status text NOT NULL,
        conducted_by text NOT NULL DEFAULT '')`,
      sql`CREATE TABLE ${t("assignments")} (assignment_id text PRIMARY KEY, teacher_id text NOT NULL,
        class_group_id text NOT NULL, subgroup_id text NOT NULL, subject_id text NOT NULL,
        start_year integer NOT NULL, last_day date)`,
      sql`CREATE INDEX ON ${t("assignments")} (class_group_id, subject_id, start_year)`,
      sql`CREATE TABLE ${t("substitutes")} (assignment_id text NOT NULL, substitute_id text NOT NULL,
        first_day date NOT NULL, last_day date NOT NULL, PRIMARY KEY (assignment_id, substitute_id, first_day))`,
      sql`CREATE TABLE ${t("terms")} (school_id text NOT NULL, start_year integer NOT NULL,
        grade_level smallint NOT NULL, term smallint NOT NULL, first_day date NOT NULL,
        last_day date NOT NULL, PRIMARY KEY (school_id, start_year, grade_level, term))`,
    ];
    for (const stmt of ddl) await stmt.execute(db);
  },
  async apply(e, ctx) {
    const d = (e.data ?? {}) as Data;
    const q: Q = (text, params) => ctx.query(text.replaceAll("$S.", `"${ctx.schema}".`), params);
    const handler = e.context === "identity" ? identity[e.type] : curriculum[e.type];
    if (handler) await handler(q, d);
  },
});

const closeEnrollment = (q: Q, person: string, classGroup: string, until: string) =>
  q(
    `UPDATE $S.enrollments SET until = $3 WHERE person_id = $1 AND class_group_id = $2
       AND until IS NULL`,
    [person, classGroup, until],
  );

const openEnrollment = (q: Q, person: string, classGroup: string, from: string) =>
  q(
    `INSERT INTO $S.enrollments (person_id, class_group_id, first_day) VALUES ($1, $2, $3)
     ON CONFLICT DO NOTHING`,
    [person, classGroup, from],
  );

const identity: Record<string, (q: Q, d: Data) => Promise<unknown>> = {
  "identity.v1.SchoolRegistered": (q, d) =>
    q(`INSERT INTO $S.schools VALUES ($1, $2, $3) ON CONFLICT (school_id) DO NOTHING`, [
      str(d, "schoolId"),
      str(d, "municipalityId"),
      str(d, "timeZone") || "Asia/Yekaterinburg",
    ]),
  "identity.v1.ClassGroupOpened": (q, d) =>
    q(`INSERT INTO $S.class_groups VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, [
      str(d, "classGroupId"),
      str(d, "schoolId"),
      str(d, "municipalityId"),
      year(d),
      int(d, "gradeLevel"),
    ]),
  "identity.v1.ClassGroupRenamed": (q, d) =>
    q("UPDATE $S.class_groups SET grade_level = $2 WHERE class_group_id = $1", [
      str(d, "classGroupId"),
      int(d, "gradeLevel"),
    ]),
  "identity.v1.SubgroupOpened": (q, d) =>
    q(`INSERT INTO $S.subgroups VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [
      str(d, "subgroupId"),
      str(d, "classGroupId"),
      str(d, "subjectId"),
    ]),
  "identity.v1.StudentEnrolled": (q, d) =>
    openEnrollment(q, str(d, "personId"), str(d, "classGroupId"), str(d, "effectiveDate")),
  "identity.v1.StudentTransferred": async (q, d) => {
    const person = str(d, "personId");
    await closeEnrollment(q, person, str(d, "fromClassGroupId"), str(d, "effectiveDate"));
    await openEnrollment(q, person, str(d, "toClassGroupId"), str(d, "effectiveDate"));
  },
  "identity.v1.StudentWithdrawn": (q, d) =>
    closeEnrollment(q, str(d, "personId"), str(d, "classGroupId"), str(d, "effectiveDate")),
  "identity.v1.SubgroupMemberAdded": (q, d) =>
    q(
      `INSERT INTO $S.subgroup_members (person_id, subgroup_id, first_day) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING`,
      [str(d, "personId"), str(d, "subgroupId"), str(d, "effectiveDate")],
    ),
  "identity.v1.SubgroupMemberRemoved": (q, d) =>
    q(
      `UPDATE $S.subgroup_members SET until = $3 WHERE person_id = $1 AND subgroup_id = $2
         AND until IS NULL`,
      [str(d, "personId"), str(d, "subgroupId"), str(d, "effectiveDate")],
    ),
  // Erasure: the pupil's free text (comments, excusal notes) goes; marks keep the opaque id.
  // The person is remembered, and note writers (commands/notes.ts) hold NOTES_LOCK shared:
  // a note committed before this is deleted here, one written after sees the person erased.
  "identity.v1.PersonErased": async (q, d) => {
    const personId = str(d, "personId");
    await q(`SELECT pg_advisory_xact_lock(${NOTES_LOCK})`, []);
    await q("INSERT INTO $S.erased_persons VALUES ($1) ON CONFLICT DO NOTHING", [personId]);
    return q("DELETE FROM grades.notes WHERE person_id = $1", [personId]);
  },
};

const upsertLesson = (q: Q, d: Data, status: string) =>
  q(
    `INSERT INTO $S.lessons (lesson_id, class_group_id, subgroup_id, subject_id, teacher_id,
       lesson_date, term, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (lesson_id) DO UPDATE SET status = excluded.status, teacher_id = excluded.teacher_id,
       lesson_date = excluded.lesson_date, term = excluded.term`,
    [
      str(d, "lessonId"),
      str(d, "classGroupId"),
      str(d, "subgroupId"),
      str(d, "subjectId"),
      str(d, "teacherId"),
      str(d, "date"),
      int(d, "term"),
      status,
    ],
  );

/** A later term system for a grade level replaces the earlier one (as in curriculum). */
async function defineTerms(q: Q, d: Data) {
  const grades = Array.isArray(d.gradeLevels) ? (d.gradeLevels as number[]) : [];
  const terms = (Array.isArray(d.terms) ? d.terms : []) as Data[];
  const at = [str(d, "schoolId"), year(d), grades];
  await q(
    `DELETE FROM $S.terms WHERE school_id = $1 AND start_year = $2 AND grade_level = ANY($3::int[])`,
    at,
  );
  await q(
    `INSERT INTO $S.terms SELECT $1, $2, g, t.term, t.first_day::date, t.last_day::date
       FROM unnest($3::int[]) g,
            jsonb_to_recordset($4::jsonb) AS t(term int, first_day text, last_day text)`,
    [
      ...at,
      JSON.stringify(
        terms.map((t) => ({
          term: int(t, "number"),
          first_day: str(t, "firstDay"),
          last_day: str(t, "lastDay"),
        })),
      ),
    ],
  );
}

const setLesson = (q: Q, d: Data, set: string, params: unknown[]) =>
  q(`UPDATE $S.lessons SET ${set} WHERE lesson_id = $1`, [str(d, "lessonId"), ...params]);

const curriculum: Record<string, (q: Q, d: Data) => Promise<unknown>> = {
  "curriculum.v1.SubjectAdded": (q, d) =>
    q(`INSERT INTO $S.subjects VALUES ($1, $2) ON CONFLICT DO NOTHING`, [
      str(d, "subjectId"),
      str(d, "grading") || "GRADING_FIVE_POINT",
    ]),
  "curriculum.v1.TeacherAssigned": (q, d) =>
    q(`INSERT INTO $S.assignments VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, [
      str(d, "assignmentId"),
      str(d, "teacherId"),
      str(d, "classGroupId"),
      str(d, "subgroupId"),
      str(d, "subjectId"),
      year(d),
    ]),
  "curriculum.v1.TeacherAssignmentEnded": (q, d) =>
    q("UPDATE $S.assignments SET last_day = $2 WHERE assignment_id = $1", [
      str(d, "assignmentId"),
      str(d, "lastDay"),
    ]),
  "curriculum.v1.SubstituteAssigned": (q, d) =>
    q(`INSERT INTO $S.substitutes VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [
      str(d, "assignmentId"),
      str(d, "substituteId"),
      str(d, "firstDay"),
      str(d, "lastDay"),
    ]),
  "curriculum.v1.TermSystemDefined": (q, d) => defineTerms(q, d),
  "curriculum.v1.LessonScheduled": (q, d) => upsertLesson(q, d, "SCHEDULED"),
  // The conductor is kept beside the lesson's teacher, not over them: curriculum lets the
  // teacher conduct it, and having taught it (or been due to) gives rights on it either way.
  "curriculum.v1.LessonConducted": (q, d) =>
    setLesson(q, d, "status = 'CONDUCTED', conducted_by = $2", [str(d, "conductedBy")]),
  "curriculum.v1.LessonCancelled": (q, d) => setLesson(q, d, "status = 'CANCELLED'", []),
  "curriculum.v1.LessonUnscheduled": (q, d) => setLesson(q, d, "status = 'UNSCHEDULED'", []),
  "curriculum.v1.LessonMoved": (q, d) =>
    setLesson(q, d, "lesson_date = $2, term = $3", [str(d, "toDate"), int(d, "toTerm")]),
  "curriculum.v1.LessonTeacherChanged": (q, d) =>
    setLesson(q, d, "teacher_id = $2", [str(d, "newTeacherId")]),
};
