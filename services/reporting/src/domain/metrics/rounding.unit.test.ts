import { describe, expect, it } from "vitest";
import { currentResult, weightedSumOf } from "./pupil-result.js";
import { roundedMark, roundedRatio, weightedAverage } from "./rounding.js";
import type { Entry, EntryValue } from "./values.js";

const e = (value: EntryValue, weight = 1): Entry => ({ value, weight });
const round = (entries: Entry[]) => roundedMark(weightedSumOf(entries));

describe("x.5 rounding of the weighted average", () => {
  it.each([
    [[e(4), e(5)], 5, 4.5],
    [[e(3), e(4)], 4, 3.5],
    [[e(2), e(3)], 3, 2.5],
    [[e(5, 3), e(3)], 5, 4.5], // (15 + 3) / 4
    [[e(5, 2), e(4), e(4, 2)], 4, 4.4], // 22 / 5
    [[e(4, 2), e(5, 1)], 4, 13 / 3],
    [[e(3, 1), e(4, 2), e(5, 1)], 4, 4],
    [[e(1), e(2)], 2, 1.5],
  ])("%j -> %i", (entries, mark, avg) => {
    expect(round(entries)).toBe(mark);
    expect(weightedAverage(weightedSumOf(entries))).toBeCloseTo(avg, 10);
  });

  it("weights change the result: a test (weight 3) outweighs two oral answers", () => {
    expect(round([e(5), e(5), e(3, 3)])).toBe(4); // 19/5 = 3.8
    expect(round([e(5), e(5), e(3)])).toBe(4); // 13/3 = 4.33
    expect(round([e(5, 3), e(3), e(3)])).toBe(4); // 21/5 = 4.2
  });

  it("ignores special entries and has no result without marks", () => {
    expect(round([e("PASS"), e("NOT_ATTESTED")])).toBeNull();
    expect(currentResult("FIVE_POINT", [e("PASS")])).toEqual({ kind: "NO_MARKS" });
    expect(currentResult("FIVE_POINT", [e("NOT_ATTESTED")])).toEqual({ kind: "NOT_ATTESTED" });
    expect(currentResult("FIVE_POINT", [e("NOT_ATTESTED"), e(3)])).toEqual({
      kind: "MARK",
      mark: 3,
    });
  });
});

describe("a ratio rounded half up to decimals, exactly", () => {
  it.each([
    [169, 40, 2, 1, 4.23], // 4.225: Math.round(422.49999…) / 100 gave 4.22
    [87, 40, 2, 1, 2.18], // 2.175
    [23, 40, 2, 1, 0.58], // 0.575
    [9, 4, 2, 1, 2.25],
    [1, 3, 2, 1, 0.33],
    [2, 3, 1, 100, 66.7], // a percent to one decimal
    [1, 8, 1, 100, 12.5],
    [1, 16, 1, 100, 6.3], // 6.25 % up
    [0, 7, 2, 1, 0],
  ])("%i / %i to %i places (× %i) = %d", (num, den, decimals, scale, expected) => {
    expect(roundedRatio(num, den, decimals, scale)).toBe(expected);
  });

  it("is null without a denominator; non-integers fall back to floating point", () => {
    expect(roundedRatio(3, 0, 2)).toBeNull();
    expect(roundedRatio(1.5, 1, 0)).toBe(2);
  });
});
