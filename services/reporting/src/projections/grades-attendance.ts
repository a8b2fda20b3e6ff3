import {
  type AbsenceReason,
  countDay,
  countMissed,
  emptyDay,
  fullDayReason,
  type PupilDay,
} from "../domain/metrics/attendance.js";
import type { Deltas, Scope } from "./deltas.js";
import { absenceReason, type Data, int, journalOf, str } from "./event-data.js";
import { countLessonChange, loadLesson } from "./lessons.js";
import type { Q } from "./query.js";
import type { Handler } from "./replicas.js";
import { countEntryDelay } from "./timeliness.js";

/*
 * Attendance. Scheduled pupil-lessons count the pupils on the lesson's roll (class group or
 * subgroup members on its date) once attendance is taken for it; a pupil-day keeps how many
 * of the pupil's lessons that day had attendance taken and how many were missed, so a full
 * missed day is found without reading the day's lessons again.
 */
interface Mark {
  reason: string;
  late: number;
}

const missedReason = (r: string): AbsenceReason | null =>
  r === "ILLNESS" || r === "EXCUSED" || r === "UNEXCUSED" ? r : null;

async function roster(
  q: Q,
  classGroupId: string,
  subgroupId: string,
  date: string,
): Promise<string[]> {
  const rows = subgroupId
    ? await q<{ person_id: string }>(
        `SELECT person_id FROM $S.subgroup_members WHERE subgroup_id = $1 AND first_day <= $2::date
           AND (until IS NULL OR until > $2::date)`,
        [subgroupId, date],
      )
    : await q<{ person_id: string }>(
        `SELECT person_id FROM $S.enrollments WHERE class_group_id = $1 AND first_day <= $2::date
           AND (until IS NULL OR until > $2::date)`,
        [classGroupId, date],
      );
  return rows.map((r) => r.person_id);
}

interface DayRow extends PupilDay {
  student_id: string;
}

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
  const students = [...new Set([...before.keys(), ...after.keys(), ...newPupils])];
  const rows = await q<DayRow>(
    "SELECT student_id, lessons, illness, excused, unexcused FROM $S.pupil_days WHERE student_id = ANY($1) AND day = $2::date",
    [students, day],
  );
  const days = new Map(rows.map((r) => [r.student_id, r as PupilDay]));
  const changed: [string, PupilDay][] = [];
  for (const s of students) {
    const old = { ...(days.get(s) ?? emptyDay()) };
    const next = { ...old };
    if (newPupils.includes(s)) next.lessons += 1;
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
    if (JSON.stringify(old) !== JSON.stringify(next)) changed.push([s, next]);
  }
  if (changed.length === 0) return;
  // One statement for the lesson's pupils (a class's roll), not one per pupil.
  await q(
    `INSERT INTO $S.pupil_days
     SELECT s, $2::date, l, i, e, u FROM unnest($1::text[], $3::int[], $4::int[], $5::int[], $6::int[]) AS x(s, l, i, e, u)
     ON CONFLICT (student_id, day)
     DO UPDATE SET lessons = excluded.lessons, illness = excluded.illness, excused = excluded.excused,
       unexcused = excluded.unexcused`,
    [
      changed.map(([s]) => s),
      day,
      changed.map(([, p]) => p.lessons),
      changed.map(([, p]) => p.illness),
      changed.map(([, p]) => p.excused),
      changed.map(([, p]) => p.unexcused),
    ],
  );
}

async function loadAbsences(q: Q, lessonId: string): Promise<Map<string, Mark>> {
  const rows = await q<{ student_id: string; reason: string; late_minutes: number }>(
    "SELECT student_id, reason, late_minutes FROM $S.absences WHERE lesson_id = $1",
    [lessonId],
  );
  return new Map(rows.map((r) => [r.student_id, { reason: r.reason, late: r.late_minutes }]));
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
    const before = await loadAbsences(q, lessonId);
    // First record for the lesson: its roll becomes scheduled pupil-lessons.
    const [taken] = await q<{ inserted: boolean }>(
      `INSERT INTO $S.lessons (lesson_id, school_id, municipality_id, start_year, class_group_id, subgroup_id, subject_id,
         lesson_date, period, term, status, attendance_taken)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, 'SCHEDULED', true)
       ON CONFLICT (lesson_id) DO UPDATE SET attendance_taken = true WHERE NOT lessons.attendance_taken
       RETURNING (xmax = 0) AS inserted`,
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
      ],
    );
    let newPupils: string[] = [];
    if (taken) {
      newPupils = [
        ...new Set([
          ...(await roster(q, j.scope.classGroupId, j.subgroupId, day)),
          ...after.keys(),
        ]),
      ];
      deltas.dailyAt(j.scope, j.subjectId, day, (c) => {
        c.att.scheduledPupilLessons += newPupils.length;
      });
      await refreshFill(q, deltas, lessonId, taken.inserted);
    }
    await q("DELETE FROM $S.absences WHERE lesson_id = $1", [lessonId]);
    for (const [s, m] of after) {
      await q("INSERT INTO $S.absences VALUES ($1, $2, $3, $4)", [lessonId, s, m.reason, m.late]);
    }
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
    const before = await loadAbsences(q, lessonId);
    const m = before.get(student);
    if (m?.reason !== "UNEXCUSED") return;
    const [l] = await q<{ day: string }>(
      "SELECT lesson_date::text AS day FROM $S.lessons WHERE lesson_id = $1",
      [lessonId],
    );
    if (!l) return;
    await q("UPDATE $S.absences SET reason = 'EXCUSED' WHERE lesson_id = $1 AND student_id = $2", [
      lessonId,
      student,
    ]);
    const after = new Map([[student, { ...m, reason: "EXCUSED" }]]);
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

/**
 * Attendance taken may complete the lesson's fill (it needs a topic too). A lesson first seen
 * here (curriculum's event still on its way) starts counting now; its LessonScheduled then
 * finds it and adds nothing.
 */
async function refreshFill(q: Q, deltas: Deltas, lessonId: string, inserted: boolean) {
  const after = await loadLesson(q, lessonId);
  if (!after) return;
  countLessonChange(deltas, inserted ? undefined : { ...after, attendance_taken: false }, after);
}
