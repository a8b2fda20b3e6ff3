import { describe, expect, it } from "vitest";
import {
  academicYearOf,
  formatAcademicYear,
  InvalidAcademicYear,
  parseAcademicYear,
} from "./academic-year.js";

describe("AcademicYear", () => {
  it("reads and writes the shared text form", () => {
    expect(parseAcademicYear("2026/2027")).toEqual({ startYear: 2026 });
    expect(formatAcademicYear({ startYear: 2026 })).toBe("2026/2027");
  });

  it("refuses malformed or non-consecutive years, naming the value", () => {
    expect(() => parseAcademicYear("2026-2027")).toThrow(InvalidAcademicYear);
    expect(() => parseAcademicYear("2026/2028")).toThrow(/"2026\/2028".*2027/);
  });

  it("starts a new year on 1 September", () => {
    expect(academicYearOf("2026-08-31")).toEqual({ startYear: 2025 });
    expect(academicYearOf("2026-09-01")).toEqual({ startYear: 2026 });
    expect(academicYearOf("2027-05-25")).toEqual({ startYear: 2026 });
  });
});
