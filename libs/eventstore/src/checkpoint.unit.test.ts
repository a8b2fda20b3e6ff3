import { describe, expect, it } from "vitest";
import { makeCheckpoint, parseCheckpoint, START } from "./checkpoint.js";
import { InvalidEventStoreArgument } from "./errors.js";

describe("checkpoint", () => {
  it("round-trips transaction id and position", () => {
    const cp = makeCheckpoint("18446744073709551615", 9_007_199_254_740_991);
    expect(parseCheckpoint(cp)).toEqual({
      transactionId: "18446744073709551615",
      position: 9_007_199_254_740_991,
    });
    expect(parseCheckpoint(START)).toEqual({ transactionId: "0", position: 0 });
  });

  it("refuses anything readAll did not produce, naming the field", () => {
    for (const bad of ["", "12", "a:1", "1:-1", "1:2:3", " 1:2", "1:99999999999999999"]) {
      expect(() => parseCheckpoint(bad, "after")).toThrow(InvalidEventStoreArgument);
    }
    expect(() => parseCheckpoint("x", "after")).toThrow(/^after: must be a checkpoint/);
  });
});
