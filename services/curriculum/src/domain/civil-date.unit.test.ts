import { expect, it } from "vitest";
import { addDays, civilDate, civilDateIn, isoWeekday } from "./civil-date.js";

it("checks real calendar dates", () => {
  expect(civilDate("d", "2028-02-29")).toBe("2028-02-29");
  expect(() => civilDate("first_day", "2027-02-29")).toThrow(
    "first_day: must be a real date written YYYY-MM-DD",
  );
  expect(() => civilDate("d", "1.9.2026")).toThrow(/YYYY-MM-DD/);
});

it("counts days across month, year and daylight-saving boundaries", () => {
  expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
  expect(addDays("2027-03-27", 2)).toBe("2027-03-29");
  expect(isoWeekday("2026-09-01")).toBe(2);
  expect(isoWeekday("2026-09-06")).toBe(7);
});

it("takes the civil date in the school's zone, not UTC", () => {
  // 20:00 UTC on 31 August is already 1 September in Yekaterinburg (UTC+5).
  const instant = new Date("2026-08-31T20:00:00Z");
  expect(civilDateIn(instant, "Asia/Yekaterinburg")).toBe("2026-09-01");
  expect(civilDateIn(instant, "Europe/Kaliningrad")).toBe("2026-08-31");
});
