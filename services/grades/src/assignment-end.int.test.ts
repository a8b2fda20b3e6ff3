import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { AbsenceReason, MarkValue } from "@otmetka/proto/grades/events/v1/events";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FACTS_SCHEMA } from "./projections/facts.js";
import {
  curriculumEvent,
  mathLesson,
  publishFeed,
  type SchoolFixture,
  schoolFixture,
} from "./test-support/feed.js";
import {
  eventually,
  fixtureReplicated,
  type Harness,
  replicaHas,
  ruleOf,
  startHarness,
} from "./test-support/harness.js";

/*
 * An ended teaching assignment (curriculum's TeacherAssignmentEnded) lets its teacher write in
 * the journal for lessons up to its last day only; their own lessons stay theirs.
 */
const env = useTestEnvironment({ label: "grades_assignment_end" });
let h: Harness;
let f: SchoolFixture;
const leaver = randomUUID();
const assignmentId = randomUUID();
const LAST_DAY = "2026-09-20";
const lessons = { before: randomUUID(), after: randomUUID(), own: randomUUID() };

const lessonScheduled = (lessonId: string, date: string, teacherId: string) =>
  curriculumEvent(`lessons-${f.classGroupId}-2026`, "LessonScheduled", {
    ...mathLesson(f, date, teacherId, 3),
    lessonId,
    slotId: randomUUID(),
    term: 1,
    room: "101",
  });

/** The leaver's maths in the fixture's class group, as the timetable's events carry it. */
const assignment = (id: string) => ({
  assignmentId: id,
  schoolId: f.schoolId,
  municipalityId: f.municipalityId,
  academicYear: { startYear: 2026 },
  teacherId: leaver,
  subjectId: f.subjects.math,
  classGroupId: f.classGroupId,
  subgroupId: "",
});
const assigned = (id: string) =>
  curriculumEvent(`timetable-${f.schoolId}-2026`, "TeacherAssigned", assignment(id));

beforeAll(async () => {
  h = await startHarness(env);
  f = schoolFixture();
  await publishFeed(h.nc, h.names, [
    ...f.events,
    assigned(assignmentId),
    curriculumEvent(`timetable-${f.schoolId}-2026`, "TeacherAssignmentEnded", {
      ...assignment(assignmentId),
      lastDay: LAST_DAY,
    }),
    lessonScheduled(lessons.before, "2026-09-18", f.teachers.math),
    lessonScheduled(lessons.after, "2026-09-22", f.teachers.math),
    // A lesson after the last day that is the leaver's own (handed to them).
    lessonScheduled(lessons.own, "2026-09-23", leaver),
  ]);
  await fixtureReplicated(h, f);
  await replicaHas(h, "lessons WHERE lesson_id = $1", [lessons.own]);
  h.clock.set("2026-09-25T05:00:00Z");
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe("an ended assignment", () => {
  const journal = () => ({
    classGroupId: f.classGroupId,
    subgroupId: "",
    subjectId: f.subjects.math,
    academicYear: { startYear: 2026 },
  });
  const recordMark = async (lessonId: string) =>
    h.client.recordMark(
      {
        commandId: randomUUID(),
        journal: journal(),
        lessonId,
        mark: {
          studentId: f.pupils.p1,
          value: MarkValue.MARK_VALUE_FOUR,
          workType: "ORAL",
          comment: "",
        },
      },
      await h.as([`TEACHER@school:${f.schoolId}`], leaver),
    );
  const recordAttendance = async (lessonId: string) =>
    h.client.recordAttendance(
      {
        commandId: randomUUID(),
        journal: journal(),
        lessonId,
        absences: [
          {
            studentId: f.pupils.p2,
            reason: AbsenceReason.ABSENCE_REASON_UNEXCUSED,
            lateMinutes: 0,
          },
        ],
      },
      await h.as([`TEACHER@school:${f.schoolId}`], leaver),
    );
  const denied = { code: status.PERMISSION_DENIED, rule: "author_not_assigned" };

  it("is kept in the replica with its last day", async () => {
    const { rows } = await h.store.pool.query(
      `SELECT to_char(last_day, 'YYYY-MM-DD') AS last_day FROM ${FACTS_SCHEMA}.assignments
        WHERE assignment_id = $1`,
      [assignmentId],
    );
    expect(rows).toEqual([{ last_day: LAST_DAY }]);
  });

  it("lets its teacher record marks and attendance up to the last day, not after; their own lesson stays theirs", async () => {
    await recordMark(lessons.before);
    await recordAttendance(lessons.before);
    expect(await ruleOf(recordMark(lessons.after))).toEqual(denied);
    expect(await ruleOf(recordAttendance(lessons.after))).toEqual(denied);
    await recordMark(lessons.own);
  });

  it("lets a teacher whose assignment ended with the term set its term marks afterwards, not the next term's", async () => {
    // Handed over at the end of term 1 (2026-09-01..2026-10-31): its term marks are often
    // set in the days after, by the teacher who taught it. Judged on the term's last day.
    const handedOver = randomUUID();
    const id = randomUUID();
    await publishFeed(h.nc, h.names, [
      curriculumEvent(`timetable-${f.schoolId}-2026`, "TeacherAssigned", {
        ...assignment(id),
        teacherId: handedOver,
      }),
      curriculumEvent(`timetable-${f.schoolId}-2026`, "TeacherAssignmentEnded", {
        ...assignment(id),
        teacherId: handedOver,
        lastDay: "2026-10-31",
      }),
    ]);
    await replicaHas(h, "assignments WHERE assignment_id = $1 AND last_day IS NOT NULL", [id]);
    h.clock.set("2026-11-03T05:00:00Z");
    try {
      const setTermMark = async (teacherId: string, term: number) =>
        h.client.setTermMark(
          {
            commandId: randomUUID(),
            journal: journal(),
            studentId: f.pupils.p2,
            term,
            value: MarkValue.MARK_VALUE_FOUR,
            reason: "",
          },
          await h.as([`TEACHER@school:${f.schoolId}`], teacherId),
        );
      expect((await setTermMark(handedOver, 1)).corrected).toBe(false);
      // Term 2 runs (its roll day is today), after their last day; nor had the teacher whose
      // assignment ended on 2026-09-20 taught to the end of term 1.
      expect(await ruleOf(setTermMark(handedOver, 2))).toEqual(denied);
      expect(await ruleOf(setTermMark(leaver, 1))).toEqual(denied);
    } finally {
      h.clock.set("2026-09-25T05:00:00Z");
    }
  });

  it("does not stand in the way of a new assignment of the same teacher", async () => {
    await publishFeed(h.nc, h.names, [assigned(randomUUID())]);
    await eventually(async () => {
      await recordMark(lessons.after);
    });
  });
});
