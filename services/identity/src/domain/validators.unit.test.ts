import { DomainError, fixedClock } from "@otmetka/service-kit";
import { describe, expect, it } from "vitest";
import {
  isValidInn,
  isValidOgrn,
  isValidSnils,
  requireBirthDate,
  requireCivilDate,
  requireCommandId,
  requireName,
  requireSnils,
  requireTimeZone,
} from "./validators.js";

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError && err.kind === "invalid_argument") return err.field;
    throw err;
  }
  return undefined;
}

describe("INN", () => {
  it("accepts published 10- and 12-digit INNs", () => {
    expect(isValidInn("7707083893")).toBe(true); // Sberbank
    expect(isValidInn("7736050003")).toBe(true); // Gazprom
    expect(isValidInn("500100732259")).toBe(true);
  });
  it("refuses a changed check digit, wrong lengths and non-digits", () => {
    expect(isValidInn("7707083894")).toBe(false);
    expect(isValidInn("500100732258")).toBe(false);
    expect(isValidInn("500100732249")).toBe(false);
    expect(isValidInn("770708389")).toBe(false);
    expect(isValidInn("77070838a3")).toBe(false);
  });
});

describe("OGRN", () => {
  it("accepts a published OGRN and refuses a changed one", () => {
    expect(isValidOgrn("1027700132195")).toBe(true); // Sberbank
    expect(isValidOgrn("1027700132196")).toBe(false);
    expect(isValidOgrn("102770013219")).toBe(false);
  });
});

describe("SNILS", () => {
  it("accepts valid checksums, including sums of 100 and above", () => {
    expect(isValidSnils("11223344595")).toBe(true); // sum 95
    expect(isValidSnils("08765430300")).toBe(true); // sum 202 -> 202 mod 101 = 0 -> "00"
  });
  it("refuses a wrong checksum", () => {
    expect(isValidSnils("11223344596")).toBe(false);
    expect(isValidSnils("1122334459")).toBe(false);
  });
  it("strips separators and names the field", () => {
    expect(requireSnils("snils", "112-233-445 95")).toBe("11223344595");
    expect(fieldOf(() => requireSnils("personal_data.snils", "112-233-445 96"))).toBe(
      "personal_data.snils",
    );
  });
});

describe("names, dates, zones", () => {
  it("refuses empty names and squeezes spaces", () => {
    expect(fieldOf(() => requireName("name", "   "))).toBe("name");
    expect(requireName("name", "  Иванов   Пётр ")).toBe("Иванов Пётр");
  });
  it("refuses NUL and other control characters in names and command ids", () => {
    expect(fieldOf(() => requireName("name", "Лицей\u0000 31"))).toBe("name");
    expect(fieldOf(() => requireName("address", "ул. Ленина\u0007, 1"))).toBe("address");
    expect(fieldOf(() => requireName("name", "Лицей\u009b31"))).toBe("name");
    expect(requireName("name", "Лицей\n\t31")).toBe("Лицей 31");
    expect(fieldOf(() => requireCommandId("c\u0000"))).toBe("command_id");
  });
  it("refuses impossible dates", () => {
    expect(fieldOf(() => requireCivilDate("d", "2026-02-30"))).toBe("d");
    expect(requireCivilDate("d", "2024-02-29")).toBe("2024-02-29");
  });
  it("refuses a birth date after today in the school's zone", () => {
    // 20:00 UTC on 28 Nov is already 29 Nov in Yekaterinburg (UTC+5).
    const clock = fixedClock("2026-11-28T20:00:00Z");
    expect(requireBirthDate("b", "2026-11-29", clock, "Asia/Yekaterinburg")).toBe("2026-11-29");
    expect(fieldOf(() => requireBirthDate("b", "2026-11-29", clock, "Europe/London"))).toBe("b");
    expect(fieldOf(() => requireBirthDate("b", "2026-11-30", clock, "Asia/Yekaterinburg"))).toBe(
      "b",
    );
  });
  it("defaults the zone to Asia/Yekaterinburg and refuses unknown ones", () => {
    expect(requireTimeZone("time_zone", "")).toBe("Asia/Yekaterinburg");
    expect(requireTimeZone("time_zone", "Europe/Moscow")).toBe("Europe/Moscow");
    expect(fieldOf(() => requireTimeZone("time_zone", "Mars/Olympus"))).toBe("time_zone");
    expect(fieldOf(() => requireTimeZone("time_zone", "+05:00"))).toBe("time_zone");
  });
});
