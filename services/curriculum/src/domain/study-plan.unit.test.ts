import { DomainError } from "@otmetka/service-kit";
import { expect, it } from "vitest";
import { run } from "../test-support/replay.js";
import type { AcademicYearDefined } from "./events.js";
import { type SetStudyPlanHours, studyPlanDecider } from "./study-plan.js";

const calendar = (daysPerWeek: number): AcademicYearDefined => ({
  schoolId: "s1",
  municipalityId: "m1",
  academicYear: { startYear: 2026 },
  firstDay: "2026-09-01",
  lastDay: "2027-05-31",
  daysPerWeek,
  timeZone: "Asia/Yekaterinburg",
});
const set = (
  subjectId: string,
  hoursPerWeek: number,
  gradeLevel = 5,
  days = 5,
): SetStudyPlanHours => ({
  calendar: calendar(days),
  gradeLevel,
  subjectId,
  subjectKnown: true,
  hoursPerWeek,
});

function refusal(commands: SetStudyPlanHours[]): DomainError {
  try {
    run(studyPlanDecider, commands);
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error("accepted");
}

it("keeps weekly hours per grade and subject; 0 removes; a new value replaces", () => {
  const { state } = run(studyPlanDecider, [
    set("MATH", 5),
    set("RUS", 6),
    set("MATH", 4),
    set("RUS", 0),
    set("MATH", 4, 6),
  ]);
  expect([...state.hours.values()].map((h) => [h.gradeLevel, h.subjectId, h.hoursPerWeek])).toEqual(
    [
      [5, "MATH", 4],
      [6, "MATH", 4],
    ],
  );
});

it("refuses more than the grade's weekly load, which depends on the week length", () => {
  const ten = ["A", "B", "C"].map((s) => set(s, 10));
  expect(refusal(ten).message).toBe(
    "hours_per_week: grade 5 would have 30 lessons a week, more than the 29 allowed on a 5-day week",
  );
  expect(
    run(
      studyPlanDecider,
      ["A", "B", "C"].map((s) => set(s, 10, 5, 6)),
    ).events.length,
  ).toBe(3);
});

it("refuses bad input naming the field", () => {
  expect(refusal([set("MATH", 11)]).field).toBe("hours_per_week");
  expect(refusal([set("MATH", 2, 0)]).field).toBe("grade_level");
  expect(refusal([{ ...set("MATH", 2), subjectKnown: false }]).kind).toBe("not_found");
  expect(refusal([{ ...set("MATH", 2), calendar: undefined }]).field).toBe("academic_year");
});
