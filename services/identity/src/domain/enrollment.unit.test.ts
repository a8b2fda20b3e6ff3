import { DomainError } from "@otmetka/service-kit";
import { describe, expect, it } from "vitest";
import {
  decideEnrollment,
  type EnrollmentPeriod,
  type EnrollmentTarget,
  evolveEnrollment,
} from "./enrollment.js";
import { decodeEvent } from "./events.js";

const target = (over: Partial<EnrollmentTarget> = {}): EnrollmentTarget => ({
  classGroupId: "g5a",
  schoolId: "s1",
  municipalityId: "m1",
  academicYear: 2026,
  gradeLevel: 5,
  classGroupClosed: false,
  schoolClosedOn: "",
  ...over,
});

function apply(
  periods: readonly EnrollmentPeriod[],
  command: Parameters<typeof decideEnrollment>[0],
) {
  return decideEnrollment(command, periods, "p1").reduce(
    (acc, e) => evolveEnrollment(acc, decodeEvent(e)),
    periods,
  );
}

function refusal(fn: () => unknown): { kind: string; field: string | undefined } {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return { kind: err.kind, field: err.field };
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("enrollment rules", () => {
  const enrolled = apply([], {
    type: "EnrollStudent",
    target: target(),
    effectiveDate: "2026-09-01",
  });

  it("records a history that follows the pupil through transfers and withdrawal", () => {
    const moved = apply(enrolled, {
      type: "TransferStudent",
      target: target({ classGroupId: "g5b", schoolId: "s2" }),
      effectiveDate: "2026-11-10",
    });
    const gone = apply(moved, { type: "WithdrawStudent", effectiveDate: "2027-03-01" });
    expect(gone).toEqual([
      {
        classGroupId: "g5a",
        schoolId: "s1",
        municipalityId: "m1",
        from: "2026-09-01",
        to: "2026-11-10",
      },
      {
        classGroupId: "g5b",
        schoolId: "s2",
        municipalityId: "m1",
        from: "2026-11-10",
        to: "2027-03-01",
      },
    ]);
    // Re-enrolling after the withdrawal is fine; before it, it would overlap.
    expect(
      apply(gone, { type: "EnrollStudent", target: target(), effectiveDate: "2027-03-01" }),
    ).toHaveLength(3);
    expect(
      refusal(() =>
        apply(gone, { type: "EnrollStudent", target: target(), effectiveDate: "2027-02-28" }),
      ),
    ).toEqual({ kind: "failed_precondition", field: "effective_date" });
  });

  it("refuses a second enrollment while one lasts", () => {
    expect(
      refusal(() =>
        apply(enrolled, {
          type: "EnrollStudent",
          target: target({ classGroupId: "g5b" }),
          effectiveDate: "2026-10-01",
        }),
      ),
    ).toEqual({ kind: "failed_precondition", field: "effective_date" });
  });

  it("refuses closed class groups, closed schools and dates outside the year", () => {
    expect(
      refusal(() =>
        apply([], {
          type: "EnrollStudent",
          target: target({ classGroupClosed: true }),
          effectiveDate: "2026-09-01",
        }),
      ),
    ).toEqual({ kind: "failed_precondition", field: "class_group_id" });
    expect(
      refusal(() =>
        apply(enrolled, {
          type: "TransferStudent",
          target: target({ classGroupId: "x", schoolClosedOn: "2026-10-01" }),
          effectiveDate: "2026-10-05",
        }),
      ),
    ).toEqual({ kind: "failed_precondition", field: "to_class_group_id" });
    expect(
      refusal(() =>
        apply([], { type: "EnrollStudent", target: target(), effectiveDate: "2027-09-01" }),
      ),
    ).toEqual({ kind: "failed_precondition", field: "effective_date" });
  });

  it("refuses transfers and withdrawals without a current enrollment or before it began", () => {
    expect(
      refusal(() => apply([], { type: "WithdrawStudent", effectiveDate: "2026-10-01" })),
    ).toEqual({ kind: "failed_precondition", field: "person_id" });
    expect(
      refusal(() => apply(enrolled, { type: "WithdrawStudent", effectiveDate: "2026-09-01" })),
    ).toEqual({ kind: "failed_precondition", field: "effective_date" });
    expect(
      refusal(() =>
        apply(enrolled, { type: "TransferStudent", target: target(), effectiveDate: "2026-10-01" }),
      ),
    ).toEqual({ kind: "failed_precondition", field: "to_class_group_id" });
  });
});
