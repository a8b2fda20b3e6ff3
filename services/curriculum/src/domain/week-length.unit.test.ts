import { DomainError } from "@otmetka/service-kit";
import { describe, expect, it } from "vitest";
import { run } from "../test-support/replay.js";
import { type CalendarCommand, calendarDecider, schoolDays } from "./calendar.js";
import type { AcademicYearDefined, TimetableSlotAdded } from "./events.js";
import { type SetStudyPlanHours, studyPlanDecider } from "./study-plan.js";
import { type TimetableCommand, timetableDecider } from "./timetable.js";
import { type GradeLesson, gradeDaysPerWeek } from "./week-length.js";

// Week lengths per grade level: SetGradeWeekLength, the grade-1 rule, and every use of them.
const school = "0190f0a0-0000-7000-8000-000000000001";
const sixDays: CalendarCommand = {
  kind: "DefineAcademicYear",
  schoolId: school,
  municipalityId: school,
  startYear: 2026,
  daysPerWeek: 6,
};
const halfYears = (gradeLevels: number[]): CalendarCommand => ({
  kind: "DefineTermSystem",
  schoolId: school,
  startYear: 2026,
  gradeLevels,
  termKind: "TERM_KIND_HALF_YEAR",
  terms: [
    { number: 1, firstDay: "2026-09-01", lastDay: "2026-12-31" },
    { number: 2, firstDay: "2027-01-01", lastDay: "2027-05-31" },
  ],
});
type SetWeek = Extract<CalendarCommand, { kind: "SetGradeWeekLength" }>;
const setWeek = (gradeLevels: number[], daysPerWeek: number, over: Partial<SetWeek> = {}) =>
  ({
    kind: "SetGradeWeekLength",
    schoolId: school,
    startYear: 2026,
    gradeLevels,
    daysPerWeek,
    slots: [],
    plannedHours: [],
    lessons: [],
    today: "2026-09-15",
    ...over,
  }) as SetWeek;
const saturdaySlot = (gradeLevel: number, over: Partial<TimetableSlotAdded> = {}) =>
  ({
    slotId: `sat-${gradeLevel}`,
    weekday: 6,
    period: 2,
    classGroupId: `cg-${gradeLevel}`,
    gradeLevel,
    validFrom: "2026-09-01",
    validTo: "2027-05-31",
    ...over,
  }) as TimetableSlotAdded;

function refusal(decide: () => unknown): DomainError {
  try {
    decide();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error("accepted");
}
const calendarRefusal = (commands: CalendarCommand[]) =>
  refusal(() => run(calendarDecider, commands));

describe("SetGradeWeekLength", () => {
  it("sets the week of the grade levels named; the others keep the school's, grade 1 five", () => {
    const { state, events } = run(calendarDecider, [sixDays, setWeek([4, 2, 3], 5)]);
    expect(events[1]).toMatchObject({
      type: "curriculum.v1.GradeWeekLengthSet",
      data: { gradeLevels: [2, 3, 4], daysPerWeek: 5, academicYear: { startYear: 2026 } },
    });
    const year = state.year as AcademicYearDefined;
    const weeks = [1, 2, 3, 4, 5, 11].map((g) => gradeDaysPerWeek(year, state.weekLengths, g));
    expect(weeks).toEqual([5, 5, 5, 5, 6, 6]);
  });

  it("gives a grade level of a five-day school six days, and a later setting replaces it", () => {
    const fiveDays = { ...sixDays, daysPerWeek: 5 } as CalendarCommand;
    const { state } = run(calendarDecider, [fiveDays, setWeek([10, 11], 6), setWeek([11], 5)]);
    const year = state.year as AcademicYearDefined;
    expect([9, 10, 11].map((g) => gradeDaysPerWeek(year, state.weekLengths, g))).toEqual([5, 6, 5]);
  });

  it("never gives grade 1 six days (SanPiN 1.2.3685-21)", () => {
    const err = calendarRefusal([sixDays, setWeek([1, 2], 6)]);
    expect([err.kind, err.field]).toEqual(["invalid_argument", "days_per_week"]);
    expect(err.message).toBe(
      'days_per_week: grade 1 always has a 5-day week (SanPiN 1.2.3685-21: "1 класс — 5-дневная учебная неделя")',
    );
    // Five days for grade 1 is what it has anyway: accepted.
    expect(run(calendarDecider, [sixDays, setWeek([1], 5)]).events).toHaveLength(2);
  });

  it.each([
    [setWeek([], 5), "grade_levels", "must name at least one grade level"],
    [setWeek([0], 5), "grade_levels", "must be 1-11, got 0"],
    [setWeek([12], 5), "grade_levels", "must be 1-11, got 12"],
    [setWeek([3, 3], 5), "grade_levels", "must not repeat a grade level"],
    [setWeek([3], 7), "days_per_week", "must be 5 or 6, got 7"],
    [setWeek([3], 0), "days_per_week", "must be 5 or 6, got 0"],
  ])("refuses bad input naming the field (%#)", (command, field, rule) => {
    const err = calendarRefusal([sixDays, command]);
    expect([err.kind, err.message]).toEqual(["invalid_argument", `${field}: ${rule}`]);
  });

  it("needs the school year", () => {
    expect(calendarRefusal([setWeek([3], 5)]).field).toBe("academic_year");
  });

  it("refuses five days while a grade level has Saturday slots, naming them", () => {
    const slots = [saturdaySlot(3), saturdaySlot(5)];
    const err = calendarRefusal([sixDays, setWeek([3, 4], 5, { slots })]);
    expect([err.kind, err.field]).toEqual(["failed_precondition", "days_per_week"]);
    expect(err.message).toBe(
      "days_per_week: a 5-day week has no Saturday, but these Saturday slots exist: slot sat-3 (grade 3, class group cg-3, period 2, 2026-09-01 - 2027-05-31); end them first (EndTimetableSlot)",
    );
    // Another grade's Saturday slot, or a slot ended before it began, is no obstacle.
    const ended = saturdaySlot(3, { validTo: "2026-08-31" });
    expect(run(calendarDecider, [sixDays, setWeek([4], 5, { slots })]).events).toHaveLength(2);
    expect(
      run(calendarDecider, [sixDays, setWeek([3], 5, { slots: [ended] })]).events,
    ).toHaveLength(2);
  });

  it("refuses five days while a grade level has a Saturday lesson still scheduled from today on, naming the count", () => {
    // 2026-09-19 and 2026-09-26 are Saturdays, today is 2026-09-15 (a Tuesday).
    const lesson = (over: Partial<GradeLesson>): GradeLesson => ({
      lessonId: "l-sat",
      classGroupId: "cg-3",
      gradeLevel: 3,
      date: "2026-09-19",
      status: "scheduled",
      ...over,
    });
    const lessons = [
      lesson({ lessonId: "l2", date: "2026-09-26", status: "scheduled" }),
      lesson({ lessonId: "l1" }),
      lesson({ lessonId: "past", date: "2026-09-12" }),
      lesson({ lessonId: "cancelled", status: "cancelled" }),
      lesson({ lessonId: "unscheduled", status: "unscheduled" }),
      lesson({ lessonId: "friday", date: "2026-09-18" }),
      lesson({ lessonId: "grade5", gradeLevel: 5, classGroupId: "cg-5" }),
    ];
    const err = calendarRefusal([sixDays, setWeek([3, 4], 5, { lessons })]);
    expect([err.kind, err.field, err.message]).toEqual([
      "failed_precondition",
      "days_per_week",
      "days_per_week: a 5-day week has no Saturday, but 2 lessons are still scheduled on Saturdays from 2026-09-15 on: lesson l1 (grade 3, class group cg-3, 2026-09-19), lesson l2 (grade 3, class group cg-3, 2026-09-26); move or cancel them first (MoveLesson, CancelLesson)",
    ]);
    // Past, cancelled, unscheduled, weekday and other grades' lessons are no obstacle; nor
    // are Saturday lessons when going to six days.
    const others = lessons.filter((l) => !l.lessonId.startsWith("l"));
    expect(
      run(calendarDecider, [sixDays, setWeek([3], 5, { lessons: others })]).events,
    ).toHaveLength(2);
    expect(run(calendarDecider, [sixDays, setWeek([3], 6, { lessons })]).events).toHaveLength(2);
    // Today itself counts: a Saturday lesson today has not been moved yet.
    expect(
      calendarRefusal([sixDays, setWeek([3], 5, { lessons, today: "2026-09-26" })]).message,
    ).toMatch(/but 1 lesson is still scheduled on Saturdays from 2026-09-26 on: lesson l2 /);
  });

  it("counts no lesson conducted on a Saturday, today's included: it has taken place", () => {
    // Today is Saturday 2026-09-19: a lesson conducted this morning cannot be moved or
    // cancelled, and stays as it was; one still scheduled today is refused as before.
    const lesson = (lessonId: string, status: GradeLesson["status"]): GradeLesson => ({
      lessonId,
      classGroupId: "cg-3",
      gradeLevel: 3,
      date: "2026-09-19",
      status,
    });
    const today = "2026-09-19";
    const conducted = [lesson("held", "conducted")];
    expect(
      run(calendarDecider, [sixDays, setWeek([3], 5, { lessons: conducted, today })]).events,
    ).toHaveLength(2);
    const both = [...conducted, lesson("pending", "scheduled")];
    expect(calendarRefusal([sixDays, setWeek([3], 5, { lessons: both, today })]).message).toMatch(
      /but 1 lesson is still scheduled on Saturdays from 2026-09-19 on: lesson pending /,
    );
  });

  it("refuses five days while the study plan has more hours than a five-day week allows", () => {
    const plannedHours = [
      { gradeLevel: 5, hoursPerWeek: 10 },
      { gradeLevel: 5, hoursPerWeek: 10 },
      { gradeLevel: 5, hoursPerWeek: 10 },
    ];
    const err = calendarRefusal([sixDays, setWeek([5], 5, { plannedHours })]);
    expect(err.message).toBe(
      "days_per_week: grade 5's study plan has 30 lessons a week, more than the 29 allowed on a 5-day week; lower it first (SetStudyPlanHours)",
    );
    expect(err.kind).toBe("failed_precondition");
    // Six days allow 32.
    expect(run(calendarDecider, [sixDays, setWeek([5], 6, { plannedHours })]).events).toHaveLength(
      2,
    );
  });
});

describe("the grade level's week is the one used", () => {
  it("schoolDays: no Saturdays for grade 1 on a six-day school, nor for a grade set to five", () => {
    const { state } = run(calendarDecider, [sixDays, halfYears([1, 3, 5]), setWeek([3], 5)]);
    const saturdays = (g: number) =>
      schoolDays(state, g).filter((d) => new Date(`${d.date}T00:00:00Z`).getUTCDay() === 6).length;
    expect([saturdays(1), saturdays(3)]).toEqual([0, 0]);
    expect(saturdays(5)).toBeGreaterThan(30);
  });

  const year: AcademicYearDefined = {
    schoolId: "s1",
    municipalityId: "m1",
    academicYear: { startYear: 2026 },
    firstDay: "2026-09-01",
    lastDay: "2027-05-31",
    daysPerWeek: 6,
    timeZone: "Asia/Yekaterinburg",
  };
  const facts = { schoolId: "s1", municipalityId: "m1", startYear: 2026, closedOn: null };
  const slotIn = (
    gradeLevel: number,
    weekday: number,
    weekLengths = new Map<number, number>(),
  ): TimetableCommand[] => {
    const classGroup = {
      classGroupId: `cg${gradeLevel}`,
      schoolId: "s1",
      startYear: 2026,
      gradeLevel,
      letter: "А",
      closed: false,
    };
    const t = { classGroupId: classGroup.classGroupId, subgroupId: "", classGroup };
    return [
      {
        kind: "AssignTeacher",
        school: facts,
        assignmentId: "a1",
        teacherId: "t1",
        teacherIsStaff: true,
        subjectId: "MATH",
        subjectKnown: true,
        ...t,
        subgroup: undefined,
      },
      {
        kind: "AddTimetableSlot",
        school: facts,
        calendar: year,
        weekLengths,
        slotId: "s1",
        weekday,
        period: 1,
        subjectId: "MATH",
        teacherId: "t1",
        room: "",
        validFrom: "",
        validTo: "",
        ...t,
        subgroup: undefined,
      },
    ];
  };

  it("timetable: a Saturday slot is refused for grade 1 and a grade set to five, not grade 5", () => {
    const err = refusal(() => run(timetableDecider, slotIn(1, 6)));
    expect([err.kind, err.field]).toEqual(["failed_precondition", "weekday"]);
    expect(err.message).toBe(
      'weekday: Saturday is not a school day of class group 1А: grade 1 always has a 5-day week (SanPiN 1.2.3685-21: "1 класс — 5-дневная учебная неделя") (weekday 1-5, got 6)',
    );
    expect(refusal(() => run(timetableDecider, slotIn(3, 6, new Map([[3, 5]])))).message).toBe(
      "weekday: Saturday is not a school day of class group 3А: grade 3 has a 5-day week (weekday 1-5, got 6)",
    );
    expect(run(timetableDecider, slotIn(5, 6)).events).toHaveLength(2);
    expect(run(timetableDecider, slotIn(1, 5)).events).toHaveLength(2);
    // Beyond every grade's week it stays bad input.
    expect(refusal(() => run(timetableDecider, slotIn(5, 7))).kind).toBe("invalid_argument");
  });

  it("study plan: the maximum weekly load of the grade level's week", () => {
    const plan = (weekLengths: Map<number, number>, hours: number[]): SetStudyPlanHours[] =>
      hours.map((hoursPerWeek, i) => ({
        calendar: year,
        weekLengths,
        gradeLevel: 5,
        subjectId: `S${i}`,
        subjectKnown: true,
        hoursPerWeek,
      }));
    // Six days: up to 32 for grade 5; five days: up to 29.
    expect(run(studyPlanDecider, plan(new Map(), [10, 10, 10])).events).toHaveLength(3);
    const err = refusal(() => run(studyPlanDecider, plan(new Map([[5, 5]]), [10, 10, 10])));
    expect([err.kind, err.message]).toEqual([
      "failed_precondition",
      "hours_per_week: grade 5 would have 30 lessons a week, more than the 29 allowed on a 5-day week (grade 5 has a 5-day week)",
    ]);
  });
});
