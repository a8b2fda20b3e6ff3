import { describe, expect, it } from "vitest";
import { DashboardCache } from "./dashboard-cache.js";

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
  it("does not store errors", () => {
    const c = new DashboardCache(60_000);
    c.set("k", { error: { code: "NOT_FOUND", message: "x" } } as never, c.begin());
    expect(c.get("k")).toBeUndefined();
  });
});
