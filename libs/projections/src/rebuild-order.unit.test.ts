import { describe, expect, it } from "vitest";
import type { ProjectionEvent } from "./projection.js";
import type { BatchEntry } from "./projection-event.js";
import { interleaveByTime } from "./rebuild.js";

/** A source buffer of entries recorded at the given minutes (null: a message without an envelope). */
function source(name: string, minutes: (number | null)[], caughtUp = true) {
  const buffer: BatchEntry[] = minutes.map((m, i) => ({
    source: name,
    sequence: i + 1,
    event:
      m === null
        ? undefined
        : ({ time: new Date(Date.UTC(2026, 8, 1, 0, m)).toISOString() } as ProjectionEvent),
  }));
  return {
    buffer,
    caughtUp,
    take(n: number) {
      return buffer.splice(0, n);
    },
  };
}
const ids = (entries: BatchEntry[]) => entries.map((e) => `${e.source}${e.sequence}`);

describe("a rebuild batch interleaves its sources by recorded time", () => {
  it("as a live runner receives them, each source in sequence order, ties in source order", () => {
    const a = source("a", [1, 5, 9]);
    const b = source("b", [2, 5, 6, 20]);
    const c = source("c", [0, 30]);
    expect(ids(interleaveByTime([a, b, c], 100))).toEqual([
      "c1",
      "a1",
      "b1",
      "a2",
      "b2",
      "b3",
      "a3",
      "b4",
      "c2",
    ]);
    expect(a.buffer.length + b.buffer.length + c.buffer.length).toBe(0);
  });

  it("takes at most n and leaves the rest buffered in order", () => {
    const a = source("a", [1, 3, 5]);
    const b = source("b", [2, 4]);
    expect(ids(interleaveByTime([a, b], 3))).toEqual(["a1", "b1", "a2"]);
    expect(ids(interleaveByTime([a, b], 3))).toEqual(["b2", "a3"]);
  });

  it("stops at a source that has nothing buffered but is not caught up (its next may be earlier)", () => {
    const a = source("a", [1, 2, 3]);
    const b = source("b", [], false);
    expect(interleaveByTime([a, b], 10)).toEqual([]);
    expect(a.buffer).toHaveLength(3);
    const c = source("c", [0, 10], true);
    const d = source("d", [5], false);
    // d's buffered event goes; then d may have more before c's 10: wait.
    expect(ids(interleaveByTime([c, d], 10))).toEqual(["c1", "d1"]);
    expect(c.buffer).toHaveLength(1);
  });

  it("an entry without an event goes as soon as it heads its source", () => {
    const a = source("a", [5, null, 7]);
    const b = source("b", [6]);
    expect(ids(interleaveByTime([a, b], 10))).toEqual(["a1", "a2", "b1", "a3"]);
  });
});
