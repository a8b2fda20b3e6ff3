import { describe, expect, it } from "vitest";
import {
  duePlacement,
  msUntilDay,
  type Placement,
  regionToday,
  withPending,
} from "./enrollment.js";

const at = (from: string, school_id = "s"): Placement => ({
  from,
  school_id,
  municipality_id: "m",
  academic_year: 2026,
});

describe("enrollments recorded ahead", () => {
  it("are kept by date, a later one for the same date replacing it", () => {
    const pending = withPending(
      withPending([at("2027-09-01", "a")], at("2027-01-11")),
      at("2027-09-01", "b"),
    );
    expect(pending.map((p) => [p.from, p.school_id])).toEqual([
      ["2027-01-11", "s"],
      ["2027-09-01", "b"],
    ]);
  });

  it("take effect on their day: the latest due one, the rest left", () => {
    const pending = [at("2027-01-11", "a"), at("2027-09-01", "b")];
    expect(duePlacement(pending, "2027-01-10")).toEqual({ due: null, left: pending });
    expect(duePlacement(pending, "2027-01-11")).toEqual({ due: pending[0], left: [pending[1]] });
    expect(duePlacement(pending, "2027-09-02")).toEqual({ due: pending[1], left: [] });
  });

  it("are due at the start of their day in the region (UTC+5)", () => {
    const now = new Date("2026-11-30T12:00:00Z"); // 17:00 in Chelyabinsk
    expect(regionToday(now)).toBe("2026-11-30");
    expect(msUntilDay("2026-12-01", now)).toBe(7 * 3_600_000); // 2026-11-30T19:00Z
    expect(msUntilDay("2026-11-30", now)).toBe(0);
    expect(regionToday(new Date("2026-11-30T19:00:00Z"))).toBe("2026-12-01");
  });
});
