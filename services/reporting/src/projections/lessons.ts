import type { Deltas, Scope } from "./deltas.js";
import { type Data, int, str, yearOf } from "./event-data.js";
import { recountLessonAttendance, takesPlace } from "./lesson-attendance.js";
import type { Q } from "./query.js";
import type { Handler } from "./replicas.js";
import { countEntryDelay } from "./timeliness.js";

/*
 * Lessons: the diary's timetable and the journal fill rate. A lesson counts as scheduled on
 * its date until it is cancelled or unscheduled; it is filled once attendance was taken and a
 * topic recorded. Counters live per day, so "up to today" and date ranges are sums over days.
 * Its attendance counts as long as it counts as scheduled (lesson-attendance.ts).
 */
export interface LessonRow {
  lesson_id: string;
  school_id: string;
  municipality_id: string;
  start_year: number;
  class_group_id: string;
  subgroup_id: string;
  subject_id: string;
  lesson_date: string;
  term: number;
  status: string;
  topic: string;
  wp_item: string;
  attendance_taken: boolean;
  /** The pupils on its roll when attendance was first taken (its scheduled pupil-lessons). */
  roll: readonly string[];
  /**
   * Each attendance record of the lesson as a timeliness entry: [lesson date it was taken
   * for, recorded time]. They count while the lesson takes place (countAttendanceEntries).
   */
  attendance_entries: readonly (readonly [string, string])[];
}

export const lessonScope = (l: LessonRow): Scope => ({
  classGroupId: l.class_group_id,
  schoolId: l.school_id,
  municipalityId: l.municipality_id,
});
const isFilled = (l: LessonRow) => takesPlace(l) && l.attendance_taken && l.topic !== "";

/** Moves a lesson's contribution to the fill counters from its old state to its new one. */
export function countLessonChange(
  deltas: Deltas,
  before: LessonRow | undefined,
  after: LessonRow | undefined,
) {
  for (const [l, sign] of [
    [before, -1],
    [after, 1],
  ] as const) {
    if (!l || !takesPlace(l)) continue;
    deltas.dailyAt(lessonScope(l), l.subject_id, l.lesson_date, (c) => {
      c.journal.lessonsScheduled += sign;
      if (isFilled(l)) c.journal.lessonsFilled += sign;
      if (l.status === "CONDUCTED" && l.wp_item !== "") c.journal.lessonsDelivered += sign;
    });
  }
}

/**
 * The batch's scheduled lessons not written yet, in one statement: new ones start counting as
 * scheduled, known ones (attendance arrived first) take the period.
 */
export async function writeScheduled(q: Q, deltas: Deltas): Promise<void> {
  if (deltas.scheduled.size === 0) return;
  const rows = [...deltas.scheduled.values()];
  deltas.scheduled.clear();
  // A rebuild holds every lesson it wrote or read: one it does not hold is not stored, so
  // the row the insert would return is known (dates already in the form PostgreSQL gives
  // back). Written by flush with the batch's other changed lessons: no round trip here.
  if (deltas.rebuild && rows.every((r) => ISO_DATE.test(r[7] as string))) {
    for (const r of rows) {
      const l = scheduledLesson(r);
      rememberLesson(deltas, l, true);
      deltas.freshLessons.add(l.lesson_id);
      countLessonChange(deltas, undefined, l);
    }
    return;
  }
  const written = await q<{ inserted: boolean; lesson: StoredLesson }>(
    `INSERT INTO $S.lessons (lesson_id, school_id, municipality_id, start_year, class_group_id, subgroup_id,
       subject_id, lesson_date, period, term, status)
     SELECT *, 'SCHEDULED' FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[],
       $7::text[], $8::date[], $9::int[], $10::int[])
     ON CONFLICT (lesson_id) DO UPDATE SET period = excluded.period
     RETURNING (xmax = 0) AS inserted, row_to_json(lessons.*) AS lesson`,
    rows[0]?.map((_, i) => rows.map((r) => r[i])) ?? [],
  );
  for (const w of written) {
    rememberLesson(deltas, w.lesson, false);
    // Inserted now: it has no stored absences (attendance-buffer need not read them).
    if (w.inserted) {
      deltas.freshLessons.add(w.lesson.lesson_id);
      countLessonChange(deltas, undefined, w.lesson);
    }
  }
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A scheduled lesson's row as inserted (writeScheduled's columns, the rest their defaults). */
const scheduledLesson = (r: unknown[]): StoredLesson => ({
  lesson_id: r[0] as string,
  school_id: r[1] as string,
  municipality_id: r[2] as string,
  start_year: r[3] as number,
  class_group_id: r[4] as string,
  subgroup_id: r[5] as string,
  subject_id: r[6] as string,
  lesson_date: r[7] as string,
  period: r[8] as number,
  term: r[9] as number,
  status: "SCHEDULED",
  topic: "",
  homework: "",
  homework_due: "",
  wp_item: "",
  attendance_taken: false,
  roll: [],
  attendance_entries: [],
});

/** A lessons row with every column (what the batch keeps in memory and writes back). */
export interface StoredLesson extends LessonRow {
  period: number;
  homework: string;
  homework_due: string;
}

/** The batch now knows the lesson as `l`; `changed`: it differs from the stored row. */
export function rememberLesson(deltas: Deltas, l: StoredLesson, changed: boolean): void {
  deltas.lessons.set(l.lesson_id, l);
  if (changed) deltas.dirtyLessons.add(l.lesson_id);
}

const LESSON_COLUMNS = [
  ["lesson_id", "text"],
  ["school_id", "text"],
  ["municipality_id", "text"],
  ["start_year", "int"],
  ["class_group_id", "text"],
  ["subgroup_id", "text"],
  ["subject_id", "text"],
  ["lesson_date", "date"],
  ["period", "int"],
  ["term", "int"],
  ["status", "text"],
  ["topic", "text"],
  ["homework", "text"],
  ["homework_due", "text"],
  ["wp_item", "text"],
  ["attendance_taken", "bool"],
  ["roll", "jsonb"],
  ["attendance_entries", "jsonb"],
] as const;
const JSON_COLUMNS = new Set<string>(["roll", "attendance_entries"]);

/** The lessons the batch changed in memory, written back in one statement (flush). */
export async function writeLessons(q: Q, deltas: Deltas): Promise<void> {
  if (deltas.dirtyLessons.size === 0) return;
  const rows = [...deltas.dirtyLessons].map((id) => deltas.lessons.get(id) as StoredLesson);
  deltas.dirtyLessons.clear();
  const names = LESSON_COLUMNS.map(([c]) => c);
  await q(
    `INSERT INTO $S.lessons (${names.join(", ")})
     SELECT * FROM unnest(${LESSON_COLUMNS.map(([, t], i) => `$${i + 1}::${t}[]`).join(", ")})
     ON CONFLICT (lesson_id) DO UPDATE SET ${names
       .slice(1)
       .map((c) => `${c} = excluded.${c}`)
       .join(", ")}`,
    LESSON_COLUMNS.map(([c]) =>
      rows.map((r) => (JSON_COLUMNS.has(c) ? JSON.stringify(r[c]) : r[c])),
    ),
  );
}

/** Before a handler reads or changes the lesson: its pending schedule is written first. */
export async function lessonWritten(q: Q, deltas: Deltas, lessonId: string): Promise<void> {
  if (deltas.scheduled.has(lessonId)) await writeScheduled(q, deltas);
}

/** The lesson as it stands: the batch's copy, else read once (undefined when unknown). */
export async function lessonOf(
  q: Q,
  deltas: Deltas,
  lessonId: string,
): Promise<StoredLesson | undefined> {
  await lessonWritten(q, deltas, lessonId);
  const held = deltas.lessons.get(lessonId);
  if (held) return held;
  const [r] = await q<{ lesson: StoredLesson }>(
    "SELECT row_to_json(l.*) AS lesson FROM $S.lessons l WHERE lesson_id = $1",
    [lessonId],
  );
  if (r) rememberLesson(deltas, r.lesson, false);
  return r?.lesson;
}

/** One statement: the update, returning the row before and after it (none when unknown). */
async function updateLesson(
  q: Q,
  deltas: Deltas,
  lessonId: string,
  set: string,
  params: unknown[],
  change: (l: StoredLesson) => void,
) {
  await lessonWritten(q, deltas, lessonId);
  const known = deltas.lessons.get(lessonId);
  if (known) {
    const after = { ...known };
    change(after);
    rememberLesson(deltas, after, true);
    countLessonChange(deltas, known, after);
    await recountLessonAttendance(q, deltas, known, after);
    return after;
  }
  const [r] = await q<{ before: LessonRow; after: StoredLesson }>(
    `UPDATE $S.lessons l SET ${set} FROM (SELECT * FROM $S.lessons WHERE lesson_id = $1) o
      WHERE l.lesson_id = o.lesson_id RETURNING row_to_json(o.*) AS before, row_to_json(l.*) AS after`,
    [lessonId, ...params],
  );
  if (!r) return undefined;
  rememberLesson(deltas, r.after as StoredLesson, false);
  countLessonChange(deltas, r.before, r.after);
  await recountLessonAttendance(q, deltas, r.before, r.after);
  return r.after;
}

export const lessonHandlers: Record<string, Handler> = {
  // Gathered: written with the batch's other new lessons by writeScheduled, before any
  // later event of the batch reads or changes one of them, and before a day close.
  "curriculum.v1.LessonScheduled": async (_q, d, deltas) => {
    const lessonId = str(d, "lessonId");
    const known = deltas.lessons.get(lessonId);
    if (known) {
      rememberLesson(deltas, { ...known, period: int(d, "period") }, true);
      return;
    }
    const earlier = deltas.scheduled.get(lessonId);
    const row = [
      lessonId,
      str(d, "schoolId"),
      str(d, "municipalityId"),
      yearOf(d),
      str(d, "classGroupId"),
      str(d, "subgroupId"),
      str(d, "subjectId"),
      str(d, "date"),
      int(d, "period"),
      int(d, "term"),
    ];
    // A repeated schedule of a lesson not written yet: the first inserts, a later one sets the period.
    deltas.scheduled.set(
      lessonId,
      earlier ? [...earlier.slice(0, 8), ...row.slice(8, 9), earlier[9]] : row,
    );
  },
  "curriculum.v1.LessonConducted": async (q, d, deltas, meta) => {
    const after = await updateLesson(
      q,
      deltas,
      str(d, "lessonId"),
      "status = 'CONDUCTED', topic = $2, homework = $3, homework_due = $4, wp_item = $5",
      [str(d, "topic"), str(d, "homework"), str(d, "homeworkDue"), str(d, "workProgrammeItemId")],
      (l) => {
        l.status = "CONDUCTED";
        l.topic = str(d, "topic");
        l.homework = str(d, "homework");
        l.homework_due = str(d, "homeworkDue");
        l.wp_item = str(d, "workProgrammeItemId");
      },
    );
    if (after)
      await countEntryDelay(
        q,
        deltas,
        lessonScope(after),
        after.subject_id,
        after.lesson_date,
        meta.time,
      );
  },
  "curriculum.v1.LessonCancelled": (q, d, deltas) =>
    updateLesson(q, deltas, str(d, "lessonId"), "status = 'CANCELLED'", [], (l) => {
      l.status = "CANCELLED";
    }),
  "curriculum.v1.LessonUnscheduled": (q, d, deltas) =>
    updateLesson(q, deltas, str(d, "lessonId"), "status = 'UNSCHEDULED'", [], (l) => {
      l.status = "UNSCHEDULED";
    }),
  "curriculum.v1.LessonMoved": (q, d, deltas) =>
    updateLesson(
      q,
      deltas,
      str(d, "lessonId"),
      "lesson_date = $2, period = $3, term = $4",
      [str(d, "toDate"), int(d, "toPeriod"), int(d, "toTerm")],
      (l) => {
        l.lesson_date = str(d, "toDate");
        l.period = int(d, "toPeriod");
        l.term = int(d, "toTerm");
      },
    ),
};

export type { Data };
