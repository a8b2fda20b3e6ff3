import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Starts `op(i, due)` for i = 0 … total-1 at `perSecond`, each at its scheduled time `due`
 * (performance.now() clock) whether or not earlier ones have finished — an open-loop load, so
 * a slow system is measured late instead of being offered less — and resolves when all have.
 */
export async function atFixedRate(
  perSecond: number,
  total: number,
  op: (i: number, due: number) => Promise<unknown>,
): Promise<void> {
  const began = performance.now();
  const inflight: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) {
    const due = began + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    inflight.push(op(i, due));
  }
  await Promise.all(inflight);
}
