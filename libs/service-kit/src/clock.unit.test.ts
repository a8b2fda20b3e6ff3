import { describe, expect, it } from "vitest";
import { fixedClock, manualClock, systemClock } from "./clock.js";

describe("clocks", () => {
  it("systemClock follows real time", () => {
    const before = Date.now();
    const now = systemClock.now().getTime();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it("fixedClock always answers the same instant, in fresh Date objects", () => {
    const clock = fixedClock("2026-09-01T03:00:00Z");
    const a = clock.now();
    a.setFullYear(1999);
    expect(clock.now().toISOString()).toBe("2026-09-01T03:00:00.000Z");
  });

  it("manualClock moves only when told", () => {
    const clock = manualClock(new Date("2026-09-01T00:00:00Z"));
    clock.advance(90_000);
    expect(clock.now().toISOString()).toBe("2026-09-01T00:01:30.000Z");
    clock.set("2027-05-31T19:00:00Z");
    expect(clock.now().toISOString()).toBe("2027-05-31T19:00:00.000Z");
  });

  it("refuses invalid dates", () => {
    expect(() => fixedClock("not a date")).toThrow(RangeError);
    expect(() => manualClock("2026-01-01").advance(Number.NaN)).toThrow(RangeError);
  });
});
