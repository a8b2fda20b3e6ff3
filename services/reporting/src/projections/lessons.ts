import type { Deltas, Scope } from "./deltas.js";
import { type Data, int, str, yearOf } from "./event-data.js";
import type { Q } from "./query.js";
import type { Handler } from "./replicas.js";
import { countEntryDelay } from "./timeliness.js";

/*
 * Lessons: the diary's timetable and the journal fill rate. A lesson counts as scheduled on
 * its date until it is cancelled or unscheduled; it is filled once attendance was taken and a
 * topic recorded. Counters live per day, so "up to today" and date ranges are sums over days.
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
}

const LIVE = new Set(["SCHEDULED", "CONDUCTED"]);
export const lessonScope = (l: LessonRow): Scope => ({
  classGroupId: l.class_group_id,
  schoolId: l.school_id,
  municipalityId: l.municipality_id,
});
const isFilled = (l: LessonRow) => LIVE.has(l.status) && l.attendance_taken && l.topic !== "";

export async function loadLesson(q: Q, lessonId: string): Promise<LessonRow | undefined> {
  const [l] = await q<LessonRow>(
    `SELECT lesson_id, school_id, municipality_id, start_year, class_group_id, subgroup_id, subject_id,
            lesson_date::text AS lesson_date, term, status, topic, wp_item, attendance_taken
       FROM $S.lessons WHERE lesson_id = $1`,
    [lessonId],
  );
  return l;
}

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
    if (!l || !LIVE.has(l.status)) continue;
    deltas.dailyAt(lessonScope(l), l.subject_id, l.lesson_date, (c) => {
      c.journal.lessonsScheduled += sign;
      if (isFilled(l)) c.journal.lessonsFilled += sign;
      if (l.status === "CONDUCTED" && l.wp_item !== "") c.journal.lessonsDelivered += sign;
    });
  }
}

async function updateLesson(
  q: Q,
  deltas: Deltas,
  lessonId: string,
  set: string,
  params: unknown[],
) {
  const before = await loadLesson(q, lessonId);
  if (!before) return undefined;
  await q(`UPDATE $S.lessons SET ${set} WHERE lesson_id = $1`, [lessonId, ...params]);
  const after = await loadLesson(q, lessonId);
  countLessonChange(deltas, before, after);
  return after;
}

export const lessonHandlers: Record<string, Handler> = {
  "curriculum.v1.LessonScheduled": async (q, d, deltas) => {
    const [row] = await q<{ inserted: boolean }>(
      `INSERT INTO $S.lessons (lesson_id, school_id, municipality_id, start_year, class_group_id, subgroup_id,
         subject_id, lesson_date, period, term, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'SCHEDULED')
       ON CONFLICT (lesson_id) DO UPDATE SET period = excluded.period RETURNING (xmax = 0) AS inserted`,
      [
        str(d, "lessonId"),
        str(d, "schoolId"),
        str(d, "municipalityId"),
        yearOf(d),
        str(d, "classGroupId"),
        str(d, "subgroupId"),
        str(d, "subjectId"),
        str(d, "date"),
        int(d, "period"),
        int(d, "term"),
      ],
    );
    if (row?.inserted)
      countLessonChange(deltas, undefined, await loadLesson(q, str(d, "lessonId")));
  },
  "curriculum.v1.LessonConducted": async (q, d, deltas, meta) => {
    const after = await updateLesson(
      q,
      deltas,
      str(d, "lessonId"),
      "status = 'CONDUCTED', topic = $2, homework = $3, homework_due = $4, wp_item = $5",
      [str(d, "topic"), str(d, "homework"), str(d, "homeworkDue"), str(d, "workProgrammeItemId")],
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
    updateLesson(q, deltas, str(d, "lessonId"), "status = 'CANCELLED'", []),
  "curriculum.v1.LessonUnscheduled": (q, d, deltas) =>
    updateLesson(q, deltas, str(d, "lessonId"), "status = 'UNSCHEDULED'", []),
  "curriculum.v1.LessonMoved": (q, d, deltas) =>
    updateLesson(q, deltas, str(d, "lessonId"), "lesson_date = $2, period = $3, term = $4", [
      str(d, "toDate"),
      int(d, "toPeriod"),
      int(d, "toTerm"),
    ]),
};

export type { Data };
