import { invalidInput } from "../domain/errors.js";
import { averagesOf, type DiaryAbsence, type Exemption, type SubjectAverage } from "./diary.js";
import type { ReadDb } from "./read-db.js";

export interface JournalViewQuery {
  classGroupId: string;
  subgroupId: string;
  subjectId: string;
  startYear: number;
  /** 0 = the whole year. */
  term: number;
}

export interface JournalView {
  /** Pupil ids in roster order (enrollment order; the gateway joins names). */
  studentIds: string[];
  lessons: {
    lessonId: string;
    date: string;
    period: number;
    status: string;
    topic: string;
    homework: string;
    attendanceTaken: boolean;
  }[];
  marks: {
    markId: string;
    lessonId: string;
    studentId: string;
    value: string;
    weight: number;
    workType: string;
    term: number;
  }[];
  absences: (DiaryAbsence & { studentId: string })[];
  averages: (SubjectAverage & { studentId: string })[];
  termMarks: { studentId: string; term: number; value: string }[];
  /** The roster's exemptions in the subject and year (overlapping the term, for a term). */
  exemptions: Exemption[];
  /** The class group's school and municipality, for the caller's scope check. */
  schoolId: string;
  municipalityId: string;
}

/*
 * The journal's pupils ($1 the class group, $2 the subgroup): those ever enrolled in the class
 * group, or the members of a subgroup of the class group named (a subgroup of another class
 * group gives nobody) who were ever enrolled in it.
 */
const CLASS_GROUP_PUPILS = "FROM $S.enrollments WHERE class_group_id = $1";
const SUBGROUP_PUPILS = `FROM $S.subgroup_members m
  JOIN $S.subgroups s ON s.subgroup_id = m.subgroup_id AND s.class_group_id = $1
  WHERE m.subgroup_id = $2 AND EXISTS (
    SELECT 1 FROM $S.enrollments e WHERE e.person_id = m.person_id AND e.class_group_id = $1)`;

/** Lessons × pupils of one journal: class group (or subgroup), subject, year, term. */
export async function journalView(db: ReadDb, q: JournalViewQuery): Promise<JournalView> {
  if (!q.classGroupId) throw invalidInput("classGroupId", "is required");
  if (!q.subjectId) throw invalidInput("subjectId", "is required");
  // Without a year the view would be the roster with no lessons: a silent empty journal.
  if (!Number.isInteger(q.startYear) || q.startYear < 2000)
    throw invalidInput("academicYear", `is required (a start year, got ${q.startYear})`);
  if (!Number.isInteger(q.term) || q.term < 0 || q.term > 4)
    throw invalidInput("term", "must be 0-4");
  const [cg] = await db.rows<{ school_id: string; municipality_id: string }>(
    "SELECT school_id, municipality_id FROM $S.class_groups WHERE class_group_id = $1",
    [q.classGroupId],
  );
  const termFilter = (col: string) => `($5 = 0 OR ${col} = $5)`;
  const params = [q.classGroupId, q.subgroupId, q.subjectId, q.startYear, q.term];
  const [pupils, lessons, marks, absences, termMarks, exemptions] = await Promise.all([
    q.subgroupId
      ? db.rows<{ id: string }>(
          `SELECT DISTINCT ON (m.person_id) m.person_id AS id, m.first_day ${SUBGROUP_PUPILS}
           ORDER BY m.person_id, m.first_day`,
          [q.classGroupId, q.subgroupId],
        )
      : db.rows<{ id: string }>(
          `SELECT person_id AS id ${CLASS_GROUP_PUPILS} ORDER BY first_day, seq`,
          [q.classGroupId],
        ),
    db.rows<JournalView["lessons"][number]>(
      `SELECT lesson_id AS "lessonId", lesson_date::text AS date, period, status, topic, homework,
              attendance_taken AS "attendanceTaken" FROM $S.lessons
        WHERE class_group_id = $1 AND subgroup_id = $2 AND subject_id = $3 AND start_year = $4 AND ${termFilter("term")}
        ORDER BY lesson_date, period`,
      params,
    ),
    db.rows<JournalView["marks"][number] & { subjectId: string }>(
      `SELECT mark_id AS "markId", lesson_id AS "lessonId", student_id AS "studentId", value, weight,
              work_type AS "workType", term, subject_id AS "subjectId" FROM $S.marks
        WHERE class_group_id = $1 AND subgroup_id = $2 AND subject_id = $3 AND start_year = $4 AND ${termFilter("term")}
          AND NOT revoked ORDER BY lesson_date, seq`,
      params,
    ),
    // As in the diary: a lesson that did not take place has no absences to show or excuse.
    db.rows<DiaryAbsence & { studentId: string }>(
      `SELECT a.lesson_id AS "lessonId", a.student_id AS "studentId", a.reason, a.late_minutes AS "lateMinutes"
         FROM $S.absences a JOIN $S.lessons l USING (lesson_id)
        WHERE l.class_group_id = $1 AND l.subgroup_id = $2 AND l.subject_id = $3 AND l.start_year = $4 AND ${termFilter("l.term")}
          AND l.status IN ('SCHEDULED', 'CONDUCTED')`,
      params,
    ),
    db.rows<{ studentId: string; term: number; value: string }>(
      `SELECT t.student_id AS "studentId", t.term, t.value FROM $S.term_marks t
        WHERE t.class_group_id = $1 AND t.subgroup_id = $2 AND t.subject_id = $3 AND t.start_year = $4
          AND ${termFilter("t.term")}`,
      params,
    ),
    // The journal's pupils' exemptions in one query (a whole class group's roster when $2 is
    // '', else the subgroup's), over days the pupil was in the class group: a pupil who left
    // it (to another class group, even another school: subjects can be regional) keeps what
    // the school granted them here, never what was granted where they went. For a term,
    // those overlapping the term's dates (the class group's grade level's, from
    // TermSystemDefined); while the term's dates are not replicated yet, the year's: an
    // exemption shown too widely beats one hidden.
    db.rows<Exemption>(
      `SELECT x.student_id AS "studentId", x.subject_id AS "subjectId", x.first_day::text AS "firstDay",
              x.last_day::text AS "lastDay"
         FROM $S.exemptions x
         LEFT JOIN (SELECT t.first_day, t.last_day FROM $S.class_groups c JOIN $S.terms t
                      ON t.school_id = c.school_id AND t.start_year = c.start_year
                     AND t.grade_level = c.grade_level AND t.term = $5
                    WHERE c.class_group_id = $1) t ON $5 <> 0
        WHERE x.subject_id = $3 AND x.start_year = $4
          AND EXISTS (SELECT 1 ${CLASS_GROUP_PUPILS} AND person_id = x.student_id
                         AND first_day <= x.last_day AND (until IS NULL OR until > x.first_day))
          AND ($2 = '' OR x.student_id IN (SELECT m.person_id ${SUBGROUP_PUPILS}))
          AND (t.first_day IS NULL OR (x.first_day <= t.last_day AND x.last_day >= t.first_day))
        ORDER BY x.first_day, x.student_id, x.exemption_id`,
      params,
    ),
  ]);
  const byStudent = new Map<string, typeof marks>();
  for (const m of marks) byStudent.set(m.studentId, [...(byStudent.get(m.studentId) ?? []), m]);
  const averages = [...byStudent].flatMap(([studentId, ms]) =>
    averagesOf(ms).map((a) => ({ ...a, studentId })),
  );
  return {
    studentIds: [...new Set(pupils.map((p) => p.id))],
    lessons,
    marks: marks.map(({ subjectId: _s, ...m }) => m),
    absences,
    averages,
    termMarks,
    exemptions,
    schoolId: cg?.school_id ?? "",
    municipalityId: cg?.municipality_id ?? "",
  };
}
