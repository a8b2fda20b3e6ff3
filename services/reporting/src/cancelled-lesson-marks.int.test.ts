import { randomUUID } from "node:crypto";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DEFAULT_METRICS_CONFIG } from "./domain/metrics/definitions.js";
import { dashboard } from "./queries/dashboards.js";
import { diary } from "./queries/diary.js";
import { feedEvent } from "./test-support/feed.js";
import { type Harness, startHarnessWithSchool } from "./test-support/harness.js";
import { mathsLessonEvent, mathsTermJournal, mathsTermQuery } from "./test-support/maths-term.js";
import type { SchoolFixture } from "./test-support/school.js";

/*
 * Marks on a lesson cancelled or unscheduled later stay legal records and keep counting
 * (README, "Marks of a lesson that did not take place"): in the dashboards' mark figures and
 * in the diary and journal view, whichever event comes first, until grades revokes them.
 */
const env = useTestEnvironment({ label: "reporting_cancelled_marks" });
let h: Harness;
let f: SchoolFixture;
const X = { lessonId: randomUUID(), date: "2026-10-12" };
const Y = { lessonId: randomUUID(), date: "2026-10-13" };
const at = (day: string) => new Date(`${day}T09:00:00Z`);

const lesson = (l: typeof X, name: string, day: string) =>
  mathsLessonEvent(f, name, { ...l, period: 5, term: 1, reason: "quarantine" }, at(day));
const mark = (l: typeof X, day: string) =>
  feedEvent(
    "grades",
    f.journalMath.journalId,
    "MarkRecorded",
    {
      schoolId: f.schoolId,
      municipalityId: f.municipalityId,
      journal: f.journalMath,
      markId: randomUUID(),
      lessonId: l.lessonId,
      lessonDate: l.date,
      term: 1,
      studentId: f.p.p3,
      value: 5,
      workType: "ORAL",
      weight: 1,
      authorId: "t",
    },
    at(day),
  );

beforeAll(async () => {
  ({ h, f } = await startHarnessWithSchool(env));
  // X: marked, then cancelled. Y: reporting hears of its cancellation before the mark grades
  // accepted while the lesson still stood.
  await h.publish([
    lesson(X, "LessonScheduled", "2026-10-01"),
    lesson(Y, "LessonScheduled", "2026-10-01"),
  ]);
  await h.caughtUp();
  await h.publish([mark(X, "2026-10-12"), lesson(Y, "LessonUnscheduled", "2026-10-13")]);
  await h.caughtUp();
  await h.publish([lesson(X, "LessonCancelled", "2026-10-14"), mark(Y, "2026-10-13")]);
  await h.caughtUp();
});

afterAll(async () => {
  await h?.close();
});

it("count in the dashboards' mark figures, live and effective", async () => {
  for (const mode of [undefined, "EFFECTIVE"] as const) {
    const p = (await dashboard(h.db, DEFAULT_METRICS_CONFIG, mathsTermQuery(f, { mode })))
      .performance;
    // The fixture's 35/9 (projection.int.test.ts) and two 5s.
    expect(p?.average, mode).toMatchObject({ numerator: 45, denominator: 11 });
  }
});

it("stay in the pupil's diary and the journal view, beside their lessons' status", async () => {
  const d = await diary(h.db, f.p.p3, "2026-10-12", "2026-10-13");
  expect(d.marks.map((m) => m.lessonId).sort()).toEqual([X.lessonId, Y.lessonId].sort());
  // The diary lists the cancelled lesson, not the one off the timetable (as before).
  expect(d.lessons.map((l) => l.status)).toEqual(["CANCELLED"]);
  expect(d.averages.find((a) => a.subjectId === f.math && a.term === 1)).toBeDefined();
  const v = await mathsTermJournal(h.db, f);
  expect(
    v.marks.filter((m) => m.lessonId === X.lessonId || m.lessonId === Y.lessonId),
  ).toHaveLength(2);
});
