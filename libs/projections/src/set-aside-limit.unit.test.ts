import { describe, expect, it } from "vitest";
import { InvalidProjectionDefinition } from "./errors.js";
import { defineProjection } from "./projection.js";
import { ProjectionRunner } from "./projection-runner.js";
import { DEFAULT_MAX_SET_ASIDE, setAsideLimit } from "./set-aside.js";
import { notesProjection } from "./test-support/notes-projection.js";

describe("maxSetAside", () => {
  it("is the option, else the projection's, else 20", () => {
    expect(DEFAULT_MAX_SET_ASIDE).toBe(20);
    expect(setAsideLimit(notesProjection("n"))).toBe(20);
    expect(setAsideLimit(notesProjection("n", { maxSetAside: 3 }))).toBe(3);
    expect(setAsideLimit(notesProjection("n", { maxSetAside: 3 }), 0)).toBe(0);
    expect(setAsideLimit(notesProjection("n"), 7)).toBe(7);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])(
    "%s is refused by name, in the projection and in the runner's options",
    (bad) => {
      const named = { field: "maxSetAside", rule: expect.stringContaining("integer >= 0") };
      expect(() => defineProjection({ ...notesProjection("n"), maxSetAside: bad })).toThrow(
        expect.objectContaining(named),
      );
      let thrown: unknown;
      try {
        // Refused in the constructor, before it touches the database or NATS.
        new ProjectionRunner({
          projection: notesProjection("n"),
          pool: undefined as never,
          nc: undefined as never,
          names: undefined as never,
          maxSetAside: bad,
        });
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(InvalidProjectionDefinition);
      expect(thrown).toMatchObject(named);
    },
  );
});
