/**
 * npm run bench:reporting-history — reporting's history (issue 11):
 *  - rebuild of the reporting read model from sequence 1 of identity, curriculum and grades
 *    (blue/green, through @otmetka/projections' rebuild: snapshots, day closes and swap
 *    included), events/s, against a raw ordered-consumer read of the same three streams in
 *    the same run (goal ratio ≥ 0.4);
 *  - "as of D" dashboard query p99 (the query function on the read model, no gRPC), recorded
 *    mode (daily snapshots) and effective mode (recomputed from the journal facts; limit
 *    200 ms), class-group and school dashboards of term 1, one subject or all, D a random
 *    closed day of the term.
 * The history is synthetic (services/reporting/src/bench/synthetic-history.ts): schools,
 * class groups, lessons with attendance and marks, 3 % of marks corrected days later, in
 * recorded-time order. Creates its own database and NATS prefix and removes them after.
 * Knobs: BENCH_RUNS (3), BENCH_HISTORY_EVENTS (60000), BENCH_QUERIES (300 a mode and run),
 * DATABASE_URL, NATS_URL.
 */
import { performance } from "node:perf_hooks";
import { connect } from "@nats-io/transport-node";
import { messagingNames } from "@otmetka/messaging";
import { rebuildProjection } from "@otmetka/projections";
import {
  type DashboardQuery,
  DEFAULT_METRICS_CONFIG,
  dashboard,
  ensureSourceStreams,
  openReportingDatabase,
  publishFeed,
  ReadDb,
  reportingProjection,
  syntheticHistory,
} from "@otmetka/reporting/bench";
import { BenchScratch, benchLog, knob, NATS_URL, postgresVersion } from "./lib/bench-env.js";
import {
  type Figure,
  figure,
  figureAndBaseline,
  formatTable,
  machine,
  writeResults,
} from "./lib/results.js";
import { nearestRank } from "./lib/stats.js";
import { orderedReadRate } from "./reporting-history-read.js";

const RUNS = knob("BENCH_RUNS", 3);
const EVENTS = knob("BENCH_HISTORY_EVENTS", 60_000);
const QUERIES = knob("BENCH_QUERIES", 300);

const log = benchLog("reporting-history");

async function main(): Promise<void> {
  const began = performance.now();
  const scratch = new BenchScratch();
  const names = messagingNames(scratch.natsPrefix());
  const nc = await connect({ servers: NATS_URL });
  const figures: Figure[] = [];
  let postgres = "unknown";
  try {
    const db = await scratch.database("bench_reporting_history");
    const pool = await openReportingDatabase(db.url);
    postgres = await postgresVersion(pool);
    await ensureSourceStreams(nc, names);
    const h = syntheticHistory({ events: EVENTS });
    const t0 = performance.now();
    await publishFeed(nc, names, h.events, 500);
    log(`published ${h.events.length} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const perSource: Record<string, number> = {};
    for (const e of h.events) perSource[e.context] = (perSource[e.context] ?? 0) + 1;
    const rebuild: number[] = [];
    const ordered: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      ordered.push(await orderedReadRate(nc, names, perSource));
      const r = await rebuildProjection({ projection: reportingProjection, pool, nc, names });
      if (r.events !== h.events.length)
        throw new Error(`rebuild applied ${r.events} of ${h.events.length}`);
      rebuild.push((r.events / r.durationMs) * 1000);
      log(
        `rebuild run ${run + 1}: rebuild ${Math.round(rebuild.at(-1) ?? 0)}/s (${r.durationMs} ms, transactions ${Math.round(r.applyMs)} ms), ordered read ${Math.round(ordered.at(-1) ?? 0)}/s`,
      );
    }
    const days = (
      await pool.query<{ n: string }>(
        "SELECT count(DISTINCT known_day) AS n FROM proj_reporting.perf_h",
      )
    ).rows[0]?.n;
    const note = `${h.events.length} events, 3 sources, ${days} closed days; swap included`;
    figures.push(
      ...figureAndBaseline({
        id: "rebuild_reporting",
        unit: "events/s",
        runs: rebuild,
        baseline: { id: "raw_ordered_read", runs: ordered },
        goal: 0.4,
        note,
      }),
    );

    // As-of queries on the rebuilt read model.
    const read = new ReadDb(pool);
    let seed = 7;
    const pick = <T>(a: readonly T[]): T => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return a[seed % a.length] as T;
    };
    const closedDays = (
      await pool.query<{ d: string }>(
        `SELECT DISTINCT known_day::text AS d FROM proj_reporting.perf_h
          WHERE known_day BETWEEN $1::date AND $2::date ORDER BY 1`,
        [h.firstDay, h.lastDay],
      )
    ).rows.map((r) => r.d);
    const query = (mode: "RECORDED" | "EFFECTIVE"): DashboardQuery => {
      const school = pick([true, false]);
      return {
        level: school ? "SCHOOL" : "CLASS_GROUP",
        scopeId: school ? pick(h.schools) : pick(h.classGroups),
        startYear: 2026,
        subjectId: pick(["", ...h.subjects]),
        period: { kind: "TERM", term: 1 },
        asOf: pick(closedDays),
        basis: "CURRENT",
        mode,
      };
    };
    for (const mode of ["RECORDED", "EFFECTIVE"] as const) {
      const p99s: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        const ms: number[] = [];
        for (let i = 0; i < QUERIES; i++) {
          const q = query(mode);
          const t = performance.now();
          await dashboard(read, DEFAULT_METRICS_CONFIG, q);
          ms.push(performance.now() - t);
        }
        p99s.push(nearestRank(ms, 0.99));
        log(`${mode} run ${run + 1}: p99 ${p99s.at(-1)?.toFixed(2)} ms over ${QUERIES} queries`);
      }
      figures.push({
        ...figure({
          id: `as_of_${mode.toLowerCase()}_query_p99`,
          unit: "ms",
          runs: p99s,
          higherIsBetter: false,
          note: `class group / school, term 1, one subject or all, D a random closed day (${closedDays.length}); ${h.classGroups.length} class groups`,
        }),
        ...(mode === "EFFECTIVE" ? { limit: 200, limit_kind: "max" as const } : {}),
      });
    }
    await pool.end();
  } finally {
    await nc.close();
    await scratch.cleanup();
  }
  const m = machine({ postgres });
  const path = writeResults("reporting-history", m, figures);
  process.stdout.write(
    `\nreporting history benchmark — ${m.cpus} cpus, node ${m.node}, ${RUNS} runs each\n\n${formatTable(figures)}\n\nwritten to ${path} in ${((performance.now() - began) / 1000).toFixed(0)} s\n`,
  );
}

await main();
