/**
 * Where the lag of bench:reporting goes: the lag scenario (MarkRecorded appended at RATE/s,
 * the outbox relay, reporting's live runner) with a timestamp per event at each hop —
 *   commit (append resolved) → read (the relay's readAll returned it) → publish (seen by a
 *   plain subscription) → queued (in the runner's queue) → batch start → batch commit →
 *   notice — and per segment p50 / p99 / max, plus the batches (size, duration) and the CPU
 *   of this process and of PostgreSQL's backends over the run. The projection runs in this
 *   process (as bench:reporting's BENCH_REPORTING_RUNNER=inline), so that its queue and batches
 *   can be timed.
 * Knobs: BENCH_RUNS (1), BENCH_LAG_SECONDS (10), BENCH_LAG_RATE (500), plus the runner's
 * BENCH_MAX_BATCH / BENCH_LINGER_MS (maxBatch, lingerMs), BENCH_PROJECTIONS (another build's
 * dist/index.js of @otmetka/projections), DATABASE_URL, NATS_URL.
 * Before/after in the same conditions: copy a build's libs/projections/dist aside (under a
 * node_modules directory, so that its imports resolve) and alternate runs with
 * BENCH_PROJECTIONS=<copy>/index.js and without.
 *   nice -n 19 npx tsx src/reporting-lag-trace.ts
 */
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { EventStore } from "@otmetka/eventstore";
import type { ChangeNotice } from "@otmetka/projections";
import { reportingProjection } from "@otmetka/reporting/bench";
import pg from "pg";
import { ADMIN_URL, knob, NATS_URL } from "./lib/bench-env.js";
import { atFixedRate } from "./lib/fixed-rate.js";
import { processCpuMsOrZero, selfCpuMs } from "./lib/proc-cpu.js";
import { markRecorded, openLagScenario, startGradesRelay } from "./lib/reporting-marks.js";
import { lingerOption } from "./lib/reporting-runner-launch.js";
import { nearestRank } from "./lib/stats.js";

const RUNS = knob("BENCH_RUNS", 1);
const SECONDS = knob("BENCH_LAG_SECONDS", 10);
const RATE = knob("BENCH_LAG_RATE", 500);
// Another build's runner (e.g. a copy of an earlier dist/index.js) to compare in the same conditions.
const { ProjectionRunner } = (await import(
  process.env.BENCH_PROJECTIONS ?? "@otmetka/projections"
)) as typeof import("@otmetka/projections");
const HOPS = ["commit", "read", "publish", "queued", "start", "committed", "notice"] as const;
type Hop = (typeof HOPS)[number];

/** CPU ms of the PostgreSQL backends serving the given databases, by pid. */
async function backendCpu(admin: pg.Pool, databases: string[]): Promise<Map<number, number>> {
  const { rows } = await admin.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE datname = ANY($1::text[])",
    [databases],
  );
  return new Map(rows.map((r) => [r.pid, processCpuMsOrZero(r.pid)]));
}

async function run(nc: NatsConnection, n: number): Promise<void> {
  const scenario = await openLagScenario(nc, {
    grades: `bench_trace_g${n}`,
    reporting: `bench_trace_r${n}`,
  });
  const { names, gradesDb, reportingDb, store, pool } = scenario;
  const times = new Map<string, Partial<Record<Hop, number>>>();
  const mark = (id: string, hop: Hop) => {
    const t = times.get(id) ?? {};
    times.set(id, t);
    t[hop] ??= performance.now();
  };
  const timedLog = {
    readAll: async (after: Parameters<EventStore["readAll"]>[0], limit: number) => {
      const page = await store.readAll(after, limit);
      for (const e of page.events) mark(e.streamId, "read");
      return page;
    },
  };
  const relay = startGradesRelay(nc, names, timedLog, gradesDb.url);
  const relayed = nc.subscribe(`${names.eventRoot("grades")}.>`, {
    callback: (_e, m) => {
      const id = m.json<{ journal?: { journalId?: string } }>().journal?.journalId;
      if (id !== undefined) mark(id, "publish");
    },
  });
  const noticed = nc.subscribe(`${names.eventRoot("reporting")}.changed.journal.>`, {
    callback: (_e, m) => mark(m.json<ChangeNotice>().id, "notice"),
  });
  const maxBatch = process.env.BENCH_MAX_BATCH ? Number(process.env.BENCH_MAX_BATCH) : undefined;
  const runner = new ProjectionRunner({
    projection: reportingProjection,
    pool,
    nc,
    names,
    maxBatch,
    ...lingerOption(),
  } as ConstructorParameters<typeof ProjectionRunner>[0]);
  // Internals patched for timestamps only (this is a measuring tool, not a test).
  const r = runner as unknown as {
    queue: { entry: { event?: { streamId: string } } }[];
    process(batch: { entry: { event?: { streamId: string } } }[]): Promise<void>;
  };
  const batches: { size: number; ms: number }[] = [];
  const process0 = r.process.bind(runner);
  r.process = async (batch) => {
    const t0 = performance.now();
    for (const q of batch) if (q.entry.event) mark(q.entry.event.streamId, "start");
    await process0(batch);
    batches.push({ size: batch.length, ms: performance.now() - t0 });
    for (const q of batch) if (q.entry.event) mark(q.entry.event.streamId, "committed");
  };
  await runner.start();
  const patchQueue = () => {
    const q = r.queue;
    if ((q as { patched?: boolean }).patched) return;
    const push = q.push.bind(q);
    q.push = (...items) => {
      for (const i of items) if (i.entry.event) mark(i.entry.event.streamId, "queued");
      return push(...items);
    };
    (q as { patched?: boolean }).patched = true;
  };
  patchQueue();
  // The queue array is replaced when sessions restart: patched again before each batch.
  const patched = r.process;
  r.process = (batch) => {
    patchQueue();
    return patched(batch);
  };
  const total = RATE * SECONDS;
  const admin = new pg.Pool({ connectionString: ADMIN_URL, max: 1 });
  const dbNames = [gradesDb, reportingDb].map((d) => new URL(d.url).pathname.slice(1));
  const pg0 = await backendCpu(admin, dbNames);
  const cpu0 = { self: selfCpuMs() };
  try {
    await atFixedRate(RATE, total, async (i) => {
      const journalId = `j-${n}-${i}`;
      await store.append(journalId, "no_stream", [
        { type: "grades.v1.MarkRecorded", data: markRecorded(i, journalId) },
      ]);
      mark(journalId, "commit");
    });
    const deadline = Date.now() + 60_000;
    const done = () => [...times.values()].filter((t) => t.notice !== undefined).length;
    while (done() < total && Date.now() < deadline) await sleep(50);
    const pg1 = await backendCpu(admin, dbNames);
    const cpu = {
      self: selfCpuMs() - cpu0.self,
      pg: [...pg1].reduce((sum, [pid, ms]) => sum + ms - (pg0.get(pid) ?? 0), 0),
    };
    const rows = [...times.values()];
    const line = (label: string, values: number[]) =>
      `${label.padEnd(22)} p50 ${nearestRank(values, 0.5).toFixed(1).padStart(7)}  p90 ${nearestRank(values, 0.9).toFixed(1).padStart(7)}  p99 ${nearestRank(values, 0.99).toFixed(1).padStart(7)}  max ${Math.max(
        ...values,
      )
        .toFixed(1)
        .padStart(7)}`;
    const out: string[] = [`run ${n + 1}: ${done()} of ${total} noticed`];
    for (let i = 1; i < HOPS.length; i++) {
      const a = HOPS[i - 1] as Hop;
      const b = HOPS[i] as Hop;
      out.push(
        line(
          `${a} → ${b}`,
          rows.filter((t) => t[a] !== undefined && t[b] !== undefined).map((t) => t[b]! - t[a]!),
        ),
      );
    }
    out.push(
      line(
        "commit → notice",
        rows.filter((t) => t.commit && t.notice).map((t) => t.notice! - t.commit!),
      ),
    );
    out.push(
      line(
        "publish → notice",
        rows.filter((t) => t.publish && t.notice).map((t) => t.notice! - t.publish!),
      ),
    );
    out.push(
      line(
        "batch size",
        batches.map((b) => b.size),
      ),
    );
    out.push(
      line(
        "batch ms",
        batches.map((b) => b.ms),
      ),
    );
    out.push(
      `batches ${batches.length}; CPU ms an event: bench process ${(cpu.self / total).toFixed(2)}, its postgres backends ${(cpu.pg / total).toFixed(2)}; load ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`,
    );
    console.log(out.join("\n"));
  } finally {
    await admin.end();
    noticed.unsubscribe();
    relayed.unsubscribe();
    await runner.stop();
    await relay.stop();
    await scenario.close();
  }
}

const nc = await connect({ servers: NATS_URL });
try {
  for (let n = 0; n < RUNS; n++) await run(nc, n);
} finally {
  await nc.close();
}
