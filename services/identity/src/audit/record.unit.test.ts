import { describe, expect, it } from "vitest";
import { monthOf, monthOfPartition, monthStart, monthSuffix, oldestKeptMonth } from "./months.js";
import { decodeAuditRecord, InvalidAccessRecord, toAuditRecord } from "./record.js";
import { accessRecord } from "./test-support/records.js";

const now = new Date("2026-11-28T09:00:00Z");
const pupil = "0192a7c4-5b1e-7c3d-9f10-000000000001";

function refusal(run: () => unknown): InvalidAccessRecord {
  try {
    run();
  } catch (err) {
    if (err instanceof InvalidAccessRecord) return err;
    throw err;
  }
  throw new Error("expected an InvalidAccessRecord");
}

describe("access record validation", () => {
  it("normalises ids, drops repeated pupils and keeps an empty actor person as null", () => {
    const r = toAuditRecord(
      accessRecord([pupil.toUpperCase(), pupil], "2026-11-28T08:00:00Z", { actorPersonId: "" }),
      now,
    );
    expect(r.pupilIds).toEqual([pupil]);
    expect(r.actorPersonId).toBeNull();
  });

  it.each([
    [{ recordId: "x" }, "record_id"],
    [{ occurredAt: undefined }, "occurred_at"],
    [{ occurredAt: new Date("2026-11-30T09:00:01Z") }, "occurred_at"],
    [{ actorAccountId: "" }, "actor_account_id"],
    [{ actorPersonId: "nobody" }, "actor_person_id"],
    [{ actorRole: " " }, "actor_role"],
    [{ operation: "" }, "operation"],
    [{ operation: "a\tb" }, "operation"],
    [{ correlationId: "x".repeat(201) }, "correlation_id"],
    [{ pupilPersonIds: ["not-a-uuid"] }, "pupil_person_ids"],
  ])("refuses %o naming %s", (change, field) => {
    const err = refusal(() =>
      toAuditRecord(accessRecord([pupil], "2026-11-28T08:00:00Z", change), now),
    );
    expect(err.field).toBe(field);
  });

  it("refuses bytes that are not an AccessRecord", () => {
    expect(refusal(() => decodeAuditRecord(new Uint8Array([0xff, 0xff]), now)).field).toBe(
      "message",
    );
  });
});

describe("months", () => {
  it("maps instants to UTC months and partition names both ways", () => {
    const nov = monthOf(new Date("2026-11-30T23:59:59.999Z"));
    expect(monthOf(new Date("2026-12-01T00:00:00Z"))).toBe(nov + 1);
    expect(monthStart(nov).toISOString()).toBe("2026-11-01T00:00:00.000Z");
    expect(monthStart(nov + 2).toISOString()).toBe("2027-01-01T00:00:00.000Z");
    expect(monthSuffix(nov)).toBe("y2026m11");
    expect(monthOfPartition(`records_${monthSuffix(nov)}`)).toBe(nov);
    expect(monthOfPartition("records_default")).toBeUndefined();
    expect(oldestKeptMonth(now, 60)).toBe(monthOf(new Date("2021-11-15T00:00:00Z")));
  });
});
