import { describe, expect, it } from "vitest";
import { hasControlCharacter } from "./control-characters.js";

describe("hasControlCharacter", () => {
  it("finds NUL, other C0 and C1 characters and DEL; Cyrillic and spaces are text", () => {
    for (const c of ["\u0000", "\u0007", "\u001B", "\u007F", "\u0085", "\u009F"])
      expect(hasControlCharacter(`Иванов${c}`)).toBe(true);
    expect(hasControlCharacter("Иванов Иван Ё-ё № 5 «А»")).toBe(false);
  });

  it("allows tabs and line breaks only in multi-line text", () => {
    expect(hasControlCharacter("стр. 5\nупр. 3\t(устно)\r\n")).toBe(true);
    expect(hasControlCharacter("стр. 5\nупр. 3\t(устно)\r\n", true)).toBe(false);
    expect(hasControlCharacter("стр. 5\u0000", true)).toBe(true);
  });
});
