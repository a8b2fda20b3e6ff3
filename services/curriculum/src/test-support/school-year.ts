import { randomUUID } from "node:crypto";
import type { TestServerUrls } from "@otmetka/testing";
import { expect } from "vitest";
import { type CalendarRequest, runCalendarCommand } from "../commands/calendar.js";
import type { CurriculumDeps } from "../commands/deps.js";
import { addSubject } from "../commands/subjects.js";
import type { CalendarCommand } from "../domain/calendar.js";
import { publishIdentityEvents, type schoolFixture } from "./identity-feed.js";
import { eventually, type InProcess, startInProcess } from "./in-process.js";

type TermSystem = Pick<
  Extract<CalendarCommand, { kind: "DefineTermSystem" }>,
  "termKind" | "terms"
>;

/** Grade 5's two half-years of 2026/27. */
export const HALF_YEARS: TermSystem = {
  termKind: "TERM_KIND_HALF_YEAR",
  terms: [
    { number: 1, firstDay: "2026-09-01", lastDay: "2026-12-31" },
    { number: 2, firstDay: "2027-01-01", lastDay: "2027-05-31" },
  ],
};

/** Runs calendar commands through the command handler, each with a new command id. */
export const calendarCommands = (deps: CurriculumDeps) => (c: CalendarRequest) =>
  runCalendarCommand(deps, randomUUID(), c);

/**
 * Fixture `f`'s school year 2026/27 through the command handlers: five-day weeks with the
 * region's default dates, and grade 5's terms (half-years unless given).
 */
export async function defineSchoolYear(
  deps: CurriculumDeps,
  f: Pick<ReturnType<typeof schoolFixture>, "schoolId" | "municipalityId">,
  termSystem: TermSystem = HALF_YEARS,
) {
  const cal = calendarCommands(deps);
  await cal({
    kind: "DefineAcademicYear",
    schoolId: f.schoolId,
    municipalityId: f.municipalityId,
    startYear: 2026,
    daysPerWeek: 5,
  });
  await cal({
    kind: "DefineTermSystem",
    schoolId: f.schoolId,
    startYear: 2026,
    gradeLevels: [5],
    ...termSystem,
  });
}

/** Platform subjects (code, name) graded on the five-point scale, added in order. */
export async function addFivePointSubjects(
  deps: CurriculumDeps,
  subjects: readonly (readonly [code: string, name: string])[],
) {
  for (const [code, name] of subjects) {
    await addSubject(deps, randomUUID(), {
      schoolId: "",
      municipalityId: "",
      code,
      name,
      grading: "GRADING_FIVE_POINT",
    });
  }
}

/**
 * The service in process with fixture `f`'s identity facts replicated (up to its class group
 * 5Б), its school year 2026/27 in half-years and mathematics: what the lesson tests start from.
 */
export async function startWithMathsYear(
  env: TestServerUrls,
  f: ReturnType<typeof schoolFixture>,
): Promise<InProcess> {
  const app = await startInProcess(env);
  await publishIdentityEvents(app.nc, app.names, f.events);
  await eventually(async () =>
    expect(await app.deps.facts.classGroup(f.classGroups.b5)).toBeDefined(),
  );
  await defineSchoolYear(app.deps, f);
  await addFivePointSubjects(app.deps, [["MATH", "Математика"]]);
  return app;
}
