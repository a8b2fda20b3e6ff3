import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Harness, startHarnessWithSchool } from "./test-support/harness.js";
import { mathsLessonEvent } from "./test-support/maths-term.js";
import { idsOf, noticesDuring } from "./test-support/notices.js";
import type { SchoolFixture } from "./test-support/school.js";

/*
 * curriculum's lesson events change the journal view (the lesson, its status, topic and
 * homework), the class group's dashboards (journal fill, attendance) and the diaries of the
 * pupils on its roll: each announces them, as marks and attendance do, so the gateway's
 * journalChanged / diaryChanged / dashboardChanged subscriptions hear of them.
 */
const env = useTestEnvironment({ label: "reporting_lesson_notices" });
let h: Harness;
let f: SchoolFixture;

beforeAll(async () => {
  ({ h, f } = await startHarnessWithSchool(env));
});

afterAll(async () => {
  await h?.close();
});

const A = "lesson-notices-a";
const B = "lesson-notices-b";
const lessonEvent = (lessonId: string, name: string, v: Record<string, unknown>, day: string) =>
  mathsLessonEvent(
    f,
    name,
    { lessonId, date: "2026-10-12", period: 3, ...v },
    new Date(`${day}T09:00:00Z`),
  );

/** grades' journal id of the fixture's maths journal (journal-<class group>-<subject>-<year>). */
const journalId = () => `journal-${f.cg}-${f.math}-2026`;
/** On the roll on 10-12: p6 left and p7 moved to the other class group on 10-01. */
const onRoll = () => [f.p.p1, f.p.p2, f.p.p3, f.p.p4, f.p.p5, f.p.p8].sort();

it("a lesson scheduled and conducted announces its journal, dashboards and its pupils' diaries", async () => {
  const notices = await noticesDuring(h, async () => {
    await h.publish([
      lessonEvent(A, "LessonScheduled", { term: 1, slotId: "s", room: "7" }, "2026-10-01"),
    ]);
    await h.caughtUp();
    await h.publish([
      lessonEvent(
        A,
        "LessonConducted",
        { topic: "Ratios", homework: "p. 12", homeworkDue: "2026-10-14", conductedBy: f.teacher },
        "2026-10-12",
      ),
    ]);
  });
  expect(idsOf(notices, "journal")).toEqual([journalId()]);
  expect(idsOf(notices, "dashboard-class_group")).toEqual([f.cg]);
  expect(idsOf(notices, "dashboard-school")).toEqual([f.schoolId]);
  expect(idsOf(notices, "dashboard-municipality")).toEqual([f.municipalityId]);
  expect(idsOf(notices, "dashboard-region")).toEqual(["region"]);
  expect(idsOf(notices, "diary")).toEqual(onRoll());
});

it("a lesson moved announces the diaries of both days' rolls; cancelled, its journal again", async () => {
  await h.publish([
    lessonEvent(B, "LessonScheduled", { term: 1, slotId: "s", room: "7" }, "2026-10-01"),
  ]);
  await h.caughtUp();
  const moved = await noticesDuring(h, () =>
    h.publish([
      lessonEvent(B, "LessonMoved", { toDate: "2026-09-14", toPeriod: 4, toTerm: 1 }, "2026-10-02"),
    ]),
  );
  expect(idsOf(moved, "journal")).toEqual([journalId()]);
  // On 09-14 p6 and p7 were still in the class group.
  expect(idsOf(moved, "diary")).toEqual([...onRoll(), f.p.p6, f.p.p7].sort());
  expect(idsOf(moved, "diary")).not.toContain(f.p.p9);
  const cancelled = await noticesDuring(h, () =>
    h.publish([
      lessonEvent(B, "LessonCancelled", { date: "2026-09-14", reason: "quarantine" }, "2026-10-03"),
    ]),
  );
  expect(idsOf(cancelled, "journal")).toEqual([journalId()]);
  expect(idsOf(cancelled, "dashboard-school")).toEqual([f.schoolId]);
  expect(idsOf(cancelled, "diary")).toEqual([...onRoll(), f.p.p6, f.p.p7].sort());
});
