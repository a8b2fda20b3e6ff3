import type { AbsenceMark } from "./attendance-buffer.js";
import type { Deltas } from "./deltas.js";
import { absenceReason, type Data, int, type Journal, journalOf, str } from "./event-data.js";
import {
  addAttendanceEntry,
  applyAttendance,
  countedAttendance,
  placeOf,
} from "./lesson-attendance.js";
import {
  countLessonChange,
  type LessonRow,
  lessonOf,
  lessonWritten,
  rememberLesson,
  type StoredLesson,
} from "./lessons.js";
import type { Q } from "./query.js";
import { enrollmentsWritten, type Handler } from "./replicas.js";
import { countEntryDelay } from "./timeliness.js";

/*
 * Attendance records and excusals. The lesson's absences are kept as recorded; what they
 * add to the counters is lesson-attendance.ts's (counted where the lesson is, and only while
 * it takes place).
 */
type Mark = AbsenceMark;

export const attendanceHandlers: Record<string, Handler> = {
  "grades.v1.AttendanceRecorded": async (q, d, deltas, meta) => {
    const j = journalOf(d);
    const lessonId = str(d, "lessonId");
    const day = str(d, "lessonDate");
    const entries = Array.isArray(d.entries) ? (d.entries as Data[]) : [];
    const after = new Map<string, Mark>();
    for (const e of entries) {
      const m = { reason: absenceReason(e.reason), late: int(e, "lateMinutes") };
      if (m.reason !== "NONE" || m.late > 0) after.set(str(e, "studentId"), m);
    }
    await lessonWritten(q, deltas, lessonId);
    const cached = deltas.lessons.get(lessonId);
    const r = cached
      ? await takenInMemory(q, deltas, cached)
      : await takeAttendance(q, deltas, d, lessonId, day, j);
    const before = r.before;
    let lesson = r.lesson;
    // The lesson as its attendance counted before this record.
    let was: LessonRow | null = lesson;
    if (lesson && r.takenNow) {
      // First record for the lesson: its roll (with anyone recorded beside it) becomes its
      // scheduled pupil-lessons (the roster reads the enrollments a rebuild gathered).
      await enrollmentsWritten(q, deltas);
      const roster = await deltas.attendance.roster(
        q,
        lesson.class_group_id,
        lesson.subgroup_id,
        lesson.lesson_date,
      );
      lesson = { ...lesson, roll: [...new Set([...roster, ...after.keys()])] };
      rememberLesson(deltas, lesson, true);
      was = { ...lesson, attendance_taken: false, roll: [] };
      refreshFill(deltas, lesson, r.inserted === true);
    }
    deltas.attendance.setAbsences(lessonId, after);
    if (lesson && was)
      await applyAttendance(
        q,
        deltas,
        placeOf(lesson),
        countedAttendance(was, before),
        countedAttendance(lesson, after),
      );
    // The record is an entry of timeliness while its lesson takes place (kept on the lesson).
    if (lesson)
      rememberLesson(deltas, await addAttendanceEntry(q, deltas, lesson, day, meta.time), true);
    else await countEntryDelay(q, deltas, j.scope, j.subjectId, day, meta.time);
    // Their diaries show the absence: a diary notice for each pupil whose entry changed.
    for (const s of new Set([...before.keys(), ...after.keys()])) {
      const b = before.get(s);
      const a = after.get(s);
      if (b?.reason !== a?.reason || b?.late !== a?.late) deltas.changedPupils.add(s);
    }
  },
  "grades.v1.AbsenceExcused": async (q, d, deltas) => {
    const lessonId = str(d, "lessonId");
    const student = str(d, "studentId");
    const before = await deltas.attendance.absencesOf(q, lessonId);
    const m = before.get(student);
    if (m?.reason !== "UNEXCUSED") return;
    // The batch's copy first: a lesson moved in this batch is written back only by flush.
    const l = await lessonOf(q, deltas, lessonId);
    if (!l) return;
    const after = new Map([...before, [student, { ...m, reason: "EXCUSED" }]]);
    deltas.attendance.setAbsences(lessonId, after);
    deltas.changedPupils.add(student);
    // Counted as the lesson's other changes: nothing for a lesson that did not take place.
    await applyAttendance(
      q,
      deltas,
      placeOf(l),
      countedAttendance(l, before),
      countedAttendance(l, after),
    );
  },
};

interface Taken {
  /** The lesson as it stands, attendance taken (null only if the statement returned nothing). */
  lesson: StoredLesson | null;
  /** Taken by this record (false: attendance was taken before, this one retakes it). */
  takenNow: boolean;
  inserted: boolean | null;
  before: Map<string, Mark>;
}

/** A lesson the batch holds: marked taken in memory (written back by flush). */
async function takenInMemory(q: Q, deltas: Deltas, l: StoredLesson): Promise<Taken> {
  const id = l.lesson_id;
  const before =
    deltas.attendance.knownAbsences(id) ??
    (deltas.freshLessons.has(id)
      ? deltas.attendance.rememberAbsences(id, [])
      : await deltas.attendance.absencesOf(q, id));
  if (l.attendance_taken) return { lesson: l, takenNow: false, inserted: null, before };
  const taken = { ...l, attendance_taken: true };
  rememberLesson(deltas, taken, true);
  return { lesson: taken, takenNow: true, inserted: false, before };
}

/**
 * One statement: the lesson marked as taken (inserted if curriculum's event is still on its
 * way), the row as it now stands (as stored when attendance was taken before), and the
 * lesson's stored absences unless the batch already holds them.
 */
async function takeAttendance(
  q: Q,
  deltas: Deltas,
  d: Data,
  lessonId: string,
  day: string,
  j: Journal,
): Promise<Taken> {
  const known = deltas.attendance.knownAbsences(lessonId);
  const [r] = await q<{
    inserted: boolean | null;
    taken_now: boolean;
    lesson: StoredLesson | null;
    before: [string, string, number][] | null;
  }>(
    `WITH ins AS (
         INSERT INTO $S.lessons (lesson_id, school_id, municipality_id, start_year, class_group_id, subgroup_id,
           subject_id, lesson_date, period, term, status, attendance_taken)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, 'SCHEDULED', true)
         ON CONFLICT (lesson_id) DO UPDATE SET attendance_taken = true WHERE NOT lessons.attendance_taken
         RETURNING (xmax = 0) AS inserted, row_to_json(lessons.*) AS lesson)
       SELECT (SELECT inserted FROM ins) AS inserted, EXISTS (SELECT 1 FROM ins) AS taken_now,
         coalesce((SELECT lesson FROM ins),
           (SELECT row_to_json(l.*) FROM $S.lessons l WHERE l.lesson_id = $1)) AS lesson,
         CASE WHEN $10::boolean THEN (SELECT coalesce(json_agg(json_build_array(student_id, reason, late_minutes)), '[]'::json)
           FROM $S.absences WHERE lesson_id = $1) END AS before`,
    [
      lessonId,
      j.scope.schoolId,
      j.scope.municipalityId,
      j.startYear,
      j.scope.classGroupId,
      j.subgroupId,
      j.subjectId,
      day,
      int(d, "term"),
      known === undefined,
    ],
  );
  if (r?.lesson) rememberLesson(deltas, r.lesson, false);
  const before = known ?? deltas.attendance.rememberAbsences(lessonId, r?.before ?? []);
  return {
    lesson: r?.lesson ?? null,
    takenNow: r?.taken_now ?? false,
    inserted: r?.inserted ?? null,
    before,
  };
}

/**
 * Attendance taken may complete the lesson's fill (it needs a topic too). A lesson first seen
 * here (curriculum's event still on its way) starts counting now; its LessonScheduled then
 * finds it and adds nothing.
 */
function refreshFill(deltas: Deltas, after: LessonRow, inserted: boolean) {
  countLessonChange(deltas, inserted ? undefined : { ...after, attendance_taken: false }, after);
}
