import { describe, expect, it } from "vitest";
import {
  eventSubject,
  fnv1a32,
  partitionFilter,
  partitionOf,
  streamIdOfKey,
  streamKey,
  subjectToken,
} from "./subjects.js";

describe("subjects", () => {
  it("hashes with FNV-1a, stable across runs (known vectors)", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
  });

  it("puts every event of a stream in one partition and spreads streams over all", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const p = partitionOf(`course-${i}`, 16);
      expect(p).toBe(partitionOf(`course-${i}`, 16));
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(16);
      seen.add(p);
    }
    expect(seen.size).toBe(16);
    expect(() => partitionOf("x", 0)).toThrow(/partitions must be an integer >= 1/);
  });

  it("builds subjects with a fixed number of tokens and `_` for missing ones", () => {
    expect(
      eventSubject("p.grades.v1", { partition: 7, type: "grades.v1.MarkRecorded", schoolId: "s1" }),
    ).toBe("p.grades.v1._.s1.7.MarkRecorded");
    expect(subjectToken("a.b*c>")).toBe("a-b-c-");
    expect(partitionFilter("p.grades.v1", 3)).toBe("p.grades.v1.*.*.3.*");
  });

  it("encodes stream ids as reversible single tokens", () => {
    const id = "course/2026.a b";
    expect(streamKey(id)).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(streamIdOfKey(streamKey(id))).toBe(id);
  });
});
