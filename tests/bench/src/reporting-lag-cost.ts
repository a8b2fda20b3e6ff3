/**
 * The cost of reporting's live batches in the lag scenario of bench:reporting, in units a busy
 * machine does not distort: the bench's MarkRecorded events applied straight through
 * applyBatch (no NATS, no relay) in batches of a fixed size, and per event
 *  - the statements the batch sends (applyBatch's included),
 *  - the rows inserted and updated per table (pg_stat_user_tables before and after),
 *  - CPU ms of this process inside applyBatch and of the PostgreSQL backend serving it
 *    (/proc/<pid>/stat, Linux, 10 ms ticks summed over the batches).
 * Batch sizes: 15 (what the live runner cuts at 500 events/s when it keeps up) and 150 (once
 * behind). Knobs: BENCH_WARMUP (1000 events), BENCH_EVENTS (3000 a size), DATABASE_URL,
 * BENCH_REPORTING (another build's bench entry, e.g. an earlier commit's dist/bench/index.js,
 * to compare before and after in the same conditions), BENCH_REPORTING_B (a second build whose
 * batches alternate with the first's on the same tables, each build's figures apart: on a busy
 * machine only such side-by-side figures compare).
 *   npx tsx src/reporting-lag-cost.ts       (wall times are printed for information only)
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { applyBatch, type BatchEntry, ensureLiveSchema } from "@otmetka/projections";
import type { reportingProjection as Projection } from "@otmetka/reporting/bench";
import pg from "pg";
import { BenchScratch, knob } from "./lib/bench-env.js";
import { processCpuMs, selfCpuMs } from "./lib/proc-cpu.js";
import { markRecorded } from "./lib/reporting-marks.js";

const WARMUP = knob("BENCH_WARMUP", 1000);
const EVENTS = knob("BENCH_EVENTS", 3000);
const SIZES = [15, 150];
const buildEntries = [
  process.env.BENCH_REPORTING ?? "@otmetka/reporting/bench",
  ...(process.env.BENCH_REPORTING_B ? [process.env.BENCH_REPORTING_B] : []),
];
const builds = await Promise.all(
  buildEntries.map(
    async (entry) =>
      ((await import(entry)) as { reportingProjection: typeof Projection }).reportingProjection,
  ),
);
const reportingProjection = builds[0]!;

let sequence = 0;
function entries(n: number): BatchEntry[] {
  return Array.from({ length: n }, () => {
    const i = ++sequence;
    const journalId = `j-${i}`;
    return {
      source: "grades",
      sequence: i,
      event: {
        eventId: randomUUID(),
        type: "grades.v1.MarkRecorded",
        source: "grades",
        streamId: journalId,
        version: 1,
        schemaVersion: 1,
        position: i,
        checkpoint: String(i),
        time: new Date().toISOString(),
        subject: "bench.grades.v1.MarkRecorded",
        context: "grades",
        sequence: i,
        wasPending: false,
        data: markRecorded(i, journalId),
      },
    };
  });
}

interface Totals {
  events: number;
  statements: number;
  nodeMs: number;
  pgMs: number;
  wallMs: number;
  rows: Map<string, number>;
}

async function main(): Promise<void> {
  const scratch = new BenchScratch();
  const db = await scratch.database("bench_rep_lagcost");
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  try {
    const schema = await ensureLiveSchema(pool, reportingProjection);
    const client = await pool.connect();
    const pid = Number((await client.query("SELECT pg_backend_pid() AS pid")).rows[0].pid);
    let statements = 0;
    // PostgreSQL CPU by statement (its first words), over the measured sizes.
    const byStatement = new Map<string, number>();
    const query = client.query.bind(client) as (...a: unknown[]) => unknown;
    const counting = new Proxy(client, {
      get(t, k) {
        if (k === "query")
          return async (...a: unknown[]) => {
            statements++;
            const c0 = processCpuMs(pid);
            try {
              return await query(...a);
            } finally {
              // Live batches send named statements as config objects: their text names them.
              const first = a[0] as string | { text?: string };
              const text = typeof first === "string" ? first : String(first?.text);
              const name = text.replace(/\s+/g, " ").slice(0, 48);
              byStatement.set(name, (byStatement.get(name) ?? 0) + processCpuMs(pid) - c0);
            }
          };
        const v = Reflect.get(t, k, t);
        return typeof v === "function" ? v.bind(t) : v;
      },
    });
    // Rows written per table: pg_stat_user_tables before and after (pending stats flushed first).
    const rowCounts = async () => {
      await client.query("SELECT pg_stat_force_next_flush()");
      await sleep(50);
      await client.query("SELECT pg_stat_clear_snapshot()");
      const r = await client.query<{ relname: string; n: string; hot: string }>(
        `SELECT relname, n_tup_ins + n_tup_upd AS n, n_tup_hot_upd AS hot FROM pg_stat_user_tables
          WHERE schemaname = $1`,
        [schema],
      );
      // Rows that wrote index entries (inserts and updates that were not HOT), as "<table> non-HOT".
      return new Map(
        r.rows.flatMap((x) => [
          [x.relname, Number(x.n)] as const,
          [`${x.relname} non-HOT`, Number(x.n) - Number(x.hot)] as const,
        ]),
      );
    };
    /** Each build's totals; their batches take turns, rows are counted over all of them. */
    const run = async (size: number, events: number): Promise<Totals[]> => {
      const totals: Totals[] = builds.map(() => ({
        events: 0,
        statements: 0,
        nodeMs: 0,
        pgMs: 0,
        wallMs: 0,
        rows: new Map(),
      }));
      const before = await rowCounts();
      for (let i = 0; totals.some((x) => x.events < events); i++) {
        const b = i % builds.length;
        const t = totals[b]!;
        const batch = entries(size);
        statements = 0;
        const [n0, p0, w0] = [selfCpuMs(), processCpuMs(pid), performance.now()];
        await applyBatch(counting, builds[b]!, schema, batch, {
          mode: "live",
          begin: true,
          commit: true,
        });
        t.wallMs += performance.now() - w0;
        t.nodeMs += selfCpuMs() - n0;
        t.pgMs += processCpuMs(pid) - p0;
        t.statements += statements;
        t.events += size;
      }
      const all = totals.length;
      for (const [k, n] of await rowCounts()) {
        const d = n - (before.get(k) ?? 0);
        if (d > 0) for (const t of totals) t.rows.set(k, d / all);
      }
      return totals;
    };
    await run(15, WARMUP);
    byStatement.clear();
    for (const size of SIZES)
      for (const [b, t] of (await run(size, EVENTS)).entries()) {
        const per = (x: number) => (x / t.events).toFixed(3);
        const rows = [...t.rows].sort((a, b) => b[1] - a[1]);
        const total = rows.reduce((s, [k, n]) => (k.endsWith("non-HOT") ? s : s + n), 0);
        const build = builds.length > 1 ? ` (${buildEntries[b]})` : "";
        console.log(
          `batch ${size}${build}: ${t.events} events; per event: statements ${per(t.statements)}, rows ${per(total)} ` +
            `(${rows.map(([k, n]) => `${k} ${per(n)}`).join(", ")}), CPU ms node ${per(t.nodeMs)} + postgres ${per(t.pgMs)} ` +
            `= ${per(t.nodeMs + t.pgMs)}; wall ms ${per(t.wallMs)} (information only)`,
        );
      }
    const all = [...byStatement.values()].reduce((x, y) => x + y, 0);
    console.log("postgres CPU by statement (both sizes):");
    for (const [name, ms] of [...byStatement].sort((a, b) => b[1] - a[1]))
      console.log(`  ${((100 * ms) / all).toFixed(1).padStart(5)} %  ${name}`);
    client.release();
  } finally {
    await pool.end();
    await scratch.cleanup();
  }
}

await main();
