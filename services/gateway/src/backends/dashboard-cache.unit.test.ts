import { Level } from "@otmetka/proto/reporting/v1/reporting_service";
import { describe, expect, it } from "vitest";
import { DashboardCache, noticeTag, queryTag } from "./dashboard-cache.js";

describe("DashboardCache", () => {
  const ok = { dashboard: { pupilCount: 2 } } as never;
  it("serves a stored answer until its TTL, then misses", () => {
    let t = 0;
    const c = new DashboardCache(1000, () => t);
    c.set("k", ok, c.begin());
    expect(c.get("k")).toBe(ok);
    t = 1000;
    expect(c.get("k")).toBeUndefined();
  });
  it("is emptied by a dashboard notice, not by others; an answer begun before it is dropped", () => {
    const c = new DashboardCache(60_000);
    c.set("k", ok, c.begin());
    c.onNotice({ kind: "journal", id: "j" });
    expect(c.get("k")).toBe(ok);
    const before = c.begin();
    c.onNotice({ kind: "dashboard-school", id: "s1" });
    expect(c.get("k")).toBeUndefined();
    c.set("k", ok, before);
    expect(c.get("k")).toBeUndefined();
  });
  it("drops only the entries of the scope a notice names; an untagged entry goes with any", () => {
    const c = new DashboardCache(60_000);
    c.set("s1", ok, c.begin(), ["school:s1"]);
    c.set("s2", ok, c.begin(), ["school:s2"]);
    c.set("m", ok, c.begin(), ["municipality:m1", "school:s1"]);
    c.set("any", ok, c.begin());
    c.onNotice({ kind: "dashboard-school", id: "s2" });
    expect([c.get("s1"), c.get("s2"), c.get("m"), c.get("any")]).toEqual([
      ok,
      undefined,
      ok,
      undefined,
    ]);
    c.onNotice({ kind: "dashboard-school", id: "s1" });
    expect([c.get("s1"), c.get("m")]).toEqual([undefined, undefined]);
  });
  it("does not store an answer begun before a notice of its scope, but does after another scope's", () => {
    const c = new DashboardCache(60_000);
    const before = c.begin();
    c.onNotice({ kind: "dashboard-school", id: "s2" });
    c.set("s1", ok, before, ["school:s1"]);
    expect(c.get("s1")).toBe(ok);
    expect(c.fresh(before, ["school:s1"])).toBe(true);
    expect(c.fresh(before, ["school:s2"])).toBe(false);
    // Unknown scopes: any notice since makes it stale.
    expect(c.fresh(before, null)).toBe(false);
    c.set("s2", ok, before, ["school:s2"]);
    c.set("any", ok, before);
    expect([c.get("s2"), c.get("any")]).toEqual([undefined, undefined]);
  });
  it("tags queries and notices alike; the region is one scope whatever its id", () => {
    const q = (level: Level, scopeId: string) => queryTag({ level, scopeId } as never);
    expect(q(Level.LEVEL_SCHOOL, "s1")).toBe(noticeTag({ kind: "dashboard-school", id: "s1" }));
    expect(q(Level.LEVEL_CLASS_GROUP, "c1")).toBe(
      noticeTag({ kind: "dashboard-class_group", id: "c1" }),
    );
    expect(q(Level.LEVEL_MUNICIPALITY, "m1")).toBe("municipality:m1");
    expect(q(Level.LEVEL_REGION, "")).toBe(noticeTag({ kind: "dashboard-region", id: "region" }));
    expect(q(Level.LEVEL_UNSPECIFIED, "x")).toBeUndefined();
    expect(noticeTag({ kind: "journal", id: "j" })).toBeUndefined();
  });
  it("does not store errors", () => {
    const c = new DashboardCache(60_000);
    c.set("k", { error: { code: "NOT_FOUND", message: "x" } } as never, c.begin());
    expect(c.get("k")).toBeUndefined();
  });
});
