import { describe, expect, it } from "vitest";
import { Upcasters } from "./upcasters.js";

describe("upcasters", () => {
  const upcasters = new Upcasters()
    .register("MarkRecorded", 1, (d) => {
      const v1 = d as { value: number };
      return { mark: { scale: "FIVE_POINT", value: v1.value } };
    })
    .register("MarkRecorded", 2, (d) => ({ ...(d as object), weight: 1 }));

  it("chains steps up to the newest shape", () => {
    expect(upcasters.upcast("MarkRecorded", 1, { value: 5 })).toEqual({
      schemaVersion: 3,
      data: { mark: { scale: "FIVE_POINT", value: 5 }, weight: 1 },
    });
    expect(upcasters.upcast("MarkRecorded", 3, { already: true })).toEqual({
      schemaVersion: 3,
      data: { already: true },
    });
  });

  it("leaves types without upcasters alone", () => {
    expect(upcasters.upcast("Other", 1, { x: 1 })).toEqual({ schemaVersion: 1, data: { x: 1 } });
  });

  it("refuses a second upcaster for the same step and bad versions", () => {
    expect(() => upcasters.register("MarkRecorded", 1, (d) => d)).toThrow(/registered twice/);
    expect(() => new Upcasters().register("X", 0, (d) => d)).toThrow(/^fromSchemaVersion:/);
    expect(upcasters.size).toBe(2);
  });
});
