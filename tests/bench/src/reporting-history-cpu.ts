/**
 * A CPU-time view of reporting's rebuild, for a busy machine where wall-clock rates mislead:
 * the same synthetic history as bench:reporting-history, one raw ordered read and one
 * rebuild, each with the CPU seconds of this process and (for the rebuild) of the PostgreSQL
 * backends serving it (/proc/<pid>/stat, Linux only), plus the statements sent and the time
 * spent waiting for them by their first words.
 *   npx tsx src/reporting-history-cpu.ts            (knobs: BENCH_HISTORY_EVENTS, BENCH_RUNS)
 * With CPU_PROFILE=<file.cpuprofile> the rebuild alone (not the set-up) is profiled into that file.
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { performance } from "node:perf_hooks";
import { connect } from "@nats-io/transport-node";
import { messagingNames } from "@otmetka/messaging";
import { rebuildProjection } from "@otmetka/projections";
import {
  ensureSourceStreams,
  openReportingDatabase,
  publishFeed,
  reportingProjection,
  syntheticHistory,
} from "@otmetka/reporting/bench";
import type pg from "pg";
import { BenchScratch, knob, NATS_URL } from "./lib/bench-env.js";
import { processCpuMsOrZero, selfCpuSeconds } from "./lib/proc-cpu.js";
import { orderedReadRate } from "./reporting-history-read.js";

const EVENTS = knob("BENCH_HISTORY_EVENTS", 10_000);
const RUNS = knob("BENCH_RUNS", 1);
const PROFILE = process.env.CPU_PROFILE;

/** Profiles `work` with the inspector when CPU_PROFILE names a file. */
async function profiled<T>(work: () => Promise<T>): Promise<T> {
  if (!PROFILE) return work();
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  try {
    return await work();
  } finally {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(PROFILE, JSON.stringify(profile));
    session.disconnect();
  }
}

/** utime + stime of a process in seconds (0 when it is gone). */
const cpuOf = (pid: number) => processCpuMsOrZero(pid) / 1000;

/** The pool with every client query counted and timed by the statement's first words. */
function timingPool(p: pg.Pool, pids: Set<number>) {
  const stats = new Map<string, { n: number; ms: number }>();
  const note = (text: string, ms: number) => {
    const key = text.replace(/\s+/g, " ").trim().slice(0, 60);
    const s = stats.get(key) ?? { n: 0, ms: 0 };
    s.n++;
    s.ms += ms;
    stats.set(key, s);
  };
  const timed =
    (query: (...a: unknown[]) => Promise<unknown>) =>
    async (...a: unknown[]) => {
      const t = performance.now();
      try {
        return await query(...a);
      } finally {
        const text = typeof a[0] === "string" ? a[0] : String((a[0] as { text?: string }).text);
        note(text, performance.now() - t);
      }
    };
  const pool = new Proxy(p, {
    get(target, prop) {
      if (prop === "connect")
        return async () => {
          const c = await target.connect();
          const pid = (c as unknown as { processID?: number }).processID;
          if (pid) pids.add(pid);
          const query = timed(c.query.bind(c) as (...a: unknown[]) => Promise<unknown>);
          return new Proxy(c, {
            get(t, k) {
              if (k === "query") return query;
              const v = Reflect.get(t, k, t);
              return typeof v === "function" ? v.bind(t) : v;
            },
          });
        };
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  return { pool, stats };
}

async function main() {
  const scratch = new BenchScratch();
  const prefix = scratch.natsPrefix();
  const names = messagingNames(prefix);
  const nc = await connect({ servers: NATS_URL });
  const db = await scratch.database("bench_reporting_cpu");
  try {
    const raw = await openReportingDatabase(db.url);
    await ensureSourceStreams(nc, names);
    const h = syntheticHistory({ events: EVENTS });
    await publishFeed(nc, names, h.events, 500);
    const perSource: Record<string, number> = {};
    for (const e of h.events) perSource[e.context] = (perSource[e.context] ?? 0) + 1;
    for (let run = 0; run < RUNS; run++) {
      let c0 = selfCpuSeconds();
      let t0 = performance.now();
      await orderedReadRate(nc, names, perSource);
      const readCpu = selfCpuSeconds() - c0;
      const readWall = performance.now() - t0;

      const pids = new Set<number>();
      const { pool, stats } = timingPool(raw, pids);
      // Backends already open keep their CPU so far: only the growth counts.
      const before = new Map<number, number>();
      const idle = await Promise.all([raw.connect(), raw.connect()]);
      for (const c of idle) {
        const pid = (c as unknown as { processID: number }).processID;
        before.set(pid, cpuOf(pid));
        c.release();
      }
      c0 = selfCpuSeconds();
      t0 = performance.now();
      // When each phase was reached (ms from the start): set-up, batches, swap, done.
      const phases: string[] = [];
      const r = await profiled(() =>
        rebuildProjection({
          projection: reportingProjection,
          pool,
          nc,
          names,
          onProgress: (p) =>
            phases.push(`${p.phase} ${p.read} @${(performance.now() - t0).toFixed(0)}`),
        }),
      );
      const wall = performance.now() - t0;
      const nodeCpu = selfCpuSeconds() - c0;
      let pgCpu = 0;
      for (const pid of pids) pgCpu += cpuOf(pid) - (before.get(pid) ?? 0);
      const n = r.events;
      const statements = [...stats.values()].reduce((a, s) => a + s.n, 0);
      const waited = [...stats.values()].reduce((a, s) => a + s.ms, 0);
      console.log(
        `run ${run + 1}: ${n} events; raw read ${readCpu.toFixed(2)} s CPU (${Math.round(n / readCpu)} ev/CPU-s), ${readWall.toFixed(0)} ms wall`,
      );
      console.log(
        `  rebuild: node ${nodeCpu.toFixed(2)} s CPU (${Math.round(n / nodeCpu)} ev/CPU-s), postgres ${pgCpu.toFixed(2)} s CPU (${Math.round(n / pgCpu)} ev/CPU-s), both ${Math.round(n / (nodeCpu + pgCpu))} ev/CPU-s; ${wall.toFixed(0)} ms wall, ${r.batches} batches, ${statements} statements (${(statements / n).toFixed(3)} an event)`,
      );
      console.log(
        `  wall: ${r.applyMs} ms in batch transactions, ${waited.toFixed(0)} ms waiting for statements (DDL and swap included), ${r.decodeMs} ms decoding`,
      );
      console.log(`  phases (read @ms): ${phases.join(", ")}`);
      console.log(
        `  ratio by CPU: ${(readCpu / (nodeCpu + pgCpu)).toFixed(3)} (raw read CPU / rebuild CPU, node + postgres)`,
      );
      const top = [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15);
      for (const [k, s] of top)
        console.log(`    ${s.ms.toFixed(0).padStart(6)} ms ${String(s.n).padStart(5)}x  ${k}`);
    }
    await raw.end();
  } finally {
    await nc.close();
    await scratch.cleanup();
  }
}

await main();
