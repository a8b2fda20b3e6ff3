import { describe, expect, it } from "vitest";
import { countStanding, emptyAllSubjects } from "../domain/metrics/all-subjects.js";
import { countEntry, countResult, emptyPerformance } from "../domain/metrics/performance.js";
import {
  PERF_WIDTH,
  perfFromArray,
  perfRowToArray,
  STANDING_WIDTH,
  standingFromArray,
  standingRowToArray,
} from "./counters-codec.js";
import { Deltas, type Scope } from "./deltas.js";

const scope: Scope = { classGroupId: "cg", schoolId: "s", municipalityId: "m" };

describe("one aggregate row holds both result bases", () => {
  it("a perf row reads back each basis's results with the entries of both", () => {
    const entries = emptyPerformance();
    countEntry(entries, { value: 5, weight: 2 });
    countEntry(entries, { value: "PASS", weight: 1 });
    const current = emptyPerformance();
    countResult(current, { kind: "MARK", mark: 5 });
    const period = emptyPerformance();
    countResult(period, { kind: "NO_MARKS" });
    countResult(period, { kind: "NOT_ATTESTED", passFail: true });
    const row = perfRowToArray({ entries, CURRENT: current, PERIOD_MARKS: period });
    expect(row).toHaveLength(PERF_WIDTH);
    expect(perfFromArray(row, "CURRENT")).toEqual({
      ...current,
      marks: entries.marks,
      passEntries: 1,
      sumMarks: 5,
      sumWeighted: 10,
      sumWeights: 2,
    });
    expect(perfFromArray(row, "PERIOD_MARKS")).toEqual({
      ...period,
      marks: entries.marks,
      passEntries: 1,
      sumMarks: 5,
      sumWeighted: 10,
      sumWeights: 2,
    });
  });

  it("a part the batch did not touch is zeros", () => {
    const current = emptyPerformance();
    countResult(current, { kind: "EXEMPT" });
    const row = perfRowToArray({ CURRENT: current });
    expect(perfFromArray(row, "PERIOD_MARKS")).toEqual(emptyPerformance());
    expect(perfFromArray(row, "CURRENT")).toEqual(current);
  });

  it("a standing row keeps the bases apart", () => {
    const current = emptyAllSubjects();
    countStanding(current, "QUALITY");
    const period = emptyAllSubjects();
    countStanding(period, "FAILING");
    const row = standingRowToArray({ CURRENT: current, PERIOD_MARKS: period });
    expect(row).toHaveLength(STANDING_WIDTH);
    expect(standingFromArray(row, "CURRENT")).toEqual(current);
    expect(standingFromArray(row, "PERIOD_MARKS")).toEqual(period);
  });

  it("a mark's entry is counted once per row, a result once per basis", () => {
    const d = new Deltas();
    d.entriesAt(scope, 2026, 1, "maths", (c) => countEntry(c, { value: 4, weight: 1 }));
    d.perfAt(scope, 2026, 1, "maths", "CURRENT", (c) => countResult(c, { kind: "MARK", mark: 4 }));
    d.perfAt(scope, 2026, 1, "maths", "PERIOD_MARKS", (c) => countResult(c, { kind: "NO_MARKS" }));
    // 4 levels × (the subject and all subjects): 8 rows, not 16.
    const rows = d.perfTotals();
    expect(rows.size).toBe(8);
    for (const { cols } of rows.values()) {
      const row = cols[0] as number[];
      for (const basis of ["CURRENT", "PERIOD_MARKS"] as const)
        expect(perfFromArray(row, basis).marks[4]).toBe(1);
      expect(perfFromArray(row, "CURRENT").n[4]).toBe(1);
      expect(perfFromArray(row, "PERIOD_MARKS").noMarks).toBe(1);
    }
  });
});
