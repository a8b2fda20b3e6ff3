import { invalidInput } from "../domain/errors.js";
import { dayNumber } from "../domain/metrics/civil-date.js";
import { weightedSumOf } from "../domain/metrics/pupil-result.js";
import { roundedMark, roundedRatio } from "../domain/metrics/rounding.js";
import { toEntryValue } from "../projections/pupils.js";
import type { ReadDb } from "./read-db.js";

export interface DiaryLesson {
  lessonId: string;
  date: string;
  period: number;
  subjectId: string;
  classGroupId: string;
  subgroupId: string;
  status: string;
  topic: string;
  homework: string;
  homeworkDue: string;
}

export interface DiaryMark {
  markId: string;
  lessonId: string;
  date: string;
  subjectId: string;
  term: number;
  value: string;
  weight: number;
  workType: string;
}

export interface DiaryAbsence {
  lessonId: string;
  reason: string;
  lateMinutes: number;
}

export interface SubjectAverage {
  subjectId: string;
  term: number;
  /** Σw·m / Σw as text with 2 decimals, "" without marks. */
  weightedAverage: string;
  /** The weighted average rounded to a mark (x.5 up), 0 without marks. */
  roundedMark: number;
}

export interface TermMark {
  subjectId: string;
  term: number;
  value: string;
}

/** Осв.: exempt from the subject over [firstDay, lastDay]; the reason is not replicated here. */
export interface Exemption {
  studentId: string;
  subjectId: string;
  firstDay: string;
  lastDay: string;
}

export interface Diary {
  studentId: string;
  lessons: DiaryLesson[];
  marks: DiaryMark[];
  absences: DiaryAbsence[];
  averages: SubjectAverage[];
  termMarks: TermMark[];
  exemptions: Exemption[];
}

/** The longest diary range: `to` at most this many days after `from` (a school year, leap or not). */
export const MAX_DIARY_DAYS = 366;

/**
 * Refuses a diary range that is not two dates, runs backwards or spans more than a school
 * year: every query of a diary reads the range's rows, so decades of a pupil's diary would
 * read (and send) all of them.
 */
export function checkDiaryRange(from: string, to: string): void {
  const first = dayNumber(from, "from");
  const days = dayNumber(to, "to") - first;
  if (days < 0) throw invalidInput("to", "must not be before from");
  if (days > MAX_DIARY_DAYS)
    throw invalidInput("to", `at most ${MAX_DIARY_DAYS} days after from, got ${days}`);
}

/** Averages per subject and term from a pupil's marks (special entries are not marks). */
export function averagesOf(
  marks: readonly {
    subjectId: string;
    term: number;
    value: string;
    weight: number;
    startYear?: number;
  }[],
): SubjectAverage[] {
  const groups = new Map<
    string,
    {
      subjectId: string;
      term: number;
      entries: { value: ReturnType<typeof toEntryValue>; weight: number }[];
    }
  >();
  for (const m of marks) {
    // Term 1 of two academic years are two averages (a range may span a year's end).
    const k = `${m.startYear ?? ""}|${m.subjectId}|${m.term}`;
    const g = groups.get(k) ?? { subjectId: m.subjectId, term: m.term, entries: [] };
    groups.set(k, g);
    g.entries.push({ value: toEntryValue(m.value), weight: m.weight });
  }
  return [...groups.values()].map((g) => {
    const s = weightedSumOf(g.entries);
    // Half up on the integers: (4.225).toFixed(2) is "4.22", the double being 4.22499….
    const avg = roundedRatio(s.sumWeighted, s.sumWeights, 2);
    return {
      subjectId: g.subjectId,
      term: g.term,
      weightedAverage: avg === null ? "" : avg.toFixed(2),
      roundedMark: roundedMark(s) ?? 0,
    };
  });
}

/**
 * The academic year (its start year) of a civil date parameter: 1 September - 31 August, so
 * the date 8 months earlier falls in the start year (2026-09-01 -> 2026, 2027-08-31 -> 2026).
 */
const ACADEMIC_YEAR = (param: string) =>
  `extract(year FROM ${param}::date - interval '8 months')::int`;

/** A pupil's diary over [from, to]: the lessons of the class groups (and subgroups) they were in on each date. */
export async function diary(
  db: ReadDb,
  studentId: string,
  from: string,
  to: string,
): Promise<Diary> {
  if (!studentId) throw invalidInput("studentId", "is required");
  checkDiaryRange(from, to);
  const [lessons, marks, absences, termMarks, exemptions] = await Promise.all([
    db.rows<DiaryLesson>(
      `SELECT l.lesson_id AS "lessonId", l.lesson_date::text AS date, l.period, l.subject_id AS "subjectId",
              l.class_group_id AS "classGroupId", l.subgroup_id AS "subgroupId", l.status, l.topic, l.homework,
              l.homework_due AS "homeworkDue"
         FROM $S.lessons l JOIN $S.enrollments e ON e.class_group_id = l.class_group_id AND e.person_id = $1
          AND l.lesson_date >= e.first_day AND (e.until IS NULL OR l.lesson_date < e.until)
        WHERE l.lesson_date BETWEEN $2::date AND $3::date AND l.status <> 'UNSCHEDULED'
          AND (l.subgroup_id = '' OR EXISTS (SELECT 1 FROM $S.subgroup_members m WHERE m.subgroup_id = l.subgroup_id
               AND m.person_id = $1 AND m.first_day <= l.lesson_date AND (m.until IS NULL OR m.until > l.lesson_date)))
        ORDER BY l.lesson_date, l.period`,
      [studentId, from, to],
    ),
    db.rows<DiaryMark & { startYear: number }>(
      `SELECT mark_id AS "markId", lesson_id AS "lessonId", lesson_date::text AS date, subject_id AS "subjectId", term,
              value, weight, work_type AS "workType", start_year AS "startYear"
         FROM $S.marks WHERE student_id = $1 AND NOT revoked
          AND start_year IN (SELECT DISTINCT start_year FROM $S.marks WHERE student_id = $1
                              AND lesson_date BETWEEN $2::date AND $3::date)
        ORDER BY lesson_date, seq`,
      [studentId, from, to],
    ),
    // Absences of lessons that took place: a cancelled or unscheduled lesson's are moot.
    db.rows<DiaryAbsence>(
      `SELECT a.lesson_id AS "lessonId", a.reason, a.late_minutes AS "lateMinutes" FROM $S.absences a
         JOIN $S.lessons l USING (lesson_id)
        WHERE a.student_id = $1 AND l.lesson_date BETWEEN $2::date AND $3::date
          AND l.status IN ('SCHEDULED', 'CONDUCTED')`,
      [studentId, from, to],
    ),
    db.rows<TermMark>(
      `SELECT subject_id AS "subjectId", term, value FROM $S.term_marks WHERE student_id = $1
          AND start_year BETWEEN ${ACADEMIC_YEAR("$2")} AND ${ACADEMIC_YEAR("$3")}
        ORDER BY start_year, subject_id, term`,
      [studentId, from, to],
    ),
    db.rows<Exemption>(
      `SELECT student_id AS "studentId", subject_id AS "subjectId", first_day::text AS "firstDay",
              last_day::text AS "lastDay" FROM $S.exemptions
        WHERE student_id = $1 AND first_day <= $3::date AND last_day >= $2::date
        ORDER BY first_day, subject_id, exemption_id`,
      [studentId, from, to],
    ),
  ]);
  // Averages run over the whole term; the listed marks are the range's.
  const averages = averagesOf(marks);
  const inRange = marks
    .filter((m) => m.date >= from && m.date <= to)
    .map(({ startYear: _y, ...m }) => m);
  return { studentId, lessons, marks: inRange, absences, averages, termMarks, exemptions };
}
