import { describe, expect, it } from "vitest";
import { DomainError } from "./domain-error.js";
import { requestStringsChecker } from "./request-strings.js";

/** The refusal of `check(request)` as `{ kind, field, message }`, or undefined when it passes. */
function refusal(check: (r: unknown) => void, request: unknown) {
  try {
    check(request);
    return undefined;
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    return { kind: err.kind, field: err.field, message: err.message };
  }
}

const check = requestStringsChecker({ multiline: ["comment"], maxId: 10 });

describe("requestStringsChecker", () => {
  it("names the field of a nested or repeated string as the proto does, never the value", () => {
    const request = {
      commandId: "c1",
      journal: { classGroupId: "g1", academicYear: { startYear: 2026 } },
      marks: [
        { studentId: "s1", workType: "ORAL", comment: "" },
        { studentId: "s2", workType: "OR\u0000AL-secret", comment: "" },
      ],
    };
    expect(refusal(check, request)).toEqual({
      kind: "invalid_argument",
      field: "marks[1].work_type",
      message: "marks[1].work_type: must not contain control characters",
    });
    expect(refusal(check, { journal: { classGroupId: "g\u0085" } })?.field).toBe(
      "journal.class_group_id",
    );
    expect(refusal(check, { studentIds: ["a", "b\u0007"] })?.field).toBe("student_ids[1]");
  });

  it("refuses NUL, other C0, DEL and C1 everywhere; tabs and line breaks only in multi-line fields", () => {
    for (const c of ["\u0000", "\u0007", "\u001b", "\u007f", "\u0085", "\u009f"]) {
      expect(refusal(check, { comment: `a${c}b` })?.message).toBe(
        "comment: must not contain control characters other than line breaks and tabs",
      );
      expect(refusal(check, { workType: `a${c}b` })?.field).toBe("work_type");
    }
    for (const c of ["\n", "\t", "\r"]) {
      expect(refusal(check, { comment: `стр. 5${c}упр. 3` })).toBeUndefined();
      expect(refusal(check, { workType: `a${c}b` })?.field).toBe("work_type");
      expect(refusal(check, { commandId: `a${c}` })?.field).toBe("command_id");
    }
    // The key decides, wherever the field sits.
    expect(refusal(check, { items: [{ comment: "a\nb" }] })).toBeUndefined();
  });

  it("limits ids and the command id to maxId; other strings to maxText only when given", () => {
    expect(refusal(check, { commandId: "x".repeat(10), markId: "x".repeat(10) })).toBeUndefined();
    expect(refusal(check, { commandId: "x".repeat(11) })?.message).toBe(
      "command_id: must be at most 10 characters",
    );
    expect(refusal(check, { studentIds: ["x", "x".repeat(11)] })?.field).toBe("student_ids[1]");
    expect(refusal(check, { comment: "x".repeat(1000) })).toBeUndefined();
    const texts = requestStringsChecker({ multiline: [], maxId: 10, maxText: 20 });
    expect(refusal(texts, { name: "x".repeat(21) })?.message).toBe(
      "name: must be at most 20 characters",
    );
    expect(refusal(texts, { schoolId: "x".repeat(11) })?.field).toBe("school_id");
  });

  it("takes the service's own id keys", () => {
    const byIsId = requestStringsChecker({ multiline: [], maxId: 10, idKey: /(Id|Ids|By)$/ });
    expect(refusal(byIsId, { conductedBy: "x".repeat(11) })?.field).toBe("conducted_by");
    expect(refusal(check, { conductedBy: "x".repeat(11) })).toBeUndefined();
    expect(refusal(byIsId, { commandId: "x".repeat(11) })?.field).toBe("command_id");
  });

  it("with trimTexts, ignores white space around a text but never around an id", () => {
    const trimmed = requestStringsChecker({ multiline: [], maxId: 10, trimTexts: true });
    expect(refusal(trimmed, { topic: "\tДроби\n" })).toBeUndefined();
    expect(refusal(trimmed, { topic: "Дро\nби" })?.field).toBe("topic");
    expect(refusal(trimmed, { topic: "Дроби\u0000" })?.field).toBe("topic");
    expect(refusal(trimmed, { schoolId: "s1\n" })?.field).toBe("school_id");
    expect(refusal(trimmed, { commandId: "\tc1" })?.field).toBe("command_id");
    expect(refusal(check, { topic: "\tДроби\n" })?.field).toBe("topic");
  });

  it("passes numbers, booleans, enums and missing messages", () => {
    expect(
      refusal(check, { term: 1, closed: true, journal: undefined, subgroup: null, weights: [] }),
    ).toBeUndefined();
  });
});
