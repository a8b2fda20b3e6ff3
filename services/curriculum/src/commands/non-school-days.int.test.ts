import { randomUUID } from "node:crypto";
import { STREAM_LOCK_CLASS } from "@otmetka/eventstore";
import { type CivilDate, DomainError } from "@otmetka/service-kit";
import { raceBehindLocks, useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calendarStreamId } from "../domain/calendar.js";
import type { Lesson } from "../domain/lessons.js";
import { lessonsStreamId } from "../domain/lessons.js";
import { schoolFixture } from "../test-support/identity-feed.js";
import type { InProcess } from "../test-support/in-process.js";
import { refusal } from "../test-support/refusal.js";
import { startWithMathsYear } from "../test-support/school-year.js";
import { stallReads } from "../test-support/stall-reads.js";
import { timetableHelpers } from "../test-support/timetable-helpers.js";
import { loadCalendar, runCalendarCommand } from "./calendar.js";
import { cancelLesson, conductLesson, generateLessons } from "./lessons.js";

/*
 * Days declared non-school after lessons were generated on them: plain generated lessons
 * there are unscheduled by the declaration; a moved or conducted one refuses it; and no race
 * of a declaration with a generation, a move or a conduct leaves a lesson on such a day.
 */
const env = useTestEnvironment({ label: "curriculum_non_school_days" });
let app: InProcess;
const f = schoolFixture();
const scope = { schoolId: f.schoolId, startYear: 2026 };
const { a5, b5 } = f.classGroups;
const calendarId = calendarStreamId(f.schoolId, 2026);
const { slot, lessonsOf, lessonOn, move, versions } = timetableHelpers(() => app, scope, {
  from: "2026-09-01",
  to: "2026-11-30",
});

const declare = (firstDay: CivilDate, lastDay: CivilDate = firstDay, deps = app.deps) =>
  runCalendarCommand(deps, randomUUID(), {
    kind: "DeclareNonSchoolDays",
    ...scope,
    firstDay,
    lastDay,
    dayKind: "NON_SCHOOL_DAY_KIND_DAY_OFF",
    name: "Выходной",
  });
const generate = (from: CivilDate, to: CivilDate, classGroupIds: string[]) =>
  generateLessons(app.deps, randomUUID(), { ...scope, from, to, classGroupIds });
const conduct = (classGroupId: string, lesson: Lesson) =>
  conductLesson(app.deps, randomUUID(), {
    ...scope,
    classGroupId,
    lessonId: lesson.lessonId,
    topic: "Дроби",
    workProgrammeItemId: "",
    homework: "",
    homeworkDue: "",
    conductedBy: "",
  });
/** The school's "today" (Asia/Yekaterinburg, 08:00 there). */
const today = (date: CivilDate) => {
  app.deps.clock = { now: () => new Date(`${date}T03:00:00Z`) };
};
/** The dates of the class group's lessons (scheduled or conducted) in [from, to]. */
const datesOf = async (classGroupId: string, from: CivilDate, to: CivilDate) =>
  (await lessonsOf(classGroupId, from, to))
    .filter((l) => l.status === "scheduled" || l.status === "conducted")
    .map((l) => l.date);
const declared = async (date: CivilDate) =>
  (await loadCalendar(app.deps, f.schoolId, 2026)).nonSchoolDays.some(
    (d) => d.firstDay <= date && date <= d.lastDay,
  );
const race = (classGroupId: string, calls: (() => Promise<unknown>)[]) =>
  raceBehindLocks(
    app.store.pool,
    { classId: STREAM_LOCK_CLASS, keys: [calendarId, lessonsStreamId(classGroupId, 2026)] },
    calls,
  );
/** The refusal a race's loser got. */
const reasonOf = (o: PromiseSettledResult<unknown> | undefined) => {
  expect(o?.status).toBe("rejected");
  const err = (o as PromiseRejectedResult).reason;
  expect(err).toBeInstanceOf(DomainError);
  return err as DomainError;
};

beforeAll(async () => {
  app = await startWithMathsYear(env, f);
  await slot(a5, 2, 1, f.teachers.math, "12"); // Tuesdays 5А, room 12
  await slot(b5, 4, 2, f.teachers.math); // Thursdays 5Б
  await generate("2026-09-01", "2026-09-30", []);
  today("2026-09-01");
});
afterAll(async () => {
  await app?.close();
});

describe("declaring days off after lessons were generated on them", () => {
  it("unschedules the plain lessons on them and frees their teacher and room", async () => {
    const lesson = await lessonOn(a5, "2026-09-15", 1);
    await declare("2026-09-15");
    expect(await datesOf(a5, "2026-09-14", "2026-09-16")).toEqual([]);
    const claims = await app.store.pool.query(
      "SELECT count(*)::int AS n FROM lesson_claims WHERE lesson_id = $1",
      [lesson.lessonId],
    );
    expect(claims.rows[0].n).toBe(0);
    // A regeneration has nothing to add there.
    const { result } = await generate("2026-09-01", "2026-09-30", [a5]);
    expect([result.scheduled, result.unscheduled]).toEqual([0, 0]);
  });

  it("refuses while a lesson moved onto them is scheduled, naming it and writing nothing; cancelled, they are declared", async () => {
    const moved = await lessonOn(a5, "2026-09-22", 1);
    await move(a5, moved, "2026-09-24", 3);
    const before = [await app.store.streamVersion(calendarId), ...(await versions(a5, b5))];
    const err = await refusal(declare("2026-09-24", "2026-09-25"));
    expect([err.kind, err.field, err.message]).toEqual([
      "failed_precondition",
      "first_day",
      `first_day: 1 lesson was moved onto or conducted on 2026-09-24 - 2026-09-25: lesson ${moved.lessonId} (class group ${a5}, 2026-09-24 period 3, moved there); move or cancel the moved ones first (MoveLesson, CancelLesson); a conducted lesson took place, so its day was a school day`,
    ]);
    expect([await app.store.streamVersion(calendarId), ...(await versions(a5, b5))]).toEqual(
      before,
    );
    expect(await datesOf(b5, "2026-09-24", "2026-09-24")).toEqual(["2026-09-24"]);
    await cancelLesson(app.deps, randomUUID(), {
      ...scope,
      classGroupId: a5,
      lessonId: moved.lessonId,
      reason: "праздник",
    });
    await declare("2026-09-24", "2026-09-25");
    expect(await datesOf(b5, "2026-09-24", "2026-09-24")).toEqual([]);
  });

  it("refuses while a lesson conducted on them stands", async () => {
    today("2026-09-03");
    const held = await lessonOn(b5, "2026-09-03", 2);
    await conduct(b5, held);
    const err = await refusal(declare("2026-09-03"));
    expect([err.kind, err.field]).toEqual(["failed_precondition", "first_day"]);
    expect(err.message).toContain(
      `lesson ${held.lessonId} (class group ${b5}, 2026-09-03 period 2, conducted)`,
    );
    expect(await declared("2026-09-03")).toBe(false);
  });
});

describe("declaring days off raced", () => {
  it("against a move onto the day: one is refused, and no lesson is left on a day off", async () => {
    // The move holds the calendar shared and the declaration the lesson stream shared: which
    // commits first is the lock manager's choice, so the test checks that one wins, not which.
    today("2026-09-03");
    const lesson = await lessonOn(a5, "2026-09-29", 1);
    const outcomes = await race(a5, [
      () => move(a5, lesson, "2026-09-30", 4),
      () => declare("2026-09-30"),
    ]);
    const moved = outcomes[0]?.status === "fulfilled";
    const err = reasonOf(outcomes[moved ? 1 : 0]);
    if (moved)
      expect([err.field, err.message]).toEqual(["first_day", expect.stringMatching(/moved there/)]);
    else
      expect([err.field, err.message]).toEqual([
        "to_date",
        expect.stringMatching(/2026-09-30 is not a school day/),
      ]);
    expect([await datesOf(a5, "2026-09-30", "2026-09-30"), await declared("2026-09-30")]).toEqual(
      moved ? [["2026-09-30"], false] : [[], true],
    );
  });

  it("against conducting a lesson on the day: one is refused, and no lesson is conducted on a day off", async () => {
    today("2026-09-08");
    const lesson = await lessonOn(a5, "2026-09-08", 1);
    const outcomes = await race(a5, [() => conduct(a5, lesson), () => declare("2026-09-08")]);
    const conducted = outcomes[0]?.status === "fulfilled";
    const err = reasonOf(outcomes[conducted ? 1 : 0]);
    if (conducted)
      expect([err.field, err.message]).toEqual(["first_day", expect.stringMatching(/conducted\)/)]);
    // Declared first, the lesson was unscheduled: there is none to conduct.
    else expect([err.kind, err.field]).toEqual(["not_found", "lesson_id"]);
    expect([await datesOf(a5, "2026-09-08", "2026-09-08"), await declared("2026-09-08")]).toEqual(
      conducted ? [["2026-09-08"], false] : [[], true],
    );
  });

  it("against a generation committed between its read and its append: the day has no lesson", async () => {
    // The declaration reads the calendar and stalls; a generation of 5Б's October, planned on
    // the calendar without the day off, commits a lesson on 8 October; the declaration then
    // appends. (The other order, a generation planned before a declaration, is
    // week-length-races' "schedules no lesson on a day declared off while the generation ran".)
    const stalled = stallReads(app, calendarId, { after: true });
    const declaration = declare("2026-10-08", "2026-10-08", stalled.deps);
    await stalled.reached;
    await generate("2026-10-01", "2026-10-31", [b5]);
    expect(await datesOf(b5, "2026-10-08", "2026-10-08")).toEqual(["2026-10-08"]);
    stalled.release();
    await declaration;
    expect(await datesOf(b5, "2026-10-01", "2026-10-31")).toEqual([
      "2026-10-01",
      "2026-10-15",
      "2026-10-22",
      "2026-10-29",
    ]);
  });
});
