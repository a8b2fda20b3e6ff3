import { describe, expect, it } from "vitest";
import { isJournalOf, journalStreamId } from "./journal-stream.js";

describe("journal stream ids", () => {
  it("names a journal by its subgroup, else its class group, then subject and year", () => {
    const key = { classGroupId: "c1", subjectId: "MATH", startYear: 2026 };
    expect(journalStreamId(key)).toBe("journal-c1-MATH-2026");
    expect(journalStreamId({ ...key, subgroupId: "" })).toBe("journal-c1-MATH-2026");
    expect(journalStreamId({ ...key, subgroupId: "sg1" })).toBe("journal-sg1-MATH-2026");
  });

  it("matches exactly one subject of one owner, any year", () => {
    expect(isJournalOf("journal-c1-MATH-2026", "c1", "MATH")).toBe(true);
    expect(isJournalOf("journal-c1-MATH-2027", "c1", "MATH")).toBe(true);
    expect(isJournalOf("journal-c1-MATH-ADV-2026", "c1", "MATH")).toBe(false);
    expect(isJournalOf("journal-c12-MATH-2026", "c1", "MATH")).toBe(false);
    expect(isJournalOf("journal-c1-MATH-2026", "c1", "MATH-ADV")).toBe(false);
  });
});
