import { describe, expect, it } from "vitest";
import { type MarkFact, MarkTable } from "./mark-table.js";

const fact = (i: number, over: Partial<MarkFact> = {}): MarkFact => ({
  studentId: `pupil-${i % 25}`,
  lessonId: `lesson-${i % 100}`,
  lessonDate: `2026-09-${String(1 + (i % 28)).padStart(2, "0")}`,
  term: 1 + (i % 4),
  value: i % 2 ? "MARK_VALUE_FOUR" : "MARK_VALUE_FIVE",
  workType: i % 3 ? "ORAL" : "TEST",
  weight: i % 3 ? 1 : 2.5,
  revoked: false,
  ...over,
});

describe("MarkTable", () => {
  it("answers every mark as it was recorded, past the first growth of its columns", () => {
    const table = new MarkTable();
    const ids = Array.from({ length: 1000 }, (_, i) => `m${i}`);
    ids.forEach((id, i) => {
      table.add(id, fact(i));
    });
    expect(table.size).toBe(1000);
    expect([...table.keys()]).toEqual(ids);
    ids.forEach((id, i) => {
      expect(table.get(id)).toEqual(fact(i));
    });
    expect([...table.values()]).toEqual(ids.map((_, i) => fact(i)));
    expect([...table]).toEqual(ids.map((id, i) => [id, fact(i)]));
  });

  it("corrects and revokes in place; an unknown id changes nothing", () => {
    const table = MarkTable.from([
      ["a", fact(1)],
      ["b", fact(2)],
    ]);
    table.correct("a", "MARK_VALUE_PASS");
    table.revoke("b");
    table.correct("nope", "MARK_VALUE_ONE");
    table.revoke("nope");
    expect(table.get("a")).toEqual(fact(1, { value: "MARK_VALUE_PASS" }));
    expect(table.get("b")).toEqual(fact(2, { revoked: true }));
    expect(table.get("nope")).toBeUndefined();
    expect(table.has("nope")).toBe(false);
    expect(table.size).toBe(2);
  });

  it("hands out copies: changing one does not change the table", () => {
    const table = MarkTable.from([["a", fact(1)]]);
    const copy = table.get("a") as MarkFact;
    copy.value = "MARK_VALUE_ONE";
    copy.revoked = true;
    expect(table.get("a")).toEqual(fact(1));
  });

  it("a mark id recorded again keeps its place and takes the new facts", () => {
    const table = MarkTable.from([
      ["a", fact(1)],
      ["b", fact(2)],
    ]);
    table.add("a", fact(3, { revoked: true }));
    expect([...table.keys()]).toEqual(["a", "b"]);
    expect(table.get("a")).toEqual(fact(3, { revoked: true }));
  });
});
