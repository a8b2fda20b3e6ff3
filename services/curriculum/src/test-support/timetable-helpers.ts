import { randomUUID } from "node:crypto";
import type { CivilDate } from "@otmetka/service-kit";
import { classGroupLessons, moveLesson } from "../commands/lessons.js";
import { addTimetableSlot, assignTeacher } from "../commands/timetable.js";
import { type Lesson, lessonsStreamId } from "../domain/lessons.js";
import { timetableStreamId } from "../domain/timetable.js";
import type { InProcess } from "./in-process.js";

/**
 * A test file's timetable slots, lesson look-ups and moves through the command handlers, for one school's
 * 2026/27 and a default date window. `app` is read at each call: the service starts in
 * `beforeAll`, after the helpers are made.
 */
export function timetableHelpers(
  app: () => InProcess,
  scope: { schoolId: string; startYear: number },
  window: { from: CivilDate; to: CivilDate },
) {
  /**
   * Assigns the teacher to maths in the class group (unless assigned already) and adds a
   * slot valid all year; the assignment id, or "" when the teacher was assigned already.
   */
  async function slot(
    classGroupId: string,
    weekday: number,
    period: number,
    teacherId: string,
    room = "",
  ): Promise<string> {
    const target = { ...scope, classGroupId, teacherId, subjectId: "MATH", subgroupId: "" };
    const { result } = await assignTeacher(app().deps, randomUUID(), target).catch(() => ({
      result: { assignmentId: "" }, // assigned already
    }));
    await addTimetableSlot(app().deps, randomUUID(), {
      ...target,
      weekday,
      period,
      room,
      validFrom: "",
      validTo: "",
    });
    return result.assignmentId;
  }

  const lessonsOf = (classGroupId: string, from = window.from, to = window.to) =>
    classGroupLessons(app().deps, classGroupId, scope.startYear, from, to);

  /** The class group's lesson on a date and period; throws when there is none. */
  async function lessonOn(classGroupId: string, date: CivilDate, period: number): Promise<Lesson> {
    const l = (await lessonsOf(classGroupId, date, date)).find((x) => x.period === period);
    if (!l) throw new Error(`no lesson of ${classGroupId} on ${date} period ${period}`);
    return l;
  }

  /** Moves the class group's lesson to a date and period, with a new command id. */
  const move = (classGroupId: string, lesson: Lesson, toDate: CivilDate, toPeriod: number) =>
    moveLesson(app().deps, randomUUID(), {
      ...scope,
      classGroupId,
      lessonId: lesson.lessonId,
      toDate,
      toPeriod,
    });

  /** The school's timetable stream version, then each class group's lessons': unchanged, nothing written. */
  const versions = async (...classGroupIds: string[]) => [
    await app().store.streamVersion(timetableStreamId(scope.schoolId, scope.startYear)),
    ...(await Promise.all(
      classGroupIds.map((id) => app().store.streamVersion(lessonsStreamId(id, scope.startYear))),
    )),
  ];

  return { slot, lessonsOf, lessonOn, move, versions };
}
