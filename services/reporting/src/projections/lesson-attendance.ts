import {
  type AbsenceReason,
  countDay,
  countMissed,
  emptyDay,
  fullDayReason,
} from "../domain/metrics/attendance.js";
import type { AbsenceMark } from "./attendance-buffer.js";
import type { Deltas, Scope } from "./deltas.js";
import { type LessonRow, lessonScope } from "./lessons.js";
import type { Q } from "./query.js";
import { countEntryDelay } from "./timeliness.js";

/*
 * What one lesson's attendance adds to the counters. Scheduled pupil-lessons count the
 * lesson's roll (class group or subgroup members on its date, kept on the lesson when
 * attendance is first taken) and a pupil-day keeps how many of the pupil's lessons that day
 * had attendance taken and how many were missed, so a full missed day is found without
 * reading the day's lessons again. It counts only while the lesson takes place: attendance
 * of a cancelled or unscheduled lesson is kept as recorded and counts nowhere (the lesson did
 * not happen), whichever of the two events arrives first. Every change (an attendance record
 * retaken, an excusal, the lesson cancelled or moved) goes through `applyAttendance`: the
 * counters leave what the lesson added before and take what it adds now. The attendance
 * records themselves, as timeliness entries, follow the same rule (`attendance_entries`).
 */

/** Lessons that take place: the others count in neither journal fill nor attendance. */
const TAKES_PLACE = new Set(["SCHEDULED", "CONDUCTED"]);
export const takesPlace = (l: { status: string }) => TAKES_PLACE.has(l.status);

/** A lesson's attendance as the counters see it: its roll and its entries. */
export interface CountedAttendance {
  readonly roll: readonly string[];
  readonly marks: ReadonlyMap<string, AbsenceMark>;
}

const NOTHING: CountedAttendance = { roll: [], marks: new Map() };

/** What the lesson's attendance (`marks`) adds as the lesson stands: nothing unless taken and taking place. */
export const countedAttendance = (
  l: LessonRow,
  marks: ReadonlyMap<string, AbsenceMark>,
): CountedAttendance => (l.attendance_taken && takesPlace(l) ? { roll: l.roll, marks } : NOTHING);

/** Where a lesson's attendance counts: its class group, subject and date. */
export interface Place {
  readonly scope: Scope;
  readonly subjectId: string;
  readonly day: string;
}

export const placeOf = (l: LessonRow): Place => ({
  scope: lessonScope(l),
  subjectId: l.subject_id,
  day: l.lesson_date,
});

const missedReason = (r: string): AbsenceReason | null =>
  r === "ILLNESS" || r === "EXCUSED" || r === "UNEXCUSED" ? r : null;

/** Moves one lesson's attendance counters at `at` from `before` to `after`. */
export async function applyAttendance(
  q: Q,
  deltas: Deltas,
  at: Place,
  before: CountedAttendance,
  after: CountedAttendance,
): Promise<void> {
  if (before === NOTHING && after === NOTHING) return;
  const { scope, subjectId, day } = at;
  const wasOn = new Set(before.roll);
  const isOn = new Set(after.roll);
  const students = [...new Set([...before.marks.keys(), ...after.marks.keys(), ...wasOn, ...isOn])];
  if (after.roll.length !== before.roll.length)
    deltas.dailyAt(scope, subjectId, day, (c) => {
      c.att.scheduledPupilLessons += after.roll.length - before.roll.length;
    });
  const days = await deltas.attendance.pupilDays(q, students, day);
  for (const s of students) {
    const old = days.get(s) ?? emptyDay();
    const next = { ...old };
    next.lessons += (isOn.has(s) ? 1 : 0) - (wasOn.has(s) ? 1 : 0);
    for (const [m, sign] of [
      [before.marks.get(s), -1],
      [after.marks.get(s), 1],
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

/**
 * A lesson changed (cancelled, unscheduled, moved): its attendance, if taken, leaves the
 * counters where it counted and enters them where it counts now (nowhere for a lesson that
 * no longer takes place). Its pupils' diaries change.
 */
export async function recountLessonAttendance(
  q: Q,
  deltas: Deltas,
  before: LessonRow,
  after: LessonRow,
): Promise<void> {
  if (!before.attendance_taken && !after.attendance_taken) return;
  await recountAttendanceEntries(q, deltas, before, after);
  const counted = takesPlace(before) && before.attendance_taken;
  const counts = takesPlace(after) && after.attendance_taken;
  const a = placeOf(before);
  const b = placeOf(after);
  const samePlace =
    a.day === b.day &&
    a.subjectId === b.subjectId &&
    a.scope.classGroupId === b.scope.classGroupId &&
    a.scope.schoolId === b.scope.schoolId &&
    a.scope.municipalityId === b.scope.municipalityId;
  if (counted === counts && (!counted || samePlace)) return;
  const marks = await deltas.attendance.absencesOf(q, before.lesson_id);
  await applyAttendance(q, deltas, a, countedAttendance(before, marks), NOTHING);
  await applyAttendance(q, deltas, b, NOTHING, countedAttendance(after, marks));
  for (const s of marks.keys()) deltas.changedPupils.add(s);
}

/**
 * The lesson's attendance records as timeliness entries (each at the lesson date it was taken
 * for and its recorded time, as when it arrived): they leave the counters when the lesson no
 * longer takes place, and would come back with it.
 */
async function recountAttendanceEntries(
  q: Q,
  deltas: Deltas,
  before: LessonRow,
  after: LessonRow,
): Promise<void> {
  if (takesPlace(before) === takesPlace(after)) return;
  const [l, sign] = takesPlace(after) ? [after, 1 as const] : [before, -1 as const];
  for (const [date, time] of l.attendance_entries)
    await countEntryDelay(q, deltas, lessonScope(l), l.subject_id, date, time, sign);
}

/**
 * An attendance record of the lesson, kept as one of its entries (`time` its recorded time,
 * `date` the lesson date it was taken for); it counts in timeliness only while the lesson
 * takes place. The lesson row returned replaces the batch's copy (written back by flush).
 */
export async function addAttendanceEntry<L extends LessonRow>(
  q: Q,
  deltas: Deltas,
  l: L,
  date: string,
  time: string,
): Promise<L> {
  if (!date || !time) return l;
  const after = { ...l, attendance_entries: [...l.attendance_entries, [date, time] as const] };
  if (takesPlace(after))
    await countEntryDelay(q, deltas, lessonScope(after), after.subject_id, date, time);
  return after;
}
