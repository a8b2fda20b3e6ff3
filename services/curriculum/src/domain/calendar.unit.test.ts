import { DomainError } from "@otmetka/service-kit";
import { describe, expect, it } from "vitest";
import { run } from "../test-support/replay.js";
import { type CalendarCommand, calendarDecider, schoolDays } from "./calendar.js";
import type { TermDates } from "./events.js";

const school = "0190f0a0-0000-7000-8000-000000000001";
const muni = "0190f0a0-0000-7000-8000-000000000002";
const year = (
  over: Partial<Extract<CalendarCommand, { kind: "DefineAcademicYear" }>> = {},
): CalendarCommand => ({
  kind: "DefineAcademicYear",
  schoolId: school,
  municipalityId: muni,
  startYear: 2026,
  daysPerWeek: 5,
  ...over,
});
type Cmd<K extends CalendarCommand["kind"]> = Extract<CalendarCommand, { kind: K }>;
const quarters = (terms: [string, string][], gradeLevels = [5, 6]): Cmd<"DefineTermSystem"> => ({
  kind: "DefineTermSystem",
  schoolId: school,
  startYear: 2026,
  gradeLevels,
  termKind: "TERM_KIND_QUARTER",
  terms: terms.map(([firstDay, lastDay], i) => ({ number: i + 1, firstDay, lastDay })),
});
const goodQuarters: [string, string][] = [
  ["2026-09-01", "2026-10-31"],
  ["2026-11-01", "2026-12-31"],
  ["2027-01-01", "2027-03-31"],
  ["2027-04-01", "2027-05-31"],
];
const holiday = (
  firstDay: string,
  lastDay: string,
  name = "Осенние каникулы",
): Cmd<"DeclareNonSchoolDays"> => ({
  kind: "DeclareNonSchoolDays",
  schoolId: school,
  startYear: 2026,
  firstDay,
  lastDay,
  dayKind: "NON_SCHOOL_DAY_KIND_HOLIDAY",
  name,
});

function refusal(commands: CalendarCommand[]): DomainError {
  try {
    run(calendarDecider, commands);
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error("the commands were accepted");
}

describe("academic year", () => {
  it("defaults to 1 September - 31 May in Asia/Yekaterinburg", () => {
    const { events } = run(calendarDecider, [year()]);
    expect(events[0]?.data).toMatchObject({
      firstDay: "2026-09-01",
      lastDay: "2027-05-31",
      timeZone: "Asia/Yekaterinburg",
    });
  });
  it.each([
    [year({ daysPerWeek: 7 }), "days_per_week", "invalid_argument"],
    [year({ firstDay: "2026-08-31" }), "first_day", "invalid_argument"],
    [year({ lastDay: "2027-09-01" }), "last_day", "invalid_argument"],
    [year({ lastDay: "2027-02-30" }), "last_day", "invalid_argument"],
    [year({ timeZone: "Mars/Olympus" }), "time_zone", "invalid_argument"],
  ])("refuses bad input naming the field (%#)", (command, field, kind) => {
    const err = refusal([command]);
    expect([err.field, err.kind]).toEqual([field, kind]);
  });
  it("is defined once per school and year", () => {
    expect(refusal([year(), year()]).message).toMatch(
      /academic_year: 2026\/2027 is already defined/,
    );
  });
});

describe("term systems", () => {
  it("needs the year first", () => {
    expect(refusal([quarters(goodQuarters)]).field).toBe("academic_year");
  });
  it("refuses overlapping terms", () => {
    const terms = goodQuarters.map((t) => [...t]) as [string, string][];
    terms[1] = ["2026-10-30", "2026-12-31"];
    expect(refusal([year(), quarters(terms)]).message).toBe(
      "terms: term 2 (from 2026-10-30) overlaps term 1 (to 2026-10-31)",
    );
  });
  it("names a term by its index in the request, whatever order the terms come in", () => {
    const [q1, q2, ...rest] = quarters(goodQuarters).terms as [TermDates, TermDates, TermDates];
    const backwards = { ...q2, lastDay: "2026-10-15" };
    const err = refusal([year(), { ...quarters(goodQuarters), terms: [backwards, q1, ...rest] }]);
    expect(err.message).toBe("terms[0].last_day: term 2 ends before it starts");
  });
  it("refuses a gap between terms", () => {
    const terms = goodQuarters.map((t) => [...t]) as [string, string][];
    terms[2] = ["2027-01-09", "2027-03-31"];
    expect(refusal([year(), quarters(terms)]).message).toMatch(
      /^terms: gap between term 2 \(to 2026-12-31\) and term 3/,
    );
  });
  it("refuses terms that do not reach the ends of the school year", () => {
    const late = [["2026-09-02", "2026-10-31"], ...goodQuarters.slice(1)] as [string, string][];
    expect(refusal([year(), quarters(late)]).message).toMatch(
      /term 1 must start on the school year's first day 2026-09-01/,
    );
    const early = [...goodQuarters.slice(0, 3), ["2027-04-01", "2027-05-25"]] as [string, string][];
    expect(refusal([year(), quarters(early)]).message).toMatch(
      /term 4 must end on the school year's last day 2027-05-31/,
    );
  });
  it("needs as many terms as the kind says", () => {
    const err = refusal([year(), { ...quarters(goodQuarters), termKind: "TERM_KIND_TRIMESTER" }]);
    expect(err.message).toBe("terms: TERM_KIND_TRIMESTER needs 3 terms, got 4");
  });
  it("refuses grade levels outside 1-11", () => {
    expect(refusal([year(), quarters(goodQuarters, [12])]).message).toBe(
      "grade_levels: must be 1-11, got 12",
    );
  });
  it("keeps one system per grade level: half-years for 10-11 beside quarters for 5-6", () => {
    const halves: CalendarCommand = {
      kind: "DefineTermSystem",
      schoolId: school,
      startYear: 2026,
      gradeLevels: [11, 10],
      termKind: "TERM_KIND_HALF_YEAR",
      terms: [
        { number: 1, firstDay: "2026-09-01", lastDay: "2026-12-31" },
        { number: 2, firstDay: "2027-01-01", lastDay: "2027-05-31" },
      ],
    };
    const { state } = run(calendarDecider, [year(), quarters(goodQuarters), halves]);
    expect(state.termSystems.get(5)?.kind).toBe("TERM_KIND_QUARTER");
    expect(state.termSystems.get(10)?.gradeLevels).toEqual([10, 11]);
    expect(state.termSystems.get(7)).toBeUndefined();
  });
});

describe("non-school days and school days", () => {
  it("refuses overlapping declarations and days outside the school year", () => {
    const base = [year(), holiday("2026-10-26", "2026-11-03")];
    expect(
      refusal([...base, holiday("2026-11-03", "2026-11-04", "День народного единства")]).message,
    ).toBe('first_day: overlaps "Осенние каникулы" (2026-10-26 - 2026-11-03)');
    expect(refusal([year(), holiday("2027-06-01", "2027-06-02")]).field).toBe("first_day");
    expect(refusal([year(), holiday("2027-05-24", "2027-06-02")]).message).toBe(
      "last_day: days must lie inside the school year 2026-09-01 - 2027-05-31, got 2027-06-02",
    );
    const blank: CalendarCommand = { ...holiday("2026-10-26", "2026-10-27"), name: " " };
    expect(refusal([year(), blank]).field).toBe("name");
  });
  it("skips weekends and holidays; a six-day week keeps Saturdays", () => {
    const commands = [quarters(goodQuarters), holiday("2026-10-26", "2026-11-03")];
    const five = schoolDays(run(calendarDecider, [year(), ...commands]).state, 5);
    const six = schoolDays(run(calendarDecider, [year({ daysPerWeek: 6 }), ...commands]).state, 5);
    // 2026-10-24 is a Saturday, 2026-10-26..2026-11-03 the autumn holidays.
    const late = (days: { date: string }[]) =>
      days.filter((d) => d.date >= "2026-10-22" && d.date <= "2026-11-05").map((d) => d.date);
    expect(late(five)).toEqual(["2026-10-22", "2026-10-23", "2026-11-04", "2026-11-05"]);
    expect(late(six)).toEqual([
      "2026-10-22",
      "2026-10-23",
      "2026-10-24",
      "2026-11-04",
      "2026-11-05",
    ]);
    expect(five.find((d) => d.date === "2026-11-04")?.term).toBe(2);
    expect(six.length - five.length).toBe(
      six.filter((d) => new Date(`${d.date}T00:00:00Z`).getUTCDay() === 6).length,
    );
    expect(() => schoolDays(run(calendarDecider, [year(), ...commands]).state, 9)).toThrow(
      /grade 9 has no term system/,
    );
  });
});
