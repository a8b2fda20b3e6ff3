import { performance } from "node:perf_hooks";

/** What a load run measured: completed operations per second and each one's latency (ms). */
export interface LoadResult {
  rate: number;
  latencies: number[];
}

/**
 * `clients` loops, each awaiting `op(client, k)` (its k-th call) again and again for `seconds`:
 * a closed-loop load, where the system's own speed sets the rate.
 */
export async function closedLoop(
  clients: number,
  seconds: number,
  op: (client: number, k: number) => Promise<unknown>,
): Promise<LoadResult> {
  const latencies: number[] = [];
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, w) => {
      for (let k = 0; performance.now() < deadline; k++) {
        const s = performance.now();
        await op(w, k);
        latencies.push(performance.now() - s);
      }
    }),
  );
  return { rate: latencies.length / ((performance.now() - t0) / 1000), latencies };
}
