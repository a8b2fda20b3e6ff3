import { describe, expect, it } from "vitest";
import { ownerOf } from "./event-consumer.js";
import { attemptWithRetries } from "./handler-runner.js";

describe("attemptWithRetries", () => {
  it("stops at the first success", async () => {
    const seen: number[] = [];
    const r = await attemptWithRetries(
      async (a) => {
        seen.push(a);
        if (a < 2) throw new Error("flaky");
      },
      { maxDeliver: 5, backoffMs: [1] },
      new AbortController().signal,
    );
    expect(r).toEqual({ ok: true });
    expect(seen).toEqual([1, 2]);
  });

  it("gives up after maxDeliver attempts with the last error, waiting the backoff between", async () => {
    const began = Date.now();
    let keepAlives = 0;
    const r = await attemptWithRetries(
      async (a) => {
        throw new Error(`attempt ${a}`);
      },
      { maxDeliver: 3, backoffMs: [30, 60] },
      new AbortController().signal,
      () => keepAlives++,
    );
    expect(r).toMatchObject({ ok: false, attempts: 3 });
    expect(((r as { error: Error }).error as Error).message).toBe("attempt 3");
    expect(Date.now() - began).toBeGreaterThanOrEqual(85);
    expect(keepAlives).toBeGreaterThanOrEqual(2);
  });

  it("returns 'stopped' when aborted during a backoff", async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 20);
    const r = await attemptWithRetries(
      async () => {
        throw new Error("down");
      },
      { maxDeliver: 3, backoffMs: [5000] },
      stop.signal,
    );
    expect(r).toBe("stopped");
  });
});

describe("ownerOf (rendezvous)", () => {
  it("gives every partition to one member and spreads partitions over members", () => {
    const members = ["instance-a", "instance-b", "instance-c"];
    const counts = new Map<string, number>();
    for (let p = 0; p < 48; p++) {
      const o = ownerOf(p, members)!;
      expect(members).toContain(o);
      expect(ownerOf(p, [...members].reverse())).toBe(o);
      counts.set(o, (counts.get(o) ?? 0) + 1);
    }
    expect(counts.size).toBe(3);
  });

  it("moves only the leaving member's partitions", () => {
    const before = Array.from({ length: 16 }, (_, p) => ownerOf(p, ["a1", "b2", "c3"]));
    const after = Array.from({ length: 16 }, (_, p) => ownerOf(p, ["a1", "b2"]));
    for (let p = 0; p < 16; p++) if (before[p] !== "c3") expect(after[p]).toBe(before[p]);
  });
});
