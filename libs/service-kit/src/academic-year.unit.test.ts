import { describe, expect, it } from "vitest";
import { academicYearDays, academicYearOf, formatAcademicYear } from "./academic-year.js";

describe("academic year", () => {
  it("runs from 1 September to 31 August", () => {
    expect(academicYearDays(2026)).toEqual({ firstDay: "2026-09-01", lastDay: "2027-08-31" });
  });

  it("puts a day in the year it falls in", () => {
    expect(academicYearOf("2026-09-01")).toBe(2026);
    expect(academicYearOf("2026-12-31")).toBe(2026);
    expect(academicYearOf("2027-01-01")).toBe(2026);
    expect(academicYearOf("2027-08-31")).toBe(2026);
    expect(academicYearOf("2026-08-31")).toBe(2025);
  });

  it("is written as schools write it", () => {
    expect(formatAcademicYear(2026)).toBe("2026/2027");
  });
});
