import { describe, expect, it } from "vitest";
import { type Caller, hasRole, requireRole } from "./caller.js";
import { formatRoleClaim, parseRoleClaim } from "./roles.js";

const caller = (...roles: string[]): Caller => ({
  kind: "user",
  accountId: "a-1",
  grants: roles.map(parseRoleClaim),
  token: "t",
});

describe("role claims", () => {
  it("round-trips scoped and unscoped roles", () => {
    for (const claim of ["TEACHER@school:s-1", "MUNICIPAL_OFFICER@municipality:m-1", "GUARDIAN"]) {
      expect(formatRoleClaim(parseRoleClaim(claim))).toBe(claim);
    }
    expect(parseRoleClaim("MINISTRY_OFFICER@region:74")).toEqual({
      role: "MINISTRY_OFFICER",
      scope: { kind: "region", id: "74" },
    });
  });

  it.each([
    ["JANITOR@school:s-1", /unknown role "JANITOR"/],
    ["TEACHER", /TEACHER needs a school scope/],
    ["TEACHER@region:74", /is not TEACHER@school:<id>/],
    ["TEACHER@school:", /is not TEACHER@school:<id>/],
    ["GUARDIAN@school:s-1", /is not GUARDIAN/],
  ])("refuses %s", (claim, message) => {
    expect(() => parseRoleClaim(claim)).toThrow(message);
  });
});

describe("scope checks", () => {
  it("a school grant covers that school only", () => {
    const t = caller("TEACHER@school:A");
    expect(hasRole(t, "TEACHER", { schoolId: "A" })).toBe(true);
    expect(hasRole(t, "TEACHER", { schoolId: "B" })).toBe(false);
    expect(hasRole(t, "SCHOOL_ADMIN", { schoolId: "A" })).toBe(false);
    expect(hasRole(t, "TEACHER")).toBe(false);
  });

  it("a municipality or region grant covers targets at its level", () => {
    const m = caller("MUNICIPAL_OFFICER@municipality:M", "MINISTRY_OFFICER@region:74");
    expect(hasRole(m, "MUNICIPAL_OFFICER", { schoolId: "A", municipalityId: "M" })).toBe(true);
    expect(hasRole(m, "MUNICIPAL_OFFICER", { schoolId: "A", municipalityId: "N" })).toBe(false);
    expect(hasRole(m, "MINISTRY_OFFICER", { regionId: "74" })).toBe(true);
    expect(hasRole(m, "MINISTRY_OFFICER", { regionId: "66" })).toBe(false);
  });

  it("platform admins and services pass any check that lists them", () => {
    expect(hasRole(caller("PLATFORM_ADMIN"), "PLATFORM_ADMIN", { schoolId: "Z" })).toBe(true);
    expect(() =>
      requireRole(caller("SERVICE"), ["SCHOOL_ADMIN", "SERVICE"], { schoolId: "Z" }),
    ).not.toThrow();
  });

  it("refuses with permission_denied naming the roles and the target", () => {
    let thrown: unknown;
    try {
      requireRole(caller("TEACHER@school:A"), ["SCHOOL_ADMIN", "PLATFORM_ADMIN"], {
        schoolId: "B",
      });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({
      kind: "permission_denied",
      message: "caller: needs SCHOOL_ADMIN or PLATFORM_ADMIN for school B",
    });
  });
});
