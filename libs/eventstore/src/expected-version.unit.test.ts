import { describe, expect, it } from "vitest";
import {
  describeExpectedVersion,
  encodeExpectedVersion,
  satisfiesExpectedVersion,
} from "./expected-version.js";

describe("expected version", () => {
  it("encodes the kinds as the codes the SQL function knows", () => {
    expect(encodeExpectedVersion("any")).toBe(-1);
    expect(encodeExpectedVersion("no_stream")).toBe(-2);
    expect(encodeExpectedVersion("stream_exists")).toBe(-3);
    expect(encodeExpectedVersion(0)).toBe(0);
    expect(encodeExpectedVersion(17)).toBe(17);
  });

  it("refuses negative, fractional and unknown values, naming the field", () => {
    expect(() => encodeExpectedVersion(-1, "appends[0].expected")).toThrow(
      /^appends\[0\]\.expected:/,
    );
    expect(() => encodeExpectedVersion(1.5)).toThrow(/version >= 0/);
    expect(() => encodeExpectedVersion("latest" as never)).toThrow(/"any"/);
  });

  it("applies the same rule as the append function", () => {
    expect(satisfiesExpectedVersion("any", 7)).toBe(true);
    expect(satisfiesExpectedVersion("no_stream", 0)).toBe(true);
    expect(satisfiesExpectedVersion("no_stream", 1)).toBe(false);
    expect(satisfiesExpectedVersion("stream_exists", 0)).toBe(false);
    expect(satisfiesExpectedVersion("stream_exists", 3)).toBe(true);
    expect(satisfiesExpectedVersion(3, 3)).toBe(true);
    expect(satisfiesExpectedVersion(3, 4)).toBe(false);
    expect(describeExpectedVersion("no_stream")).toBe('"no_stream"');
    expect(describeExpectedVersion(4)).toBe("4");
  });
});
