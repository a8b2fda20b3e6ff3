/*
 * The bench's grades gRPC server alone in a process, so `grades-cpu.ts` can read its CPU time
 * apart from the client's. Env: DATABASE_URL (the prepared bench database), JWKS_URL,
 * CPU_PROFILE_DIR (SIGUSR2 starts the V8 profiler, SIGTERM writes <dir>/grades-<pid>.cpuprofile:
 * only the measured window, not start-up). Prints `{"port":N}` once listening; SIGTERM stops it.
 */
import { constants, PerformanceObserver } from "node:perf_hooks";
import { writeHeapSnapshot } from "node:v8";
import pg from "pg";
import { processProfiler, promotedAllocations } from "./lib/process-profiler.js";

// Statements sent to PostgreSQL since the measurement started (SIGUSR2), reported at exit.
let statements = 0;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  statements++;
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof query;
// Garbage collection since the measurement started: all pauses, and the major (mark-compact)
// ones apart, whose cost grows with the live heap (the cached journals).
const gc = { ms: 0, majorMs: 0, majors: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.ms += e.duration;
    if (
      (e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR
    ) {
      gc.majorMs += e.duration;
      gc.majors++;
    }
  }
}).observe({ entryTypes: ["gc"] });
process.on("SIGUSR2", () => {
  // HEAP_SNAPSHOT_DIR: one heap snapshot 3 s into the measurement (what the load keeps alive).
  const snapshotDir = process.env.HEAP_SNAPSHOT_DIR;
  if (snapshotDir)
    setTimeout(() => writeHeapSnapshot(`${snapshotDir}/grades-${process.pid}.heapsnapshot`), 3000);
  statements = 0;
  Object.assign(gc, { ms: 0, majorMs: 0, majors: 0 });
});

const profiler = processProfiler(process.env.CPU_PROFILE_DIR, "grades", "SIGUSR2");
const heapProfiler = promotedAllocations(process.env.HEAP_PROFILE_DIR, "grades");

// GRADES_BENCH_MODULE: the same module from a copy of the packages' dists (an earlier build).
const { openGradesDatabase, startBenchServer } = (await import(
  process.env.GRADES_BENCH_MODULE ?? "@otmetka/grades/bench"
)) as typeof import("@otmetka/grades/bench");
const store = await openGradesDatabase(process.env.DATABASE_URL as string);
const server = await startBenchServer(store, process.env.JWKS_URL as string);
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
process.once("SIGTERM", () => {
  void (async () => {
    process.stdout.write(
      `${JSON.stringify({ statements, gc, heapMb: process.memoryUsage().heapUsed / 1e6 })}\n`,
    );
    await profiler.write();
    await heapProfiler.write();
    await server.shutdown().catch(() => {});
    await store.close().catch(() => {});
    process.exit(0);
  })();
});
