import { describe, expect, it } from "vitest";
import { parseInt8 } from "./int8.js";

describe("parseInt8", () => {
  it("parses pg's int8 strings into exact numbers", () => {
    expect(parseInt8("0", "x")).toBe(0);
    expect(parseInt8("9007199254740991", "x")).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseInt8(42, "x")).toBe(42);
  });

  it("fails loudly past Number.MAX_SAFE_INTEGER instead of rounding", () => {
    expect(() => parseInt8("9007199254740993", "events.position")).toThrow(
      /^events\.position: int8 value 9007199254740993 exceeds/,
    );
    expect(() => parseInt8("abc", "x")).toThrow(/exceeds/);
  });
});
