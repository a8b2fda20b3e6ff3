import { describe, expect, it } from "vitest";
import { requestStringFields } from "./request-fields.js";

describe("requestStringFields", () => {
  const request = {
    commandId: "c",
    marks: [{ studentId: "s1", comment: "a" }, { studentId: "s2" }],
    weight: 2,
    period: { firstDay: "2026-09-01" },
  };

  it("lists every string with its proto path and key", () => {
    expect(requestStringFields(request).map((f) => [f.path, f.key])).toEqual([
      ["command_id", "commandId"],
      ["marks[0].student_id", "studentId"],
      ["marks[0].comment", "comment"],
      ["marks[1].student_id", "studentId"],
      ["period.first_day", "firstDay"],
    ]);
  });

  it("sets one string in a copy and leaves the request as it was", () => {
    const field = requestStringFields(request).find((f) => f.path === "marks[1].student_id");
    const copy = field?.set(request, "x") as typeof request;
    expect(copy.marks[1]?.studentId).toBe("x");
    expect(copy.marks[0]).toBe(request.marks[0]);
    expect(request.marks[1]?.studentId).toBe("s2");
    expect(copy.weight).toBe(2);
  });
});
