/**
 * npm run bench:reporting — the reporting read model (issue 10):
 *  - projection lag p99: grades' commit (EventStore.append of a MarkRecorded into a grades log,
 *    published by the outbox relay) → the reporting projection's change notice for that
 *    journal, i.e. the dashboards' aggregates committed, under a steady 500 events/s; the
 *    projection runs in a process of its own, as deployed (grades' side stays in this one);
 *  - dashboard query p99 over gRPC (GetDashboards, one query per call, a mix of class group
 *    and school terms, municipality and region years) with 100k and with 10M marks behind it,
 *    the 10M read model bulk-loaded in SQL (marks and the aggregate rows of the scopes they
 *    imply); ratio = p99@100k / p99@10M (goal ≥ 0.67), limit 20 ms at both.
 * Creates its own databases and NATS prefix and removes them after.
 * Knobs: BENCH_RUNS (3), BENCH_LAG_SECONDS (10), BENCH_LAG_RATE (500), BENCH_QUERIES (2000 a run),
 * BENCH_SMALL_MARKS (100000), BENCH_LARGE_MARKS (10000000), BENCH_ONLY (lag | query),
 * BENCH_REPORTING_RUNNER (process | inline: the projection in the bench's process),
 * BENCH_LAG_WARMUP_SECONDS (1: at the same rate before the measured seconds), BENCH_LINGER_MS
 * (the projection runner's lingerMs; its default when unset), DATABASE_URL, NATS_URL.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import * as grpc from "@grpc/grpc-js";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ensureStream, messagingNames } from "@otmetka/messaging";
import { type ChangeNotice, ensureLiveSchema, ProjectionRunner } from "@otmetka/projections";
import {
  AsOfMode,
  Level,
  ReportingServiceClient,
  ReportingServiceService,
  ResultBasis,
} from "@otmetka/proto/reporting/v1/reporting_service";
import {
  Access,
  createReportingService,
  DEFAULT_METRICS_CONFIG,
  loadSyntheticRegion,
  ReadDb,
  reportingProjection,
  type SyntheticRegion,
} from "@otmetka/reporting/bench";
import {
  createCallerVerifier,
  createLogger,
  promiseClient,
  startGrpcServer,
} from "@otmetka/service-kit";
import { startTestTokenIssuer } from "@otmetka/testing";
import pg from "pg";
import {
  ADMIN_URL,
  BenchScratch,
  benchLog,
  knob,
  NATS_URL,
  postgresVersion,
} from "./lib/bench-env.js";
import { atFixedRate } from "./lib/fixed-rate.js";
import {
  LAG_CLASS_GROUPS,
  markRecorded,
  openLagScenario,
  startGradesRelay,
} from "./lib/reporting-marks.js";
import { lingerOption, startReportingRunnerProcess } from "./lib/reporting-runner-launch.js";
import {
  baselineFigure,
  type Figure,
  figure,
  formatTable,
  machine,
  withEarlierFigures,
  writeResults,
} from "./lib/results.js";
import { nearestRank } from "./lib/stats.js";

const RUNS = knob("BENCH_RUNS", 3);
const LAG_SECONDS = knob("BENCH_LAG_SECONDS", 10);
const QUERIES = knob("BENCH_QUERIES", 2000);
const SMALL = knob("BENCH_SMALL_MARKS", 100_000);
const LARGE = knob("BENCH_LARGE_MARKS", 10_000_000);
const ONLY = process.env.BENCH_ONLY ?? "";
const RATE = knob("BENCH_LAG_RATE", 500);
// The projection in this process (as before 2026-11-29) instead of its own, as deployed.
const INLINE_RUNNER = process.env.BENCH_REPORTING_RUNNER === "inline";
const WARMUP_SECONDS = knob("BENCH_LAG_WARMUP_SECONDS", 1);

const log = benchLog("reporting");

/** p99 of grades' append commit → reporting's notice for that journal, at RATE events/s. */
async function lagP99(
  nc: NatsConnection,
  run: number,
): Promise<{ commit: number; publish: number; runnerCpuMs: number }> {
  const scenario = await openLagScenario(nc, {
    grades: `bench_rep_g${run}`,
    reporting: `bench_rep_r${run}`,
  });
  const { prefix, names, gradesDb, reportingDb, store, pool } = scenario;
  const relay = startGradesRelay(nc, names, store, gradesDb.url);
  const committed = new Map<string, number>();
  const published = new Map<string, number>();
  const noticed = new Map<string, number>();
  const lags: number[] = [];
  const fromPublish: number[] = [];
  const settled = new Set<string>();
  const settledPublish = new Set<string>();
  const settle = (id: string) => {
    const c = committed.get(id);
    const p = published.get(id);
    const n = noticed.get(id);
    if (n === undefined) return;
    if (c !== undefined && !settled.has(id)) {
      settled.add(id);
      lags.push(Math.max(0, n - c));
    }
    if (p !== undefined && !settledPublish.has(id)) {
      settledPublish.add(id);
      fromPublish.push(Math.max(0, n - p));
    }
  };
  // The relay's publish, seen by a plain subscription: splits the lag into relay and reporting.
  const relayed = nc.subscribe(`${names.eventRoot("grades")}.>`, {
    callback: (_e, m) => {
      const id = m.json<{ journal?: { journalId?: string } }>().journal?.journalId;
      if (id === undefined) return;
      published.set(id, performance.now());
      settle(id);
    },
  });
  const sub = nc.subscribe(`${names.eventRoot("reporting")}.changed.journal.>`, {
    callback: (_e, m) => {
      const id = m.json<ChangeNotice>().id;
      noticed.set(id, performance.now());
      settle(id);
    },
  });
  const runner = INLINE_RUNNER
    ? await new ProjectionRunner({
        projection: reportingProjection,
        pool,
        nc,
        names,
        ...lingerOption(),
      }).start()
    : undefined;
  const runnerProcess = INLINE_RUNNER
    ? undefined
    : await startReportingRunnerProcess(reportingDb.url, NATS_URL, prefix);
  let runnerCpuMs = Number.NaN;
  try {
    const total = RATE * LAG_SECONDS;
    // The first WARMUP_SECONDS of the same steady rate are not measured: JIT, connections and
    // prepared statements of freshly started processes, as a running service has them warm.
    const warmup = Math.round(RATE * WARMUP_SECONDS);
    await atFixedRate(RATE, warmup + total, async (k) => {
      const i = k - warmup;
      const journalId = i < 0 ? `w-${run}-${k}` : `j-${run}-${i}`;
      await store.append(journalId, "no_stream", [
        { type: "grades.v1.MarkRecorded", data: markRecorded(k, journalId) },
      ]);
      if (i < 0) return;
      committed.set(journalId, performance.now());
      settle(journalId);
    });
    const deadline = Date.now() + 60_000;
    while (lags.length < total && Date.now() < deadline) await sleep(50);
    if (lags.length < total) throw new Error(`only ${lags.length} of ${total} notices arrived`);
    runnerCpuMs = (await runnerProcess?.stop()) ?? Number.NaN;
    return {
      commit: nearestRank(lags, 0.99),
      publish: nearestRank(fromPublish, 0.99),
      runnerCpuMs: runnerCpuMs / (warmup + total),
    };
  } finally {
    sub.unsubscribe();
    relayed.unsubscribe();
    await runner?.stop();
    if (Number.isNaN(runnerCpuMs)) await runnerProcess?.stop();
    await relay.stop();
    await scenario.close();
  }
}

/** A read model of `marks` bulk-loaded, served over gRPC; p99 of single-dashboard calls, per run. */
async function queryP99s(marks: number): Promise<{ runs: number[]; region: SyntheticRegion }> {
  const scratch = new BenchScratch();
  const db = await scratch.database(`bench_rep_q${marks}`);
  const pool = new pg.Pool({ connectionString: db.url, max: 8 });
  const issuer = await startTestTokenIssuer();
  const logger = createLogger({ service: "bench-reporting", level: "silent" });
  let server: Awaited<ReturnType<typeof startGrpcServer>> | undefined;
  let raw: ReportingServiceClient | undefined;
  try {
    await ensureLiveSchema(pool, reportingProjection);
    const loadBegan = performance.now();
    const region = await loadSyntheticRegion(pool, { marks });
    log(
      `loaded ${marks} marks, ${region.classGroups} class groups in ${((performance.now() - loadBegan) / 1000).toFixed(0)} s`,
    );
    const readDb = new ReadDb(pool);
    server = await startGrpcServer({
      host: "127.0.0.1",
      port: 0,
      graceMs: 0,
      drainTimeoutMs: 100,
      logger,
      services: [
        {
          definition: ReportingServiceService,
          implementation: createReportingService(
            { db: readDb, access: new Access(readDb, "74"), metrics: DEFAULT_METRICS_CONFIG },
            createCallerVerifier({ jwksUrl: issuer.jwksUrl }),
            logger,
          ),
        },
      ],
    });
    raw = new ReportingServiceClient(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
    const client = promiseClient(raw);
    const md = issuer.metadataFor(await issuer.sign({ roles: ["MINISTRY_OFFICER@region:74"] }));
    const query = (i: number) => {
      const base = {
        academicYear: { startYear: 2026 },
        asOf: "2026-11-16",
        basis: ResultBasis.RESULT_BASIS_UNSPECIFIED,
        asOfMode: AsOfMode.AS_OF_MODE_UNSPECIFIED,
        definitionVersion: 0,
      };
      const subjectId = i % 2 === 0 ? "" : `sub-${i % region.subjects}`;
      switch (i % 4) {
        case 0:
          return {
            ...base,
            level: Level.LEVEL_CLASS_GROUP,
            scopeId: `cg-${(i * 7919) % region.classGroups}`,
            subjectId,
            term: 1,
          };
        case 1:
          return {
            ...base,
            level: Level.LEVEL_SCHOOL,
            scopeId: `school-${(i * 31) % region.schools}`,
            subjectId,
            term: 1,
          };
        case 2:
          return {
            ...base,
            level: Level.LEVEL_MUNICIPALITY,
            scopeId: `muni-${i % region.municipalities}`,
            subjectId,
            year: true,
          };
        default:
          return { ...base, level: Level.LEVEL_REGION, scopeId: "", subjectId, current: true };
      }
    };
    const call = async (i: number) => {
      const t = performance.now();
      const r = await client.getDashboards({ queries: [query(i)] }, md);
      const d = r.results[0];
      if (!d?.dashboard) throw new Error(`dashboard ${i}: ${JSON.stringify(d?.error)}`);
      return performance.now() - t;
    };
    // Warm-up over every scope once (the per-scope lookups cached for a minute are then warm at
    // both sizes; otherwise the larger region's many class groups would measure cache misses).
    const scopes = Math.max(region.classGroups, region.schools) * 4;
    for (let i = 0; i < Math.max(200, scopes); i++) await call(i);
    const runs: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const latencies: number[] = [];
      for (let i = 0; i < QUERIES; i++) latencies.push(await call(run * QUERIES + i));
      runs.push(nearestRank(latencies, 0.99));
      log(`queries @${marks}: run ${run + 1} p99 ${runs.at(-1)?.toFixed(2)} ms`);
    }
    return { runs, region };
  } finally {
    raw?.close();
    await server?.shutdown();
    await issuer.stop();
    await pool.end();
    await scratch.cleanup();
  }
}

async function main(): Promise<void> {
  const scratch = new BenchScratch();
  const names = messagingNames(scratch.natsPrefix());
  const nc = await connect({ servers: NATS_URL });
  const figures: Figure[] = [];
  let postgres = "unknown";
  try {
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    postgres = await postgresVersion(admin);
    await admin.end();
    await ensureStream(await jetstreamManager(nc), names.contextStream("grades"));
    if (ONLY === "" || ONLY === "lag") {
      const lags: number[] = [];
      const fromPublish: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        const r = await lagP99(nc, run);
        lags.push(r.commit);
        fromPublish.push(r.publish);
        log(
          `lag run ${run + 1}: p99 grades commit → dashboard notice ${r.commit.toFixed(1)} ms, relay publish → notice ${r.publish.toFixed(1)} ms` +
            (INLINE_RUNNER
              ? ""
              : `, reporting process CPU ${r.runnerCpuMs.toFixed(2)} ms an event`),
        );
      }
      figures.push({
        ...figure({
          id: "projection_lag_p99_500_per_s",
          unit: "ms",
          runs: lags,
          higherIsBetter: false,
          note: `${RATE}/s for ${LAG_SECONDS} s after ${WARMUP_SECONDS} s unmeasured, MarkRecorded over ${LAG_CLASS_GROUPS} class groups, relay + projection + notice; projection ${INLINE_RUNNER ? "in the bench's process" : "in its own process"}`,
        }),
        limit: 150,
        limit_kind: "max",
      });
      figures.push(
        baselineFigure(
          "publish_to_dashboard_p99_500_per_s",
          "ms",
          fromPublish,
          "for information: from the relay's publish to JetStream (reporting's own share of the lag)",
        ),
      );
    }
    if (ONLY === "" || ONLY === "query") {
      const small = await queryP99s(SMALL);
      const large = await queryP99s(LARGE);
      const note = (r: SyntheticRegion, n: number) =>
        `${n} marks, ${r.classGroups} class groups, ${r.schools} schools, ${r.days} days; GetDashboards, 1 query a call`;
      figures.push(
        {
          ...figure({
            id: "dashboard_query_p99_at_10m",
            unit: "ms",
            runs: large.runs,
            baseline: { id: "dashboard_query_p99_at_100k", runs: small.runs },
            higherIsBetter: false,
            goal: 0.67,
            note: note(large.region, LARGE),
          }),
          limit: 20,
          limit_kind: "max",
        },
        {
          ...baselineFigure(
            "dashboard_query_p99_at_100k",
            "ms",
            small.runs,
            note(small.region, SMALL),
          ),
          limit: 20,
          limit_kind: "max",
        },
      );
    }
  } finally {
    await nc.close();
    await scratch.cleanup();
  }
  const path = writeResults(
    "reporting",
    machine({ postgres }),
    withEarlierFigures("reporting", figures, ONLY),
  );
  console.log(formatTable(figures));
  console.log(`\nwritten to ${path}`);
}

await main();
