import { describe, expect, it } from "vitest";
import { averagesOf } from "./diary.js";

describe("a diary's averages", () => {
  it("show the weighted average to two places, half up: 169 / 40 is 4.23, not 4.22", () => {
    // Σw = 40, Σw·m = 169: nine 5s and 31 4s; 4.225, whose double is 4.22499….
    const marks = [
      ...Array.from({ length: 9 }, () => ({ subjectId: "MATH", term: 1, value: "5", weight: 1 })),
      ...Array.from({ length: 31 }, () => ({ subjectId: "MATH", term: 1, value: "4", weight: 1 })),
    ];
    expect(averagesOf(marks)).toEqual([
      { subjectId: "MATH", term: 1, weightedAverage: "4.23", roundedMark: 4 },
    ]);
  });
});
