import { describe, expect, it } from "vitest";
import {
  addDays,
  civilDate,
  civilDateIn,
  eachDay,
  isCivilDate,
  isoWeekday,
  isTimeZone,
} from "./civil-date.js";
import { DomainError, quoteInput } from "./domain-error.js";

describe("civilDate", () => {
  it("checks real calendar dates", () => {
    expect(civilDate("d", "2028-02-29")).toBe("2028-02-29");
    expect(() => civilDate("first_day", "2027-02-29")).toThrow(
      "first_day: must be a real date written YYYY-MM-DD",
    );
    expect(() => civilDate("d", "1.9.2026")).toThrow(/YYYY-MM-DD/);
    expect(isCivilDate("2026-13-01")).toBe(false);
  });

  it("refuses as invalid input naming the field", () => {
    const err = (() => {
      try {
        civilDate("to_date", "tomorrow");
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ kind: "invalid_argument", field: "to_date" });
  });

  it("quotes at most a short prefix of a bad value (a huge one overflowed the gRPC trailer)", () => {
    expect(() => civilDate("d", "tomorrow")).toThrow(
      'd: must be a real date written YYYY-MM-DD, got "tomorrow"',
    );
    const huge = "9".repeat(20_000);
    const message = (() => {
      try {
        civilDate("first_day", `${huge}\u0000`);
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(message).toBe(
      `first_day: must be a real date written YYYY-MM-DD, got "${"9".repeat(40)}"… (20001 characters)`,
    );
    expect(quoteInput("a\u0000b")).toBe('"a\\u0000b"');
  });
});

describe("day arithmetic", () => {
  it("counts days across month, year and daylight-saving boundaries", () => {
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
    expect(addDays("2027-03-27", 2)).toBe("2027-03-29");
    expect(isoWeekday("2026-09-01")).toBe(2);
    expect(isoWeekday("2026-09-06")).toBe(7);
  });

  it("lists every day of a range, both ends included", () => {
    expect([...eachDay("2028-02-28", "2028-03-01")]).toEqual([
      "2028-02-28",
      "2028-02-29",
      "2028-03-01",
    ]);
    expect([...eachDay("2026-09-02", "2026-09-01")]).toEqual([]);
  });
});

describe("civilDateIn", () => {
  it("takes the civil date in the school's zone, not UTC", () => {
    // 20:00 UTC on 31 August is already 1 September in Yekaterinburg (UTC+5).
    const instant = new Date("2026-08-31T20:00:00Z");
    expect(civilDateIn(instant, "Asia/Yekaterinburg")).toBe("2026-09-01");
    expect(civilDateIn(instant, "Europe/Kaliningrad")).toBe("2026-08-31");
  });

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

it("knows IANA zones", () => {
  expect(isTimeZone("Asia/Yekaterinburg")).toBe(true);
  expect(isTimeZone("Mars/Olympus")).toBe(false);
  expect(isTimeZone("")).toBe(false);
});
