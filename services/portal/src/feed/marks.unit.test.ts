import { describe, expect, it } from "vitest";
import { pupilPerformanceUpdatedSchema } from "../contract/schemas.js";
import { markText, performanceSnapshot } from "./marks.js";

describe("internal grades → portal performance", () => {
  it("maps internal mark values to the stable mark text and ignores unknown ones", () => {
    expect(markText("MARK_VALUE_FIVE")).toBe("5");
    expect(markText("MARK_VALUE_PASS")).toBe("pass");
    expect(markText("MARK_VALUE_NOT_ATTESTED")).toBe("not_attested");
    expect(markText("MARK_VALUE_SIX_NEW_INTERNAL")).toBeNull();
    expect(markText(5)).toBeNull();
  });

  it("takes the current term's marks, weighted averages, term and year marks, absences", () => {
    const snap = performanceSnapshot({
      portalId: "EPGU-1",
      schoolId: "s-1",
      municipalityId: "m-1",
      academicYear: 2026,
      marks: [
        { subject_id: "math", term: 1, mark: "2", weight: 1, seq: 1 },
        { subject_id: "math", term: 2, mark: "5", weight: 2, seq: 3 },
        { subject_id: "math", term: 2, mark: "4", weight: 1, seq: 2 },
        { subject_id: "math", term: 2, mark: "pass", weight: 1, seq: 4 },
        { subject_id: "art", term: 2, mark: "pass", weight: 1, seq: 5 },
      ],
      termMarks: [
        { subject_id: "math", term: 1, mark: "3" },
        { subject_id: "math", term: 0, mark: "4" },
      ],
      absences: [
        { missed: true, excused: true, late: false },
        { missed: true, excused: false, late: false },
        { missed: false, excused: false, late: true },
      ],
      asOf: new Date("2026-12-01T00:00:00Z"),
    });
    expect(snap.currentTerm).toBe(2);
    expect(snap.subjects).toEqual([
      { subjectId: "art", currentMarks: ["pass"], average: "", termMarks: [], yearMark: "" },
      {
        subjectId: "math",
        currentMarks: ["4", "5", "pass"],
        average: "4.67",
        termMarks: [{ term: 1, mark: "3" }],
        yearMark: "4",
      },
    ]);
    expect(snap.absences).toEqual({ lessonsMissed: 2, excused: 1, late: 1 });
    expect(pupilPerformanceUpdatedSchema.safeParse(snap).success).toBe(true);
  });

  it("shows exemptions (осв.) overlapping the academic year per subject, an exempt subject without marks included", () => {
    const snap = performanceSnapshot({
      portalId: "EPGU-1",
      schoolId: "s-1",
      municipalityId: "m-1",
      academicYear: 2026,
      marks: [{ subject_id: "math", term: 1, mark: "5", weight: 1, seq: 1 }],
      termMarks: [],
      absences: [],
      exemptions: [
        { subject_id: "pe", first_day: "2027-03-01", last_day: "2027-09-15" },
        { subject_id: "pe", first_day: "2026-08-20", last_day: "2026-09-01" },
        // Outside 2026-09-01..2027-08-31: left out.
        { subject_id: "pe", first_day: "2026-01-10", last_day: "2026-08-31" },
        { subject_id: "music", first_day: "2027-09-01", last_day: "2027-09-30" },
      ],
      asOf: new Date("2026-12-01T00:00:00Z"),
    });
    expect(snap.subjects).toEqual([
      { subjectId: "math", currentMarks: ["5"], average: "5.00", termMarks: [], yearMark: "" },
      {
        subjectId: "pe",
        currentMarks: [],
        average: "",
        termMarks: [],
        yearMark: "",
        // By first day; the dates as recorded, not clipped to the year.
        exemptions: [
          { firstDay: "2026-08-20", lastDay: "2026-09-01" },
          { firstDay: "2027-03-01", lastDay: "2027-09-15" },
        ],
      },
    ]);
    // No field (not []) on a subject without exemptions: its JSON is what it was before.
    expect(Object.keys(snap.subjects[0] ?? {})).not.toContain("exemptions");
    expect(pupilPerformanceUpdatedSchema.safeParse(snap).success).toBe(true);
  });
});
