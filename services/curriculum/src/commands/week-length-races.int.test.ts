import { randomUUID } from "node:crypto";
import { STREAM_LOCK_CLASS } from "@otmetka/eventstore";
import { DomainError } from "@otmetka/service-kit";
import { raceBehindLocks, useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calendarStreamId } from "../domain/calendar.js";
import { lessonsStreamId } from "../domain/lessons.js";
import { studyPlanStreamId } from "../domain/study-plan.js";
import { timetableStreamId } from "../domain/timetable.js";
import { gradeDaysPerWeek } from "../domain/week-length.js";
import {
  identityEvent,
  publishIdentityEvents,
  schoolFixture,
} from "../test-support/identity-feed.js";
import { eventually, type InProcess, startInProcess } from "../test-support/in-process.js";
import { refusal } from "../test-support/refusal.js";
import { addFivePointSubjects, calendarCommands, HALF_YEARS } from "../test-support/school-year.js";
import { stallReads } from "../test-support/stall-reads.js";
import { loadCalendar, setGradeWeekLength } from "./calendar.js";
import { cancelLesson, classGroupLessons, generateLessons, moveLesson } from "./lessons.js";
import { getStudyPlan, setStudyPlanHours } from "./study-plans.js";
import { addTimetableSlot, assignTeacher, endTimetableSlot, loadTimetable } from "./timetable.js";

/*
 * Setting a grade level to five days against what puts it on a Saturday or over a five-day
 * week's hours: a Saturday lesson (moved there), and, raced, a Saturday slot, study plan hours
 * and a move. Each race lets both commands read before either commits (raceBehindLocks holds
 * the streams both append until both wait), in both orders: the second decides again on the
 * first's result and is refused, through the version each expects of the other's stream.
 */
const env = useTestEnvironment({ label: "curriculum_week_races" });
let app: InProcess;
const f = schoolFixture();
const scope = { schoolId: f.schoolId, startYear: 2026 };
const at = { schoolId: f.schoolId, municipalityId: f.municipalityId };
/** A class group of grade level 4 and of each of 6-11 (5А is the fixture's). */
const groups = new Map([4, 6, 7, 8, 9, 10, 11].map((g) => [g, randomUUID()]));
const group = (gradeLevel: number) => groups.get(gradeLevel) ?? f.classGroups.a5;
const calendarId = calendarStreamId(f.schoolId, 2026);
const timetableId = timetableStreamId(f.schoolId, 2026);
const planId = studyPlanStreamId(f.schoolId, 2026);

const fiveDays = (gradeLevel: number) =>
  setGradeWeekLength(app.deps, randomUUID(), {
    ...scope,
    gradeLevels: [gradeLevel],
    daysPerWeek: 5,
  });
const slot = (gradeLevel: number, weekday: number, period = 1, validFrom = "") =>
  addTimetableSlot(app.deps, randomUUID(), {
    ...scope,
    weekday,
    period,
    classGroupId: group(gradeLevel),
    subgroupId: "",
    subjectId: "MATH",
    teacherId: f.teachers.math,
    room: "",
    validFrom,
    validTo: "",
  });
/** The class group's one lesson on a date. */
async function lessonOn(gradeLevel: number, date: string) {
  const [lesson] = await classGroupLessons(app.deps, group(gradeLevel), 2026, date, date);
  if (!lesson) throw new Error(`no lesson of grade ${gradeLevel} on ${date}`);
  return lesson;
}
const toSaturday = async (gradeLevel: number, from: string, toDate: string, toPeriod: number) => {
  const lesson = await lessonOn(gradeLevel, from);
  return () =>
    moveLesson(app.deps, randomUUID(), {
      ...scope,
      classGroupId: group(gradeLevel),
      lessonId: lesson.lessonId,
      toDate,
      toPeriod,
    });
};
const daysOf = async (gradeLevel: number) => {
  const state = await loadCalendar(app.deps, f.schoolId, 2026);
  if (!state.year) throw new Error("no year");
  return gradeDaysPerWeek(state.year, state.weekLengths, gradeLevel);
};
const versions = (...streams: string[]) =>
  Promise.all(streams.map((s) => app.store.streamVersion(s)));

/** Both calls read before either commits; the first given commits first. */
const race = (keys: string[], calls: (() => Promise<unknown>)[]) =>
  raceBehindLocks(app.store.pool, { classId: STREAM_LOCK_CLASS, keys }, calls);

/** The first call succeeded, the second was refused (as it would be after it) on `field`. */
function firstWon(outcomes: PromiseSettledResult<unknown>[], field: string, message: RegExp) {
  wonBy(outcomes, 0, field, message);
}

/** Call `winner` of two succeeded, the other was refused (as it would be after it) on `field`. */
function wonBy(
  outcomes: PromiseSettledResult<unknown>[],
  winner: number,
  field: string,
  message: RegExp,
) {
  const loser = 1 - winner;
  expect(outcomes.map((o) => o.status)).toEqual(
    winner === 0 ? ["fulfilled", "rejected"] : ["rejected", "fulfilled"],
  );
  const err = (outcomes[loser] as PromiseRejectedResult).reason;
  expect(err).toBeInstanceOf(DomainError);
  expect([err.kind, err.field]).toEqual(["failed_precondition", field]);
  expect(err.message).toMatch(message);
}

beforeAll(async () => {
  app = await startInProcess(env);
  await publishIdentityEvents(app.nc, app.names, [
    ...f.events,
    ...[...groups].map(([gradeLevel, classGroupId]) =>
      identityEvent(`cg-${classGroupId}`, "ClassGroupOpened", {
        classGroupId,
        ...at,
        academicYear: { startYear: 2026 },
        gradeLevel,
        letter: "А",
      }),
    ),
  ]);
  await eventually(async () => expect(await app.deps.facts.classGroup(group(11))).toBeDefined());
  const cal = calendarCommands(app.deps);
  await cal({ kind: "DefineAcademicYear", ...at, startYear: 2026, daysPerWeek: 6 });
  await cal({
    kind: "DefineTermSystem",
    ...scope,
    gradeLevels: [4, 5, 6, 7, 8, 9, 10, 11],
    ...HALF_YEARS,
  });
  await addFivePointSubjects(app.deps, [
    ["MATH", "Математика"],
    ["RUS", "Русский язык"],
    ["ENG", "Английский язык"],
    ["BIO", "Биология"],
  ]);
  for (const g of [4, 5, 6, 7, 10, 11])
    await assignTeacher(app.deps, randomUUID(), {
      ...scope,
      teacherId: f.teachers.math,
      subjectId: "MATH",
      classGroupId: group(g),
      subgroupId: "",
    });
  // Mondays for 5А, Tuesdays for 10А, Wednesdays for 11А; September's lessons (today is 1 September).
  await slot(5, 1);
  await slot(10, 2);
  await slot(11, 3);
  await generateLessons(app.deps, randomUUID(), {
    ...scope,
    from: "2026-09-01",
    to: "2026-09-30",
    classGroupIds: [],
  });
});
afterAll(async () => {
  await app?.close();
});

describe("five days a week and Saturday lessons", () => {
  it("refuses five days while a lesson moved onto a Saturday is held, naming it; cancelled, it goes", async () => {
    // 12 September 2026 is a Saturday.
    await (await toSaturday(5, "2026-09-07", "2026-09-12", 1))();
    const moved = await lessonOn(5, "2026-09-12");
    const streams = [calendarId, timetableId, planId, lessonsStreamId(f.classGroups.a5, 2026)];
    const before = await versions(...streams);
    const err = await refusal(fiveDays(5));
    expect([err.kind, err.field, err.message]).toEqual([
      "failed_precondition",
      "days_per_week",
      `days_per_week: a 5-day week has no Saturday, but 1 lesson is still scheduled on Saturdays from 2026-09-01 on: lesson ${moved.lessonId} (grade 5, class group ${f.classGroups.a5}, 2026-09-12); move or cancel them first (MoveLesson, CancelLesson)`,
    ]);
    expect(await versions(...streams)).toEqual(before);
    expect(await daysOf(5)).toBe(6);
    await cancelLesson(app.deps, randomUUID(), {
      ...scope,
      classGroupId: f.classGroups.a5,
      lessonId: moved.lessonId,
      reason: "перенос отменён",
    });
    await fiveDays(5);
    expect(await daysOf(5)).toBe(5);
  });
});

describe("five days raced against what a five-day week refuses", () => {
  it("against a Saturday slot: the second of the two is refused, whichever it is", async () => {
    const keys = [calendarId, timetableId];
    firstWon(
      await race(keys, [() => fiveDays(6), () => slot(6, 6)]),
      "weekday",
      /Saturday is not a school day of class group 6А: grade 6 has a 5-day week/,
    );
    firstWon(
      await race(keys, [() => slot(7, 6), () => fiveDays(7)]),
      "days_per_week",
      /these Saturday slots exist: slot [0-9a-f-]+ \(grade 7,/,
    );
    const saturdaySlots = [...(await loadTimetable(app.deps, f.schoolId, 2026)).slots.values()]
      .filter((s) => s.weekday === 6)
      .map((s) => s.gradeLevel);
    expect([saturdaySlots, await daysOf(6), await daysOf(7)]).toEqual([[7], 5, 6]);
  });

  it("against study plan hours over a five-day week: the second is refused, whichever it is", async () => {
    // Grades 8 and 9: at most 33 lessons a week on five days, 36 on six; 30 planned, 5 more raced.
    const hours = (gradeLevel: number, subjectId: string, hoursPerWeek: number) => () =>
      setStudyPlanHours(app.deps, randomUUID(), { ...scope, gradeLevel, subjectId, hoursPerWeek });
    for (const g of [8, 9]) for (const s of ["MATH", "RUS", "ENG"]) await hours(g, s, 10)();
    const keys = [calendarId, planId];
    firstWon(
      await race(keys, [() => fiveDays(8), hours(8, "BIO", 5)]),
      "hours_per_week",
      /grade 8 would have 35 lessons a week, more than the 33 allowed on a 5-day week/,
    );
    firstWon(
      await race(keys, [hours(9, "BIO", 5), () => fiveDays(9)]),
      "days_per_week",
      /grade 9's study plan has 35 lessons a week, more than the 33 allowed/,
    );
    const plan = await getStudyPlan(app.deps, f.schoolId, 2026);
    const total = (g: number) =>
      plan.filter((h) => h.gradeLevel === g).reduce((n, h) => n + h.hoursPerWeek, 0);
    expect([total(8), await daysOf(8), total(9), await daysOf(9)]).toEqual([30, 5, 35, 6]);
  });

  it("against a move onto a Saturday: one is refused, whichever it is, and the week holds no Saturday lesson of five days", async () => {
    // 19 and 26 September 2026 are Saturdays. The move holds the calendar shared and the week
    // change the lesson stream shared (the event store's guards): when the two first wait on
    // different streams, which one commits first is the lock manager's choice, not the order
    // given, so either may win; the loser is refused, never both through.
    const saturdays = async (g: number) =>
      (await classGroupLessons(app.deps, group(g), 2026, "2026-09-01", "2026-09-30")).filter(
        (l) => l.date === "2026-09-19" || l.date === "2026-09-26",
      ).length;
    const keys = (g: number) => [calendarId, timetableId, lessonsStreamId(group(g), 2026)];
    for (const [g, from, to, period] of [
      [10, "2026-09-08", "2026-09-19", 2],
      [11, "2026-09-09", "2026-09-26", 3],
    ] as const) {
      const move = await toSaturday(g, from, to, period);
      const calls = g === 10 ? [() => fiveDays(g), move] : [move, () => fiveDays(g)];
      const outcomes = await race(keys(g), calls);
      const moved = outcomes[g === 10 ? 1 : 0]?.status === "fulfilled";
      if (moved)
        wonBy(
          outcomes,
          g === 10 ? 1 : 0,
          "days_per_week",
          /1 lesson is still scheduled on Saturdays/,
        );
      else wonBy(outcomes, g === 10 ? 0 : 1, "to_date", new RegExp(`${to} is not a school day`));
      expect([await saturdays(g), await daysOf(g)]).toEqual(moved ? [1, 6] : [0, 5]);
    }
  });
});

describe("five days against a generation planned before", () => {
  const october = { ...scope, from: "2026-10-01", to: "2026-10-31" };
  /** 4А's lessons on October's Saturdays (3, 10, 17, 24 and 31 October 2026). */
  const saturdaysOfFour = async () =>
    (await classGroupLessons(app.deps, group(4), 2026, october.from, october.to))
      .filter((l) => new Date(`${l.date}T00:00:00Z`).getUTCDay() === 6)
      .map((l) => l.date);

  it("puts no lesson on a Saturday of a week set to five days while the generation ran", async () => {
    // A Saturday slot of 4А from October; a generation of October plans with it, then, before
    // it appends 4А's lessons, the slot is ended before its first day and grade 4 goes to five
    // days (both allowed: no slot valid on a day, no Saturday lesson yet). SetGradeWeekLength
    // appends nothing to 4А's stream: the calendar's and the timetable's versions tell the
    // generation. (raceBehindLocks commits in the order the calls read; here the generation
    // reads first and appends last, and both commands lock 4А's stream too.)
    const { slotId } = (await slot(4, 6, 4, "2026-10-01")).result;
    const stalled = stallReads(app, lessonsStreamId(group(4), 2026));
    const generation = generateLessons(stalled.deps, randomUUID(), {
      ...october,
      classGroupIds: [group(4)],
    });
    await stalled.reached;
    await endTimetableSlot(app.deps, randomUUID(), { ...scope, slotId, lastDay: "2026-09-30" });
    await fiveDays(4);
    stalled.release();
    const { result } = await generation;
    expect([result.scheduled, await saturdaysOfFour(), await daysOf(4)]).toEqual([0, [], 5]);
  });

  it("schedules no lesson on a day declared off while the generation ran", async () => {
    // Only the calendar changes here: its version is all that tells the generation.
    await slot(4, 2, 3, "2026-11-01");
    const november = { ...scope, from: "2026-11-01", to: "2026-11-30", classGroupIds: [group(4)] };
    const stalled = stallReads(app, lessonsStreamId(group(4), 2026));
    const generation = generateLessons(stalled.deps, randomUUID(), november);
    await stalled.reached;
    await calendarCommands(app.deps)({
      kind: "DeclareNonSchoolDays",
      ...scope,
      firstDay: "2026-11-10",
      lastDay: "2026-11-10",
      dayKind: "NON_SCHOOL_DAY_KIND_DAY_OFF",
      name: "Выходной",
    });
    stalled.release();
    await generation;
    const tuesdays = (
      await classGroupLessons(app.deps, group(4), 2026, november.from, november.to)
    ).map((l) => l.date);
    expect(tuesdays).toEqual(["2026-11-03", "2026-11-17", "2026-11-24"]);
  });

  it("schedules no lesson of a slot ended while the generation ran", async () => {
    // Both read before either commits (the slot's end first): without the timetable in the
    // generation's append, 4А's Monday lessons of October went in after their slot had ended.
    const { slotId } = (await slot(4, 1, 2, "2026-10-01")).result;
    const outcomes = await race(
      [timetableId, lessonsStreamId(group(4), 2026)],
      [
        () => endTimetableSlot(app.deps, randomUUID(), { ...scope, slotId, lastDay: "2026-09-30" }),
        () => generateLessons(app.deps, randomUUID(), { ...october, classGroupIds: [group(4)] }),
      ],
    );
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled"]);
    const lessons = await classGroupLessons(app.deps, group(4), 2026, october.from, october.to);
    expect(lessons).toEqual([]);
  });
});
