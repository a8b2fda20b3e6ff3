import { describe, expect, it } from "vitest";
import { periodName } from "./period-name.js";

describe("periodName", () => {
  it("names a term by its kind, the year as the year", () => {
    expect(periodName(1, [{ kind: "TERM_KIND_QUARTER", terms: 4 }])).toBe("1 четверть");
    expect(periodName(2, [{ kind: "TERM_KIND_TRIMESTER", terms: 3 }])).toBe("2 триместр");
    expect(periodName(1, [{ kind: "TERM_KIND_HALF_YEAR", terms: 2 }])).toBe("1 полугодие");
    expect(periodName(0, [{ kind: "TERM_KIND_QUARTER", terms: 4 }])).toBe("учебный год");
  });

  it("without a kind, by the number of terms", () => {
    expect(periodName(3, [{ kind: "", terms: 4 }])).toBe("3 четверть");
    expect(periodName(3, [{ kind: "", terms: 3 }])).toBe("3 триместр");
    expect(periodName(2, [{ kind: "", terms: 2 }])).toBe("2 полугодие");
    expect(periodName(1, [{ kind: "", terms: 5 }])).toBe("1 период");
    expect(periodName(1, [])).toBe("1 период");
  });

  it("a school whose grade levels differ names each system once, quarters first", () => {
    expect(
      periodName(2, [
        { kind: "TERM_KIND_HALF_YEAR", terms: 2 },
        { kind: "TERM_KIND_QUARTER", terms: 4 },
        { kind: "TERM_KIND_QUARTER", terms: 4 },
      ]),
    ).toBe("2 четверть / 2 полугодие");
  });
});
