import { randomUUID } from "node:crypto";
import { isoWeekday } from "@otmetka/service-kit";
import { useTestEnvironment } from "@otmetka/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calendarStreamId } from "../domain/calendar.js";
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
import { addFivePointSubjects, calendarCommands } from "../test-support/school-year.js";
import { loadCalendar, setGradeWeekLength } from "./calendar.js";
import { classGroupLessons, generateLessons } from "./lessons.js";
import { setStudyPlanHours } from "./study-plans.js";
import { type AddSlotInput, addTimetableSlot, assignTeacher } from "./timetable.js";

// A six-day school whose first graders (by law) and third graders (by SetGradeWeekLength)
// learn five days a week, through the command layer on PostgreSQL and NATS.
const env = useTestEnvironment({ label: "curriculum_week_length" });
let app: InProcess;
const f = schoolFixture();
const scope = { schoolId: f.schoolId, startYear: 2026 };
const g1 = randomUUID();
const g3 = randomUUID();
const a5 = f.classGroups.a5;
const calendarId = calendarStreamId(f.schoolId, 2026);
const timetableId = timetableStreamId(f.schoolId, 2026);

const slot = (classGroupId: string, weekday: number, period = 1): AddSlotInput => ({
  ...scope,
  weekday,
  period,
  classGroupId,
  subgroupId: "",
  subjectId: "MATH",
  teacherId: f.teachers.math,
  room: "",
  validFrom: "",
  validTo: "",
});
const weekOf = (gradeLevels: number[], daysPerWeek: number) => ({
  ...scope,
  gradeLevels,
  daysPerWeek,
});
const versions = async () => [
  await app.store.streamVersion(calendarId),
  await app.store.streamVersion(timetableId),
  await app.store.streamVersion(studyPlanStreamId(f.schoolId, 2026)),
];

beforeAll(async () => {
  app = await startInProcess(env);
  const at = { schoolId: f.schoolId, municipalityId: f.municipalityId };
  await publishIdentityEvents(app.nc, app.names, [
    ...f.events,
    ...[
      [g1, 1],
      [g3, 3],
    ].map(([classGroupId, gradeLevel]) =>
      identityEvent(`cg-${classGroupId}`, "ClassGroupOpened", {
        classGroupId,
        ...at,
        academicYear: { startYear: 2026 },
        gradeLevel,
        letter: "А",
      }),
    ),
  ]);
  await eventually(async () => expect(await app.deps.facts.classGroup(g3)).toBeDefined());
  const cal = calendarCommands(app.deps);
  await cal({ kind: "DefineAcademicYear", ...at, startYear: 2026, daysPerWeek: 6 });
  await cal({
    kind: "DefineTermSystem",
    schoolId: f.schoolId,
    startYear: 2026,
    gradeLevels: [1, 3, 5],
    termKind: "TERM_KIND_HALF_YEAR",
    terms: [
      { number: 1, firstDay: "2026-09-01", lastDay: "2026-12-31" },
      { number: 2, firstDay: "2027-01-01", lastDay: "2027-05-31" },
    ],
  });
  await addFivePointSubjects(app.deps, [
    ["MATH", "Математика"],
    ["RUS", "Русский язык"],
    ["ENG", "Английский язык"],
    ["BIO", "Биология"],
  ]);
  for (const classGroupId of [g1, g3, a5]) {
    await assignTeacher(app.deps, randomUUID(), {
      ...scope,
      teacherId: f.teachers.math,
      subjectId: "MATH",
      classGroupId,
      subgroupId: "",
    });
  }
});
afterAll(async () => {
  await app?.close();
});

describe("week length per grade level on a six-day school", () => {
  it("refuses grade 1 a Saturday slot (SanPiN: five days) and accepts grade 5's", async () => {
    const before = await versions();
    const err = await refusal(addTimetableSlot(app.deps, randomUUID(), slot(g1, 6)));
    expect([err.kind, err.field]).toEqual(["failed_precondition", "weekday"]);
    expect(err.message).toMatch(
      /^weekday: Saturday is not a school day of class group 1А: grade 1 always has a 5-day week/,
    );
    expect(await versions()).toEqual(before);
    await addTimetableSlot(app.deps, randomUUID(), slot(a5, 6));
    await addTimetableSlot(app.deps, randomUUID(), slot(g1, 5));
  });

  it("sets grade 3 to five days: its Saturday slot is refused, idempotently by command id", async () => {
    const commandId = randomUUID();
    const first = await setGradeWeekLength(app.deps, commandId, weekOf([3], 5));
    expect(first.replayed).toBe(false);
    const after = await versions();
    const again = await setGradeWeekLength(app.deps, commandId, weekOf([3], 5));
    expect(again.replayed).toBe(true);
    expect(await versions()).toEqual(after);
    const reused = await refusal(setGradeWeekLength(app.deps, commandId, weekOf([4], 5)));
    expect([reused.kind, reused.field]).toEqual(["invalid_argument", "command_id"]);

    const err = await refusal(addTimetableSlot(app.deps, randomUUID(), slot(g3, 6)));
    expect(err.message).toBe(
      "weekday: Saturday is not a school day of class group 3А: grade 3 has a 5-day week (weekday 1-5, got 6)",
    );
    expect(await versions()).toEqual(after);
    await addTimetableSlot(app.deps, randomUUID(), slot(g3, 1));
    const state = await loadCalendar(app.deps, f.schoolId, 2026);
    const year = state.year;
    if (!year) throw new Error("no year");
    expect([1, 2, 3, 5].map((g) => gradeDaysPerWeek(year, state.weekLengths, g))).toEqual([
      5, 6, 5, 6,
    ]);
  });

  it("refuses bad input and grade 1 on six days, typed, changing nothing", async () => {
    const before = await versions();
    for (const [input, kind, field] of [
      [weekOf([1, 2], 6), "invalid_argument", "days_per_week"],
      [weekOf([12], 5), "invalid_argument", "grade_levels"],
      [weekOf([], 5), "invalid_argument", "grade_levels"],
      [weekOf([4], 7), "invalid_argument", "days_per_week"],
      [{ ...weekOf([4], 5), startYear: 1999 }, "invalid_argument", "academic_year"],
      [{ ...weekOf([4], 5), schoolId: "nope" }, "invalid_argument", "school_id"],
      [{ ...weekOf([4], 5), startYear: 2027 }, "failed_precondition", "academic_year"],
    ] as const) {
      const err = await refusal(setGradeWeekLength(app.deps, randomUUID(), input));
      expect([err.kind, err.field], JSON.stringify(input)).toEqual([kind, field]);
    }
    const blank = await refusal(setGradeWeekLength(app.deps, " ", weekOf([4], 5)));
    expect(blank.field).toBe("command_id");
    expect(await versions()).toEqual(before);
  });

  it("refuses five days for grade 5 while it has a Saturday slot, naming it", async () => {
    const before = await versions();
    const err = await refusal(setGradeWeekLength(app.deps, randomUUID(), weekOf([4, 5], 5)));
    expect([err.kind, err.field]).toEqual(["failed_precondition", "days_per_week"]);
    expect(err.message).toMatch(
      new RegExp(`Saturday slots exist: slot [0-9a-f-]+ \\(grade 5, class group ${a5}, period 1,`),
    );
    expect(await versions()).toEqual(before);
  });

  it("generates no Saturday lessons for grades 1 and 3, Saturday ones for grade 5", async () => {
    await generateLessons(app.deps, randomUUID(), {
      ...scope,
      from: "2026-09-01",
      to: "2026-09-30",
      classGroupIds: [],
    });
    const saturdays = async (classGroupId: string) => {
      const lessons = await classGroupLessons(
        app.deps,
        classGroupId,
        2026,
        "2026-09-01",
        "2026-09-30",
      );
      expect(lessons.length).toBeGreaterThan(0);
      return lessons.filter((l) => isoWeekday(l.date) === 6).length;
    };
    expect(await saturdays(g1)).toBe(0);
    expect(await saturdays(g3)).toBe(0);
    // 5, 12, 19 and 26 September 2026 are Saturdays.
    expect(await saturdays(a5)).toBe(4);
  });

  it("caps the study plan by the grade level's week", async () => {
    const hours = (gradeLevel: number, subjectId: string, hoursPerWeek: number) =>
      setStudyPlanHours(app.deps, randomUUID(), { ...scope, gradeLevel, subjectId, hoursPerWeek });
    // Grade 3 on five days: at most 23 (26 on six); grade 5 on six days: at most 32 (29 on five).
    await hours(3, "MATH", 10);
    await hours(3, "RUS", 10);
    const before = await versions();
    const err = await refusal(hours(3, "ENG", 4));
    expect([err.kind, err.message]).toEqual([
      "failed_precondition",
      "hours_per_week: grade 3 would have 24 lessons a week, more than the 23 allowed on a 5-day week (grade 3 has a 5-day week)",
    ]);
    expect(await versions()).toEqual(before);
    await hours(5, "MATH", 10);
    await hours(5, "RUS", 10);
    await hours(5, "ENG", 10);
    // Grade 8 planned for six days (35 of 36) cannot go to five (at most 33).
    for (const [subjectId, n] of [
      ["MATH", 10],
      ["RUS", 10],
      ["ENG", 10],
      ["BIO", 5],
    ] as const)
      await hours(8, subjectId, n);
    const planned = await versions();
    const tooMany = await refusal(setGradeWeekLength(app.deps, randomUUID(), weekOf([8], 5)));
    expect([tooMany.kind, tooMany.message]).toEqual([
      "failed_precondition",
      "days_per_week: grade 8's study plan has 35 lessons a week, more than the 33 allowed on a 5-day week; lower it first (SetStudyPlanHours)",
    ]);
    expect(await versions()).toEqual(planned);
  });
});
