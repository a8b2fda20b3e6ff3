import { describe, expect, it } from "vitest";
import { civilDateIn } from "./civil-date.js";

describe("civilDateIn", () => {
  it("turns to the next day at the zone's midnight, also right after a cached answer", () => {
    const zone = "Asia/Yekaterinburg"; // UTC+5: midnight is 19:00 UTC
    expect(civilDateIn(new Date("2026-11-28T18:59:00.000Z"), zone)).toBe("2026-11-28");
    expect(civilDateIn(new Date("2026-11-28T18:59:59.999Z"), zone)).toBe("2026-11-28");
    expect(civilDateIn(new Date("2026-11-28T19:00:00.000Z"), zone)).toBe("2026-11-29");
    // Back in time (a test clock) recomputes too.
    expect(civilDateIn(new Date("2026-11-28T18:59:30.000Z"), zone)).toBe("2026-11-28");
  });

  it("answers each zone for itself", () => {
    const instant = new Date("2026-11-28T20:30:00.000Z");
    expect(civilDateIn(instant, "Asia/Yekaterinburg")).toBe("2026-11-29");
    expect(civilDateIn(instant, "Europe/Kaliningrad")).toBe("2026-11-28");
    expect(civilDateIn(instant, "Asia/Kamchatka")).toBe("2026-11-29");
    expect(civilDateIn(instant, "Asia/Yekaterinburg")).toBe("2026-11-29");
  });

  it("handles half-hour offsets at their midnight", () => {
    const zone = "Asia/Kolkata"; // UTC+5:30: midnight is 18:30 UTC
    expect(civilDateIn(new Date("2026-11-28T18:29:59.999Z"), zone)).toBe("2026-11-28");
    expect(civilDateIn(new Date("2026-11-28T18:30:00.000Z"), zone)).toBe("2026-11-29");
  });
});
