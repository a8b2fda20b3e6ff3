import { afterEach, describe, expect, it, vi } from "vitest";
import { today } from "./mapping.js";

describe("the default as-of day", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("is today in the region's zone: at 01:30 in Chelyabinsk the UTC date is still yesterday's", () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-11-29T20:30:00Z")); // 2026-11-30 01:30 in UTC+5
    expect(today()).toBe("2026-11-30");
    vi.setSystemTime(new Date("2026-11-29T18:59:00Z")); // 23:59 there
    expect(today()).toBe("2026-11-29");
  });
});
