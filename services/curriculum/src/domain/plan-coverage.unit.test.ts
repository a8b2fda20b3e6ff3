import { expect, it } from "vitest";
import type { StudyPlanHoursSet, TimetableSlotAdded } from "./events.js";
import { planCoverage, programmeHoursMismatches } from "./plan-coverage.js";

const hours = (gradeLevel: number, subjectId: string, hoursPerWeek: number) =>
  [`${gradeLevel}|${subjectId}`, { gradeLevel, subjectId, hoursPerWeek }] as [
    string,
    StudyPlanHoursSet,
  ];
const plan = { hours: new Map([hours(5, "MATH", 2), hours(5, "ENG", 2)]) };
let n = 0;
const slot = (
  classGroupId: string,
  subjectId: string,
  subgroupId = "",
  validTo = "2027-05-31",
): TimetableSlotAdded =>
  ({
    slotId: `s${++n}`,
    classGroupId,
    gradeLevel: 5,
    subjectId,
    subgroupId,
    validFrom: "2026-09-01",
    validTo,
    weekday: 1,
  }) as TimetableSlotAdded;
const fiveDays = () => 5;

it("reports subjects short of or over the plan, per subgroup, and class groups without slots", () => {
  const slots = [
    slot("5a", "MATH"),
    slot("5a", "MATH"),
    slot("5a", "ENG", "g1"),
    slot("5a", "ENG", "g1"),
    slot("5a", "ENG", "g2"),
    slot("5a", "CHESS"),
    // Ended before the date: not in the week's timetable.
    slot("5a", "MATH", "", "2026-09-10"),
  ];
  const groups = [
    { classGroupId: "5a", gradeLevel: 5 },
    { classGroupId: "5b", gradeLevel: 5 },
  ];
  expect(
    planCoverage(plan, slots, groups, "2026-09-15", fiveDays).map((c) => [
      c.classGroupId,
      c.subjectId,
      c.subgroupId,
      c.plannedHours,
      c.timetabledHours,
    ]),
  ).toEqual([
    ["5a", "CHESS", "", 0, 1],
    ["5a", "ENG", "g2", 2, 1],
    ["5b", "ENG", "", 2, 0],
    ["5b", "MATH", "", 2, 0],
  ]);
  // On 1 September the ended slot still runs: mathematics is one over.
  expect(
    planCoverage(plan, slots, groups, "2026-09-01", fiveDays).find((c) => c.subjectId === "MATH"),
  ).toMatchObject({ classGroupId: "5a", plannedHours: 2, timetabledHours: 3 });
});

it("does not count a slot on a weekday past its grade level's week (it gives no lessons)", () => {
  // A six-day school's grade 1 (five days by SanPiN) with a Saturday slot from before the rule.
  const first = { hours: new Map([hours(1, "MATH", 2)]) };
  const slots = [1, 6].map((weekday) => ({
    ...slot("1a", "MATH"),
    gradeLevel: 1,
    weekday,
  }));
  const week = (g: number) => (g === 1 ? 5 : 6);
  expect(
    planCoverage(first, slots, [{ classGroupId: "1a", gradeLevel: 1 }], "2026-09-15", week),
  ).toEqual([
    {
      classGroupId: "1a",
      subgroupId: "",
      gradeLevel: 1,
      subjectId: "MATH",
      plannedHours: 2,
      timetabledHours: 1,
    },
  ]);
});

it("compares approved programmes' hours with the plan's weekly hours over the school weeks", () => {
  const programmes = [
    { gradeLevel: 5, subjectId: "MATH", version: 2, hours: 68 },
    { gradeLevel: 5, subjectId: "ENG", version: 1, hours: 60 },
    // Not in the plan, or a grade without school weeks: nothing to compare with.
    { gradeLevel: 5, subjectId: "CHESS", version: 1, hours: 10 },
    { gradeLevel: 6, subjectId: "MATH", version: 1, hours: 1 },
  ];
  expect(programmeHoursMismatches(plan, programmes, new Map([[5, 34]]))).toEqual([
    {
      gradeLevel: 5,
      subjectId: "ENG",
      weeklyHours: 2,
      schoolWeeks: 34,
      plannedHours: 68,
      programmeVersion: 1,
      programmeHours: 60,
    },
  ]);
});
