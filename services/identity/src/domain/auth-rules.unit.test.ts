import type { NewEvent, RecordedEvent } from "@otmetka/eventstore";
import { DomainError } from "@otmetka/service-kit";
import { describe, expect, it } from "vitest";
import { type AccountGrantsState, accountGrantsDecider } from "./account-grants.js";
import { type AccountStatusState, accountStatusDecider } from "./account-status.js";
import { decodeEvent, newEvent } from "./events.js";
import {
  afterFailure,
  afterSuccess,
  DEFAULT_LOCKOUT,
  isLocked,
  type LockoutState,
} from "./lockout.js";
import { requirePasswordPolicy, requireUsername } from "./password-policy.js";

const errorOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e as DomainError;
  }
  throw new Error("expected a refusal");
};

describe("password policy", () => {
  it("accepts 12+ characters that are neither the username nor common", () => {
    expect(requirePasswordPolicy("password", "Тихий-дом-у-реки", "ivanova")).toBe(
      "Тихий-дом-у-реки",
    );
  });
  it("names each rule it refuses", () => {
    const cases: [string, string, string][] = [
      ["elevenchars", "x", "password: must be at least 12 characters"],
      ["a".repeat(257), "x", "password: must be at most 256 characters"],
      ["Teacher.Petrova", "teacher.petrova", "password: must not be the username"],
      ["Qwerty123456", "x", "password: is a common password"],
    ];
    for (const [pw, user, message] of cases) {
      const err = errorOf(() => requirePasswordPolicy("password", pw, user));
      expect(err).toBeInstanceOf(DomainError);
      expect([err.kind, err.message, err.field]).toEqual(["invalid_argument", message, "password"]);
    }
  });
  it("counts code points, not UTF-16 units", () => {
    expect(errorOf(() => requirePasswordPolicy("p", "😀😀😀😀😀😀", "x")).message).toBe(
      "p: must be at least 12 characters",
    );
  });
  it("normalises usernames to lower case and refuses other characters", () => {
    expect(requireUsername("username", " Petrova.A ")).toBe("petrova.a");
    expect(errorOf(() => requireUsername("username", "петрова")).field).toBe("username");
    expect(errorOf(() => requireUsername("username", "ab")).field).toBe("username");
  });
});

describe("lockout back-off", () => {
  const t0 = new Date("2026-11-28T09:00:00Z");
  const fail = (s: LockoutState, n: number, at = t0) => {
    for (let i = 0; i < n; i++) s = afterFailure(DEFAULT_LOCKOUT, s, at);
    return s;
  };
  it("locks on the 5th consecutive failure for 1 min, doubling each lock, capped at 1 h", () => {
    let s = fail(afterSuccess(), 4);
    expect(isLocked(s, t0)).toBe(false);
    s = fail(s, 1);
    expect(s.lockedUntil).toEqual(new Date(t0.getTime() + 60_000));
    const minutes: number[] = [];
    for (let i = 0; i < 8; i++) {
      s = fail(s, 5);
      minutes.push((s.lockedUntil!.getTime() - t0.getTime()) / 60_000);
    }
    expect(minutes).toEqual([2, 4, 8, 16, 32, 60, 60, 60]);
  });
  it("unlocks when the time has passed; success forgets the history", () => {
    const s = fail(afterSuccess(), 5);
    expect(isLocked(s, new Date(t0.getTime() + 59_999))).toBe(true);
    expect(isLocked(s, new Date(t0.getTime() + 60_000))).toBe(false);
    expect(afterSuccess()).toEqual({ failedAttempts: 0, lockouts: 0, lockedUntil: null });
  });
});

describe("account grants decider", () => {
  const accountId = "0190e1b2-0000-7000-8000-000000000001";
  const school = "0190e1b2-0000-7000-8000-000000000002";
  const grant = { role: "TEACHER" as const, scope: { kind: "school" as const, id: school } };
  const routing = { schoolId: school, municipalityId: "0190e1b2-0000-7000-8000-000000000003" };
  const d = accountGrantsDecider;
  const apply = (state: AccountGrantsState, events: NewEvent[]) =>
    events.reduce((st, e) => d.evolve(st, e as RecordedEvent), state);
  it("grants once (a repeat is a no-op) and revokes only what is held", () => {
    const events = d.decide({ type: "GrantRole", accountId, grant, routing }, d.initialState());
    expect(events.map((e) => decodeEvent(e).value)).toEqual([
      { accountId, role: "TEACHER", scopeKind: "school", scopeId: school, ...routing },
    ]);
    const held = apply(d.initialState(), events);
    expect([...held.claims]).toEqual([`TEACHER@school:${school}`]);
    expect(d.decide({ type: "GrantRole", accountId, grant, routing }, held)).toEqual([]);
    const revoked = apply(held, d.decide({ type: "RevokeRole", accountId, grant, routing }, held));
    expect(revoked.claims.size).toBe(0);
    const err = errorOf(() => d.decide({ type: "RevokeRole", accountId, grant, routing }, revoked));
    expect([err.kind, err.field]).toEqual(["failed_precondition", "grant"]);
  });
  it("a deleted account gets no grant (a GrantRole that read the row before DeleteAccount)", () => {
    const deleted = apply(d.initialState(), [
      newEvent("AccountDeleted", { accountId, reason: "ошибка" }),
    ]);
    const err = errorOf(() => d.decide({ type: "GrantRole", accountId, grant, routing }, deleted));
    expect([err.kind, err.field]).toEqual(["failed_precondition", "account_id"]);
  });
});

describe("account status decider", () => {
  const accountId = "0190e1b2-0000-7000-8000-000000000001";
  const d = accountStatusDecider;
  const apply = (state: AccountStatusState, events: NewEvent[]) =>
    events.reduce((st, e) => d.evolve(st, e as RecordedEvent), state);
  it("disables and enables once; asking for the state already held writes nothing", () => {
    const disable = { type: "DisableAccount" as const, accountId, reason: "приказ № 1" };
    const enable = { type: "EnableAccount" as const, accountId };
    expect(d.decide(enable, d.initialState())).toEqual([]);
    const events = d.decide(disable, d.initialState());
    expect(events.map((e) => decodeEvent(e))).toEqual([
      { name: "AccountDisabled", value: { accountId, reason: "приказ № 1" } },
    ]);
    const off = apply(d.initialState(), events);
    expect(off.disabled).toBe(true);
    expect(d.decide(disable, off)).toEqual([]);
    const on = apply(off, d.decide(enable, off));
    expect(on.disabled).toBe(false);
  });
});
