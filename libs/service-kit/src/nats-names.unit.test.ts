import { describe, expect, it } from "vitest";
import { natsNames } from "./nats-names.js";

describe("natsNames", () => {
  it("prefixes streams, subjects, durables and buckets the one way libs/testing cleans up", () => {
    const n = natsNames("t0123abc");
    expect(n.stream("GRADES")).toBe("t0123abc_GRADES");
    expect(n.subject("grades.v1._._._.MarkRecorded")).toBe("t0123abc.grades.v1._._._.MarkRecorded");
    expect(n.subject("grades", "v1", "m1", "s1", "3", "MarkRecorded")).toBe(
      "t0123abc.grades.v1.m1.s1.3.MarkRecorded",
    );
    expect(n.durable("reporting-grades")).toBe("t0123abc_reporting-grades");
    expect(n.kvBucket("cursor")).toBe("t0123abc_cursor");
    expect(n.contextStream("grades")).toEqual({
      name: "t0123abc_GRADES",
      subjects: ["t0123abc.grades.>"],
    });
  });

  it("gives the plain names without a prefix", () => {
    for (const n of [natsNames(), natsNames("")]) {
      expect(n.prefix).toBeUndefined();
      expect(n.contextStream("demo")).toEqual({ name: "DEMO", subjects: ["demo.>"] });
      expect(n.durable("reporting-grades")).toBe("reporting-grades");
    }
  });

  it("refuses prefixes that would break names", () => {
    expect(() => natsNames("a.b")).toThrow(RangeError);
    expect(() => natsNames("a b")).toThrow(RangeError);
  });
});
