import { describe, expect, it } from "vitest";
import { fileNameSegment } from "./file-name.js";

describe("fileNameSegment", () => {
  it("keeps ids of letters, digits, dot, dash and underscore as they are", () => {
    for (const id of ["74", "1f0c2d4e-8d3b-4a8e-9c57-0b1d2e3f4a5b", "mun_01.a"])
      expect(fileNameSegment(id)).toBe(id);
  });

  it("replaces anything else, bounds the length and tells altered ids apart by a hash", () => {
    const a = fileNameSegment('x"/\r\nЧелябинск');
    expect(a).toMatch(/^x_[0-9a-f]{8}$/);
    expect(fileNameSegment('x"/\r\nМиасс')).not.toBe(a);
    expect(fileNameSegment("y".repeat(500))).toMatch(/^y{64}_[0-9a-f]{8}$/);
    expect(fileNameSegment("")).toMatch(/^_[0-9a-f]{8}$/);
  });
});
