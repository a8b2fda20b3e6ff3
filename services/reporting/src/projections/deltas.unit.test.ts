import { describe, expect, it } from "vitest";
import { countStanding } from "../domain/metrics/all-subjects.js";
import { countEntry, countResult } from "../domain/metrics/performance.js";
import type { FivePoint } from "../domain/metrics/values.js";
import { perfFromArray, standingFromArray } from "./counters-codec.js";
import { ALL_SUBJECTS, Deltas, REGION_SCOPE, type Scope } from "./deltas.js";

const a: Scope = { classGroupId: "5a", schoolId: "s1", municipalityId: "m" };
const b: Scope = { classGroupId: "5b", schoolId: "s1", municipalityId: "m" };
const c: Scope = { classGroupId: "6a", schoolId: "s2", municipalityId: "m" };

/** The totals as `level|scope|…` → the first counter column. */
const byKey = (rows: ReturnType<Deltas["perfTotals"]>) =>
  new Map([...rows.values()].map((r) => [r.key.join("|"), r.cols[0] as number[]]));

describe("Deltas roll class-group counts up to every level when taken", () => {
  it("sums class groups into their school, municipality and region, per subject and for all", () => {
    const d = new Deltas();
    const mark = (s: Scope, subject: string, value: FivePoint) =>
      d.entriesAt(s, 2026, 1, subject, (x) => countEntry(x, { value, weight: 1 }));
    mark(a, "maths", 5);
    mark(a, "maths", 4);
    mark(b, "maths", 5);
    mark(c, "physics", 3);
    const rows = byKey(d.perfTotals());
    const fives = (k: string) => perfFromArray(rows.get(k) ?? [], "CURRENT").marks[5];
    const marks = (k: string) =>
      perfFromArray(rows.get(k) ?? [], "CURRENT").marks.reduce((x, y) => x + y, 0);
    expect(marks("CLASS_GROUP|5a|2026|1|maths")).toBe(2);
    expect(marks("CLASS_GROUP|5b|2026|1|maths")).toBe(1);
    expect(fives("SCHOOL|s1|2026|1|maths")).toBe(2);
    expect(marks("SCHOOL|s1|2026|1|maths")).toBe(3);
    expect(marks(`SCHOOL|s2|2026|1|${ALL_SUBJECTS}`)).toBe(1);
    expect(marks("MUNICIPALITY|m|2026|1|maths")).toBe(3);
    expect(marks(`REGION|${REGION_SCOPE}|2026|1|${ALL_SUBJECTS}`)).toBe(4);
    // 3 class groups × 2 + 2 schools × 2 + (municipality, region) × (2 subjects + all).
    expect(rows.size).toBe(6 + 4 + 3 + 3);
  });

  it("a pupil moving between class groups of one school nets to zero at the school", () => {
    const d = new Deltas();
    d.perfAt(a, 2026, 1, "maths", "CURRENT", (x) => countResult(x, { kind: "MARK", mark: 4 }, -1));
    d.perfAt(b, 2026, 1, "maths", "CURRENT", (x) => countResult(x, { kind: "MARK", mark: 4 }));
    d.standingAt(a, 2026, 1, "CURRENT", (x) => countStanding(x, "QUALITY", -1));
    d.standingAt(b, 2026, 1, "CURRENT", (x) => countStanding(x, "QUALITY"));
    const rows = byKey(d.perfTotals());
    expect(perfFromArray(rows.get("CLASS_GROUP|5a|2026|1|maths") ?? [], "CURRENT").n[4]).toBe(-1);
    expect(perfFromArray(rows.get("CLASS_GROUP|5b|2026|1|maths") ?? [], "CURRENT").n[4]).toBe(1);
    expect(rows.get("SCHOOL|s1|2026|1|maths")?.every((x) => x === 0)).toBe(true);
    const standing = new Map(
      [...d.standingTotals().values()].map((r) => [r.key.join("|"), r.cols[0] as number[]]),
    );
    expect(standingFromArray(standing.get("CLASS_GROUP|5b|2026|1") ?? [], "CURRENT").quality).toBe(
      1,
    );
    expect(standing.get("SCHOOL|s1|2026|1")?.every((x) => x === 0)).toBe(true);
  });

  it("a daily count for all subjects only does not reach any subject's row", () => {
    const d = new Deltas();
    d.dailyAt(a, null, "2026-09-01", (x) => {
      x.att.daysIllness += 1;
    });
    d.dailyAt(a, "maths", "2026-09-01", (x) => {
      x.att.missedIllness += 1;
    });
    const rows = new Map([...d.dailyTotals().values()].map((r) => [r.key.join("|"), r.cols]));
    expect(rows.get("CLASS_GROUP|5a|maths|2026-09-01")?.[0]?.slice(1, 5)).toEqual([1, 0, 0, 0]);
    expect(rows.get(`SCHOOL|s1|${ALL_SUBJECTS}|2026-09-01`)?.[0]?.slice(1, 5)).toEqual([
      1, 0, 0, 1,
    ]);
    expect(rows.size).toBe(4 * 2);
  });
});
