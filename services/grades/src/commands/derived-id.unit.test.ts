import { describe, expect, it } from "vitest";
import { derivedId } from "./derived-id.js";

describe("derivedId", () => {
  it("stays what earlier versions derived, so a retry after an upgrade names the same mark", () => {
    expect(derivedId("cmd-1", "mark:0")).toBe("43e695f3-417f-8159-a84a-d01803e9b301");
  });

  it("differs per command and per part of it", () => {
    const ids = new Set([
      derivedId("cmd-1", "mark:0"),
      derivedId("cmd-1", "mark:1"),
      derivedId("cmd-2", "mark:0"),
    ]);
    expect(ids.size).toBe(3);
  });
});
