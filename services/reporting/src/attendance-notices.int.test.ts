import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { feedEvent } from "./test-support/feed.js";
import { type Harness, startHarnessWithSchool } from "./test-support/harness.js";
import { idsOf, noticesDuring } from "./test-support/notices.js";
import type { SchoolFixture } from "./test-support/school.js";

/*
 * Attendance changes a pupil's diary (its absences), so it announces a diary change like a
 * mark does: the gateway's diaryChanged subscription relies on it.
 */
const env = useTestEnvironment({ label: "reporting_attendance_notices" });
let h: Harness;
let f: SchoolFixture;

beforeAll(async () => {
  ({ h, f } = await startHarnessWithSchool(env));
});

afterAll(async () => {
  await h?.close();
});

/** The ids of the diary notices that arrive while `act` runs and reporting catches up. */
const diaryNotices = async (act: () => Promise<void>) =>
  idsOf(await noticesDuring(h, act), "diary");

const where = () => ({ schoolId: f.schoolId, municipalityId: f.municipalityId });
const at = (day: string) => new Date(`${day}T09:00:00Z`);

it("attendance recorded announces the diaries of the pupils whose absence changed", async () => {
  const ids = await diaryNotices(() =>
    h.publish([
      feedEvent(
        "grades",
        f.journalMath.journalId,
        "AttendanceRecorded",
        {
          ...where(),
          journal: f.journalMath,
          lessonId: f.L.l3,
          lessonDate: "2026-09-09",
          term: 1,
          entries: [{ studentId: f.p.p4, reason: 4 }],
          authorId: "t",
        },
        at("2026-09-09"),
      ),
    ]),
  );
  expect(ids).toContain(f.p.p4);
  expect(ids).not.toContain(f.p.p5);
});

it("an absence excused announces that pupil's diary", async () => {
  const ids = await diaryNotices(() =>
    h.publish([
      feedEvent(
        "grades",
        f.journalMath.journalId,
        "AbsenceExcused",
        { ...where(), journal: f.journalMath, lessonId: f.L.l3, studentId: f.p.p4, authorId: "t" },
        at("2026-09-10"),
      ),
    ]),
  );
  expect(ids).toEqual([f.p.p4]);
});

it("a lesson cancelled after its attendance was taken announces its absent pupils' diaries, with its whole roll's", async () => {
  const ids = await diaryNotices(() =>
    h.publish([
      feedEvent(
        "curriculum",
        f.L.l1,
        "LessonCancelled",
        {
          ...where(),
          lessonId: f.L.l1,
          academicYear: { startYear: 2026 },
          classGroupId: f.cg,
          subgroupId: "",
          subjectId: f.math,
          date: "2026-09-07",
          period: 1,
          reason: "quarantine",
        },
        at("2026-09-11"),
      ),
    ]),
  );
  // p1 ill, p2 late on L1: their diaries lose the entries; every diary of the class group on
  // 09-07 shows the lesson cancelled (lesson-notices.int.test.ts), p9's (another class group) not.
  expect(ids).toEqual(expect.arrayContaining([f.p.p1, f.p.p2]));
  expect(ids).toHaveLength(8);
  expect(ids).not.toContain(f.p.p9);
});
