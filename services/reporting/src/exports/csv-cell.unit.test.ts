import { describe, expect, it } from "vitest";
import { csvCell } from "./csv-cell.js";

describe("csvCell", () => {
  it("prefixes text that a spreadsheet would read as a formula with an apostrophe", () => {
    for (const text of ["=1+2", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"])
      expect(csvCell(text)).toBe(`'${text}`);
  });

  it("leaves other text, numbers (negative ones too) and empty cells as they are", () => {
    for (const value of ["Итого", "a=b", " =1", "", -1.5, 0, null, undefined])
      expect(csvCell(value)).toBe(value);
  });
});
