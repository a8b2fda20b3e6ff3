import { describe, expect, it } from "vitest";
import { Wakeup } from "./wakeup.js";

const timed = async (p: Promise<void>) => {
  const t = performance.now();
  await p;
  return performance.now() - t;
};

describe("Wakeup", () => {
  it("ends a wait early on wake(), and otherwise after its time", async () => {
    const w = new Wakeup();
    const waiting = timed(w.wait(5000));
    setTimeout(() => w.wake(), 20);
    expect(await waiting).toBeLessThan(2000);
    expect(await timed(w.wait(30))).toBeGreaterThanOrEqual(25);
  });

  it("remembers a wake() while nobody waits, once", async () => {
    const w = new Wakeup();
    w.wake();
    w.wake();
    expect(await timed(w.wait(5000))).toBeLessThan(100);
    expect(await timed(w.wait(30))).toBeGreaterThanOrEqual(25);
  });

  it("ends a wait when its signal aborts", async () => {
    const w = new Wakeup();
    const stop = new AbortController();
    const waiting = timed(w.wait(5000, stop.signal));
    stop.abort();
    expect(await waiting).toBeLessThan(2000);
    expect(await timed(w.wait(5000, stop.signal))).toBeLessThan(100);
  });
});
