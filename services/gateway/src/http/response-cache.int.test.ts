import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NoticeHub } from "../subscriptions/notices.js";
import { F } from "../test-support/fixture.js";
import { type GatewayHarness, startGatewayHarness } from "../test-support/harness.js";
import { dashboardOnly } from "./response-cache.js";

const DASH = `query D($s: ID!) { dashboard(scope: { schoolId: $s }, period: { term: 1, academicYear: ${F.year} }) {
  passRate { value } children { name passRate { value } } } }`;

describe("dashboard response cache", () => {
  let h: GatewayHarness;
  const notices = new NoticeHub();
  const t = {} as Record<"admin" | "admin2" | "muni" | "muniOther" | "teacher", string>;
  beforeAll(async () => {
    h = await startGatewayHarness({ notices, dashboardCacheMs: 60_000 });
    t.admin = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "a1");
    t.admin2 = await h.token([`SCHOOL_ADMIN@school:${F.s1}`], "a2");
    t.muni = await h.token([`MUNICIPAL_OFFICER@municipality:${F.m1}`], "mu1");
    t.muniOther = await h.token([`MUNICIPAL_OFFICER@municipality:${F.m2}`], "mu2");
    t.teacher = await h.token([`TEACHER@school:${F.s1}`], F.t1);
  });
  afterAll(() => h?.close());

  /** The answer and how many gRPC calls it cost. */
  const ask = async (token: string, vars: Record<string, unknown> = { s: F.s1 }) => {
    h.fakes.reset();
    const a = await h.query(token, DASH, vars);
    return { ...a, calls: h.fakes.totalCalls() };
  };

  it("answers a repeated dashboard from the cache, for every caller with the same grants", async () => {
    const first = await ask(t.admin);
    expect(first.body.errors).toBeUndefined();
    expect(first.calls).toBeGreaterThan(0);
    const again = await ask(t.admin);
    expect(again.calls).toBe(0);
    expect(again.text).toBe(first.text);
    // Another account with the same grants: the same viewer scope.
    expect((await ask(t.admin2)).calls).toBe(0);
    // Other variables, other grants: not that entry.
    expect((await ask(t.admin, { s: F.s2 })).body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect((await ask(t.muni)).calls).toBeGreaterThan(0);
  });

  it("never serves an entry to a caller whose grants do not reach it", async () => {
    await ask(t.admin);
    const other = await ask(t.muniOther);
    expect(other.body.data?.dashboard).toBeNull();
    expect(other.body.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN"]);
    // A refusal is not stored: asked again, the policies run again.
    expect((await ask(t.muniOther)).body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("is emptied by a dashboard notice, not by a journal notice", async () => {
    await ask(t.admin);
    notices.deliver({ kind: "journal", id: "x" });
    expect((await ask(t.admin)).calls).toBe(0);
    notices.deliver({ kind: "dashboard-school", id: F.s1 });
    expect((await ask(t.admin)).calls).toBeGreaterThan(0);
    expect((await ask(t.admin)).calls).toBe(0);
  });

  it("keeps a school's answer while another school's or municipality's dashboards change", async () => {
    await ask(t.admin);
    notices.deliver({ kind: "dashboard-school", id: F.s2 });
    notices.deliver({ kind: "dashboard-municipality", id: F.m2 });
    notices.deliver({ kind: "dashboard-class_group", id: "another-school's-class" });
    expect((await ask(t.admin)).calls).toBe(0);
    // A change in the school always comes with the school's own notice: the municipality's
    // and the region's name no scope of this answer.
    notices.deliver({ kind: "dashboard-municipality", id: F.m1 });
    notices.deliver({ kind: "dashboard-region", id: "region" });
    expect((await ask(t.admin)).calls).toBe(0);
    // One of its class groups (a child row of the answer) drops it.
    notices.deliver({ kind: "dashboard-class_group", id: F.c1 });
    expect((await ask(t.admin)).calls).toBeGreaterThan(0);
    expect((await ask(t.admin)).calls).toBe(0);
  });

  it("computes a cold dashboard once for concurrent askers", async () => {
    notices.deliver({ kind: "dashboard-school", id: F.s1 });
    const single = (await ask(t.admin)).calls;
    notices.deliver({ kind: "dashboard-school", id: F.s1 });
    h.fakes.reset();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => h.query(t.admin, DASH, { s: F.s1 })),
    );
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    expect(answers[0]?.body.errors).toBeUndefined();
    expect(h.fakes.totalCalls()).toBe(single);
  });

  it("does not cache teachers (their class groups follow curriculum, not the token)", async () => {
    const a = await ask(t.teacher);
    expect(a.body.errors).toBeUndefined();
    expect((await ask(t.teacher)).calls).toBeGreaterThan(0);
  });

  it("still authenticates every request", async () => {
    await ask(t.admin);
    const none = await h.query(undefined, DASH, { s: F.s1 });
    expect(none.status).toBe(401);
    const forged = await h.query(`${t.admin.slice(0, -4)}AAAA`, DASH, { s: F.s1 });
    expect(forged.status).toBe(401);
  });

  it("still counts cached answers against the rate limit", async () => {
    const limited = await startGatewayHarness({
      notices: new NoticeHub(),
      dashboardCacheMs: 60_000,
      limits: { depth: 10, cost: 5000, aliases: 15, tokens: 2000, perMinute: 3 },
    });
    try {
      const token = await limited.token([`SCHOOL_ADMIN@school:${F.s1}`], "a1");
      const codes: (string | undefined)[] = [];
      for (let i = 0; i < 4; i++) {
        const a = await limited.query(token, DASH, { s: F.s1 });
        codes.push(a.body.errors?.[0]?.extensions?.code);
      }
      expect(codes).toEqual([undefined, undefined, undefined, "RATE_LIMITED"]);
    } finally {
      await limited.close();
    }
  });
});

describe("dashboardOnly", () => {
  it("takes one query of dashboard fields only", () => {
    expect(dashboardOnly(DASH)).toBe(true);
    expect(dashboardOnly("{ __typename a: dashboard(scope: {}, period: {}) { asOf } }")).toBe(true);
    expect(dashboardOnly("{ me { accountId } dashboard(scope: {}, period: {}) { asOf } }")).toBe(
      false,
    );
    expect(dashboardOnly("{ ...F } fragment F on Query { dashboard { asOf } }")).toBe(false);
    expect(dashboardOnly("query A { dashboard { asOf } } query B { dashboard { asOf } }")).toBe(
      false,
    );
    expect(dashboardOnly("subscription { dashboardChanged { id } }")).toBe(false);
    expect(dashboardOnly("{ dashboard(")).toBe(false);
    expect(dashboardOnly(undefined)).toBe(false);
  });
});
