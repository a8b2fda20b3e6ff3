import {
  type AbsenceReason,
  countDay,
  countMissed,
  emptyDay,
  fullDayReason,
} from "../domain/metrics/attendance.js";
import type { AbsenceMark } from "./attendance-buffer.js";
import type { Deltas, Scope } from "./deltas.js";
import { absenceReason, type Data, int, type Journal, journalOf, str } from "./event-data.js";
import {
  countLessonChange,
  type LessonRow,
  lessonWritten,
  rememberLesson,
  type StoredLesson,
} from "./lessons.js";
import type { Q } from "./query.js";
import { enrollmentsWritten, type Handler } from "./replicas.js";
import { countEntryDelay } from "./timeliness.js";

/*
 * Attendance. Scheduled pupil-lessons count the pupils on the lesson's roll (class group or
 * subgroup members on its date) once attendance is taken for it; a pupil-day keeps how many
 * of the pupil's lessons that day had attendance taken and how many were missed, so a full
 * missed day is found without reading the day's lessons again.
 */
type Mark = AbsenceMark;

const missedReason = (r: string): AbsenceReason | null =>
  r === "ILLNESS" || r === "EXCUSED" || r === "UNEXCUSED" ? r : null;

/** Applies one lesson's change of attendance: `before`/`after` per pupil, `newPupils` taken for the first time. */
async function applyAttendance(
  q: Q,
  deltas: Deltas,
  scope: Scope,
  subjectId: string,
  day: string,
  before: Map<string, Mark>,
  after: Map<string, Mark>,
  newPupils: string[],
) {
  const added = new Set(newPupils);
  const students = [...new Set([...before.keys(), ...after.keys(), ...added])];
  const days = await deltas.attendance.pupilDays(q, students, day);
  for (const s of students) {
    const old = days.get(s) ?? emptyDay();
    const next = { ...old };
    if (added.has(s)) next.lessons += 1;
    const b = before.get(s);
    const a = after.get(s);
    for (const [m, sign] of [
      [b, -1],
      [a, 1],
    ] as const) {
      if (!m) continue;
      const reason = missedReason(m.reason);
      deltas.dailyAt(scope, subjectId, day, (c) => {
        if (m.late > 0) {
          c.att.lateArrivals += sign;
          c.att.lateMinutes += sign * m.late;
        }
        if (reason) countMissed(c.att, reason, sign);
      });
      if (reason === "ILLNESS") next.illness += sign;
      else if (reason === "EXCUSED") next.excused += sign;
      else if (reason === "UNEXCUSED") next.unexcused += sign;
    }
    const was = fullDayReason(old);
    const now = fullDayReason(next);
    if (was !== now) {
      deltas.dailyAt(scope, null, day, (c) => {
        countDay(c.att, was, -1);
        countDay(c.att, now, 1);
      });
    }
    if (
      old.lessons !== next.lessons ||
      old.illness !== next.illness ||
      old.excused !== next.excused ||
      old.unexcused !== next.unexcused
    )
      deltas.attendance.setPupilDay(s, day, next);
  }
}

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
    let newPupils: string[] = [];
    if (r.lesson) {
      // First record for the lesson: its roll becomes scheduled pupil-lessons (the roster
      // reads the enrollments a rebuild gathered).
      await enrollmentsWritten(q, deltas);
      const roll = await deltas.attendance.roster(q, j.scope.classGroupId, j.subgroupId, day);
      newPupils = [...new Set([...roll, ...after.keys()])];
      deltas.dailyAt(j.scope, j.subjectId, day, (c) => {
        c.att.scheduledPupilLessons += newPupils.length;
      });
      refreshFill(deltas, r.lesson, r.inserted === true);
    }
    deltas.attendance.setAbsences(lessonId, after);
    await applyAttendance(q, deltas, j.scope, j.subjectId, day, before, after, newPupils);
    await countEntryDelay(q, deltas, j.scope, j.subjectId, day, meta.time);
    // Their diaries show the absence: a diary notice for each pupil whose entry changed.
    for (const s of new Set([...before.keys(), ...after.keys()])) {
      const b = before.get(s);
      const a = after.get(s);
      if (b?.reason !== a?.reason || b?.late !== a?.late) deltas.changedPupils.add(s);
    }
  },
  "grades.v1.AbsenceExcused": async (q, d, deltas) => {
    const j = journalOf(d);
    const lessonId = str(d, "lessonId");
    const student = str(d, "studentId");
    const before = await deltas.attendance.absencesOf(q, lessonId);
    const m = before.get(student);
    if (m?.reason !== "UNEXCUSED") return;
    await lessonWritten(q, deltas, lessonId);
    // The batch's copy first: a lesson moved in this batch is written back only by flush.
    const held = deltas.lessons.get(lessonId);
    const [l] = held
      ? [{ day: held.lesson_date }]
      : await q<{ day: string }>(
          "SELECT lesson_date::text AS day FROM $S.lessons WHERE lesson_id = $1",
          [lessonId],
        );
    if (!l) return;
    const excused = { ...m, reason: "EXCUSED" };
    deltas.attendance.setAbsences(lessonId, new Map([...before, [student, excused]]));
    const after = new Map([[student, excused]]);
    deltas.changedPupils.add(student);
    await applyAttendance(
      q,
      deltas,
      j.scope,
      j.subjectId,
      l.day,
      new Map([[student, m]]),
      after,
      [],
    );
  },
};

interface Taken {
  /** The lesson row once taken now (null: attendance was taken before). */
  lesson: LessonRow | null;
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
  if (l.attendance_taken) return { lesson: null, inserted: null, before };
  const taken = { ...l, attendance_taken: true };
  rememberLesson(deltas, taken, true);
  return { lesson: taken, inserted: false, before };
}

/**
 * One statement: the lesson marked as taken (inserted if curriculum's event is still on its
 * way), the row as it now stands, and the lesson's stored absences unless the batch already
 * holds them.
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
    lesson: StoredLesson | null;
    before: [string, string, number][] | null;
  }>(
    `WITH ins AS (
         INSERT INTO $S.lessons (lesson_id, school_id, municipality_id, start_year, class_group_id, subgroup_id,
           subject_id, lesson_date, period, term, status, attendance_taken)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, 'SCHEDULED', true)
         ON CONFLICT (lesson_id) DO UPDATE SET attendance_taken = true WHERE NOT lessons.attendance_taken
         RETURNING (xmax = 0) AS inserted, row_to_json(lessons.*) AS lesson)
       SELECT (SELECT inserted FROM ins) AS inserted, (SELECT lesson FROM ins) AS lesson,
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
  return { lesson: r?.lesson ?? null, inserted: r?.inserted ?? null, before };
}

/**
 * Attendance taken may complete the lesson's fill (it needs a topic too). A lesson first seen
 * here (curriculum's event still on its way) starts counting now; its LessonScheduled then
 * finds it and adds nothing.
 */
function refreshFill(deltas: Deltas, after: LessonRow, inserted: boolean) {
  countLessonChange(deltas, inserted ? undefined : { ...after, attendance_taken: false }, after);
}
