import { type Caller, parseRoleClaim } from "@otmetka/service-kit";
import { describe, expect, it } from "vitest";
import { requireRoleWhere } from "./authorize.js";

const REGION = "region-1";
const caller = (...claims: string[]): Caller => ({
  kind: "user",
  accountId: "a",
  grants: claims.map(parseRoleClaim),
  token: "",
});
const roles = ["SCHOOL_ADMIN", "PLATFORM_ADMIN"] as const;
const check = (c: Caller, where: Parameters<typeof requireRoleWhere>[2]) => () =>
  requireRoleWhere(c, roles, where, REGION);

describe("requireRoleWhere", () => {
  const adminA = caller("SCHOOL_ADMIN@school:A");

  it("passes a caller holding the role over every part, names each part missing", () => {
    const both = caller("SCHOOL_ADMIN@school:A", "SCHOOL_ADMIN@school:B");
    const where = { every: [[{ schoolId: "A" }], [{ schoolId: "B" }]] };
    expect(check(both, where)).not.toThrow();
    expect(check(adminA, where)).toThrow(/school B/);
    expect(check(caller("SCHOOL_ADMIN@school:C"), where)).toThrow(/each of school A, school B/);
  });

  it("refuses an empty 'every' unless the caller holds the region", () => {
    expect(check(adminA, { every: [] })).toThrow(/permission|PERMISSION|needs/i);
    expect(check(caller("PLATFORM_ADMIN"), { every: [] })).not.toThrow();
  });
});
