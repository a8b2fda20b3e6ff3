/**
 * npm run bench:gateway — the GraphQL gateway with identity, curriculum, grades and reporting
 * as processes on this machine (real PostgreSQL and NATS), against a bare graphql-yoga
 * `{ hello }` process measured in the same run (baseline, 50 connections):
 * - `dashboard` (a school and its class groups) throughput at 50 clients (goal 0.5x);
 * - `dashboard` p99 at a steady 200 queries/s (limit 20 ms);
 * - single-mark `recordMark` through GraphQL with 64 clients over BENCH_CLASSES x 10 subjects
 *   (200) journals, end to end: a mark counts when reporting's journal notice that follows
 *   the mutation's answer arrives (committed and in the journal view), or at the answer when
 *   that journal's notice came first; marks/s (goals: 1,000 marks/s and 0.3x of the baseline) and p99 of both
 *   the mutation and the end-to-end latency; after the services are idle (the set-up
 *   projected) and one uncounted warm-up run.
 * Per-process CPU (user+system seconds from /proc) is reported for each measurement: the
 * services, their databases' PostgreSQL backends, the NATS server (shared with anything else
 * running) and this load client, so the whole chain's CPU a mark adds up.
 * Knobs: BENCH_RUNS (3), BENCH_SECONDS (5), BENCH_CLASSES (20), DATABASE_URL, NATS_URL;
 * BENCH_ONLY (`dashboard` or `marks`: only those figures, with the baseline);
 * BENCH_DASHBOARD_CACHE_MS (the gateway's dashboard cache TTL; 0 turns the caches off);
 * BENCH_PROFILE_DIR (every service writes a V8 CPU profile `<pid>.cpuprofile` there, of the
 * measured runs of the last part that runs: the marks, or the dashboard with BENCH_ONLY=dashboard);
 * BENCH_PG_STATEMENTS_DIR (every service writes `<pid>-statements.json` there: the PostgreSQL
 * statements it sent over the same runs, by text).
 */
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { Agent } from "node:http";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { connect } from "@nats-io/transport-node";
import { messagingNames } from "@otmetka/messaging";
import { CurriculumServiceClient } from "@otmetka/proto/curriculum/v1/curriculum_service";
import { IdentityServiceClient } from "@otmetka/proto/identity/v1/identity_service";
import { promiseClient } from "@otmetka/service-kit";
import {
  freePort,
  postGraphql as post,
  type SchoolJournal,
  type ServiceProcess,
  setUpSchool,
  startServiceProcess,
  startTestTokenIssuer,
  type TestDatabase,
} from "@otmetka/testing";
import pg from "pg";
import { BenchScratch, benchLog, knob, NATS_URL } from "./lib/bench-env.js";
import { closedLoop, type LoadResult } from "./lib/closed-loop.js";
import { atFixedRate } from "./lib/fixed-rate.js";
import { writerTargets } from "./lib/mark-client.js";
import { backendCpu, backendCpuSince, processCpuMsOrZero, selfCpuSeconds } from "./lib/proc-cpu.js";
import {
  baselineFigure,
  type Figure,
  figure,
  formatTable,
  machine,
  writeResults,
} from "./lib/results.js";
import { percentileAtIndex } from "./lib/stats.js";

const RUNS = knob("BENCH_RUNS", 3);
const SECONDS = knob("BENCH_SECONDS", 5);
const CLASSES = knob("BENCH_CLASSES", 20);
const SUBJECTS = 10;
const PUPILS = 4;
// Each of the 64 mark clients owns journals of its own (no two clients write one journal at
// once); refused before minutes of set-up when there are too few.
const MARK_TARGETS = writerTargets(
  CLASSES * SUBJECTS,
  64,
  `BENCH_CLASSES=${CLASSES} x ${SUBJECTS} subjects`,
);
const YEAR = { startYear: 2026 };
const ONLY = process.env.BENCH_ONLY ?? "";
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR ?? "";
// PostgreSQL statements each service sends during the measured runs (lib/pg-statements.mjs).
const STATEMENTS_DIR = process.env.BENCH_PG_STATEMENTS_DIR ?? "";
const PRELOADS = [
  ...(PROFILE_DIR ? ["cpu-profile.mjs"] : []),
  ...(STATEMENTS_DIR ? ["pg-statements.mjs"] : []),
];
const preload = (file: string) => fileURLToPath(new URL(`./lib/${file}`, import.meta.url));
// The gateway's dashboard cache TTL (GATEWAY_DASHBOARD_CACHE_MS; 0: every dashboard computed).
const CACHE_MS = process.env.BENCH_DASHBOARD_CACHE_MS;
const runs = (part: "dashboard" | "marks") => (!ONLY || ONLY === part ? RUNS : 0);

const log = benchLog("gateway");
const serviceDir = (name: string) =>
  fileURLToPath(new URL(`../../../services/${name}`, import.meta.url));

/** user+system CPU seconds of a process so far (0 when it has ended). */
const cpuSeconds = (pid: number | undefined) => processCpuMsOrZero(pid) / 1000;

/** The pid of the machine's nats-server, if one runs (its CPU is shared with other users). */
function natsServerPid(): number | undefined {
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "nats-server") return Number(pid);
    } catch {
      // Ended meanwhile.
    }
  }
  return undefined;
}

// ---- HTTP load: keep-alive connections, closed loop (lib/closed-loop.ts) or fixed rate ------

async function fixedRate(
  perSecond: number,
  seconds: number,
  op: () => Promise<unknown>,
): Promise<LoadResult & { sendLag: number[]; slowest: string }> {
  const latencies: number[] = [];
  // How late this client itself started each request (its own event loop's lag), apart from
  // the latency, which counts it against the gateway.
  const sendLag: number[] = [];
  const at: { ms: number; offset: number }[] = [];
  const t0 = performance.now();
  const n = perSecond * seconds;
  // Latency from the scheduled start: a late send counts against the gateway.
  await atFixedRate(perSecond, n, async (_i, due) => {
    sendLag.push(performance.now() - due);
    await op();
    const ms = performance.now() - due;
    latencies.push(ms);
    at.push({ ms, offset: (due - t0) / 1000 });
  });
  // The slowest requests and when they were due (s into the run): clustered or spread.
  const slowest = at
    .sort((a, b) => b.ms - a.ms)
    .slice(0, Math.max(1, Math.ceil(n / 100)))
    .map((x) => `${x.ms.toFixed(0)}@${x.offset.toFixed(1)}`)
    .join(" ");
  return { rate: n / ((performance.now() - t0) / 1000), latencies, sendLag, slowest };
}

// ---- services -------------------------------------------------------------------------------

async function main(): Promise<void> {
  const issuer = await startTestTokenIssuer();
  const scratch = new BenchScratch();
  const prefix = scratch.natsPrefix();
  const procs: Record<string, ServiceProcess> = {};
  const dbs: TestDatabase[] = [];
  const dbServices: string[] = [];
  const pools: pg.Pool[] = [];
  const addr: Record<string, string> = {};
  const base = {
    NATS_URL,
    NATS_PREFIX: prefix,
    AUTH_JWKS_URL: issuer.jwksUrl,
    LOG_LEVEL: "info",
    SHUTDOWN_GRACE_MS: "100",
    // Tracing on, 1% of requests sampled (exported nowhere unless an endpoint is set).
    OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
    OTEL_TRACES_SAMPLER_ARG: "0.01",
    // Profiles and statement counts are written on a clean exit (SIGTERM at the end).
    ...(PROFILE_DIR ? { BENCH_PROFILE_DIR: PROFILE_DIR, BENCH_PROFILE_FROM: "SIGUSR2" } : {}),
    ...(STATEMENTS_DIR ? { BENCH_PG_STATEMENTS_DIR: STATEMENTS_DIR } : {}),
    ...(PRELOADS.length
      ? { NODE_OPTIONS: PRELOADS.map((f) => `--import=${preload(f)}`).join(" ") }
      : {}),
  };
  const start = async (name: string, extra: Record<string, string>, ready: string) => {
    const port = await freePort();
    let db: TestDatabase | undefined;
    if (name !== "gateway") {
      db = await scratch.database(`gwb_${name}`);
      dbs.push(db);
      dbServices.push(name);
    }
    const p = startServiceProcess({
      name,
      cwd: serviceDir(name),
      env: {
        ...base,
        ...(db ? { DATABASE_URL: db.url } : {}),
        GRPC_HOST: "127.0.0.1",
        GRPC_PORT: String(port),
        ...extra,
      },
    });
    procs[name] = p;
    await p.waitForOutput(ready, 120_000);
    addr[name] = `127.0.0.1:${port}`;
    return port;
  };
  const helloPort = await freePort();
  procs.hello = startServiceProcess({
    name: "hello",
    cwd: serviceDir("gateway"),
    entry: "src/bench/hello.ts",
    env: { HTTP_PORT: String(helloPort) },
  });
  const nc = await connect({ servers: NATS_URL });
  try {
    await procs.hello.waitForOutput("hello listening", 60_000);
    const { randomBytes } = await import("node:crypto");
    await start(
      "identity",
      {
        IDENTITY_MASTER_KEYS: `k1:${randomBytes(32).toString("base64")}`,
        IDENTITY_BLIND_INDEX_KEY: randomBytes(32).toString("base64"),
        IDENTITY_HTTP_HOST: "127.0.0.1",
        IDENTITY_HTTP_PORT: String(await freePort()),
      },
      "grpc server listening",
    );
    await Promise.all(
      ["curriculum", "grades", "reporting"].map((n) => start(n, {}, "grpc server listening")),
    );
    const gatewayPort = await freePort();
    await start(
      "gateway",
      {
        HTTP_HOST: "127.0.0.1",
        HTTP_PORT: String(gatewayPort),
        IDENTITY_GRPC_ADDRESS: addr.identity as string,
        CURRICULUM_GRPC_ADDRESS: addr.curriculum as string,
        GRADES_GRPC_ADDRESS: addr.grades as string,
        REPORTING_GRPC_ADDRESS: addr.reporting as string,
        GATEWAY_RATE_LIMIT_PER_MINUTE: "1000000",
        ...(CACHE_MS !== undefined ? { GATEWAY_DASHBOARD_CACHE_MS: CACHE_MS } : {}),
      },
      "gateway listening",
    );
    log(
      `services up (pids ${Object.entries(procs)
        .map(([k, p]) => `${k} ${p.child.pid}`)
        .join(", ")}); setting up the school`,
    );
    const school = await setUp(issuer, addr);
    // Each class group's teacher signs their own marks (rate limit and checks per teacher).
    const tokens = new Map<string, string>();
    for (const j of school.journals) {
      if (!tokens.has(j.teacher))
        tokens.set(
          j.teacher,
          await issuer.sign({ roles: [`TEACHER@school:${school.schoolId}`], pid: j.teacher }),
        );
    }
    const teacherToken = (j: { teacher: string }) => tokens.get(j.teacher) as string;
    const adminToken = await issuer.sign({
      roles: [`SCHOOL_ADMIN@school:${school.schoolId}`],
      pid: "bench-admin",
    });

    const agent = new Agent({ keepAlive: true, maxSockets: 256 });
    const hello = JSON.stringify({ query: "{ hello }" });
    const dashboard = JSON.stringify({
      query: `{ dashboard(scope: { schoolId: "${school.schoolId}" }, period: { term: 1, academicYear: 2026 }) {
        pupilCount { value } averageMark { value } attendanceRate { value }
        children { name pupilCount { value } averageMark { value } } } }`,
    });
    // The rest of the chain: the services' PostgreSQL backends, the NATS server (shared with
    // whatever else runs on the machine) and this load client.
    pools.push(...dbs.map((db) => new pg.Pool({ connectionString: db.url, max: 1 })));
    const natsPid = natsServerPid();
    const cpuOf = (): Record<string, number> => ({
      ...Object.fromEntries(Object.entries(procs).map(([k, p]) => [k, cpuSeconds(p.child.pid)])),
      ...(natsPid ? { "nats (shared)": cpuSeconds(natsPid) } : {}),
      "bench client": selfCpuSeconds(),
    });
    // Transactions and rows written per database, from pg_stat_database (flushed by each
    // backend at most once a second, so a few are missed at the edges of a run): how many
    // PostgreSQL round trips of each service an operation costs (pg_stat_statements is not
    // installed everywhere).
    const dbStats = async (): Promise<Record<string, number>> => {
      const { rows } = await (pools[0] as pg.Pool).query<{ datname: string; x: string; w: string }>(
        `SELECT datname, xact_commit + xact_rollback AS x, tup_inserted + tup_updated + tup_deleted AS w
           FROM pg_stat_database WHERE datname = ANY($1)`,
        [dbs.map((d) => d.name)],
      );
      const out: Record<string, number> = {};
      for (const r of rows) {
        const service = dbServices[dbs.findIndex((d) => d.name === r.datname)];
        out[`pg xacts ${service}`] = Number(r.x);
        out[`pg rows written ${service}`] = Number(r.w);
      }
      return out;
    };
    const cpuTable: Record<string, Record<string, number>> = {};
    // CPU milliseconds each process spent per operation: less sensitive to a busy machine
    // than the rates (the last run of each measurement).
    const cpuPerOp: Record<string, Record<string, number>> = {};
    const dbOpsPerOp: Record<string, Record<string, number>> = {};
    const measure = async <T extends LoadResult>(id: string, f: () => Promise<T>): Promise<T> => {
      const backends = await Promise.all(pools.map(backendCpu));
      const statsBefore = await dbStats();
      const before: Record<string, number> = { ...cpuOf(), postgres: 0 };
      const t0 = performance.now();
      const r = await f();
      const wall = (performance.now() - t0) / 1000;
      const after = cpuOf();
      const pgMs = await Promise.all(
        pools.map((p, i) => backendCpuSince(p, backends[i] ?? new Map())),
      );
      after.postgres = pgMs.reduce((a, b) => a + b, 0) / 1000;
      pgMs.forEach((ms, i) => {
        after[`postgres ${dbServices[i]}`] = ms / 1000;
      });
      const used = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
      // After a second, so that every backend flushed the run's statistics.
      await new Promise((res) => setTimeout(res, 1100));
      const statsAfter = await dbStats();
      dbOpsPerOp[id] = Object.fromEntries(
        Object.keys(statsAfter).map((k) => [
          k,
          Number((((statsAfter[k] ?? 0) - (statsBefore[k] ?? 0)) / r.latencies.length).toFixed(2)),
        ]),
      );
      cpuTable[id] = Object.fromEntries(
        Object.keys(after).map((k) => [k, Number((used(k) / wall).toFixed(2))]),
      );
      cpuPerOp[id] = Object.fromEntries(
        Object.keys(after)
          .filter((k) => used(k) > 0)
          .map((k) => [k, Number(((used(k) * 1000) / r.latencies.length).toFixed(3))]),
      );
      return r;
    };

    /**
     * Waits until the services and their databases are idle (under a tenth of a core over
     * half a second, at most 3 minutes): what the set-up left to project or relay would
     * otherwise run during, and slow, the first measured runs.
     */
    const settle = async (before: string) => {
      const t0 = performance.now();
      const services = Object.keys(procs).filter((k) => k !== "hello");
      for (;;) {
        const backends = await Promise.all(pools.map(backendCpu));
        const c0 = cpuOf();
        await new Promise((res) => setTimeout(res, 500));
        const c1 = cpuOf();
        const pgMs = await Promise.all(
          pools.map((p, i) => backendCpuSince(p, backends[i] ?? new Map())),
        );
        const busy =
          services.reduce((a, k) => a + (c1[k] ?? 0) - (c0[k] ?? 0), 0) +
          pgMs.reduce((a, b) => a + b, 0) / 1000;
        const waited = (performance.now() - t0) / 1000;
        if (busy < 0.05 || waited > 180) {
          log(
            `${before}: services idle after ${waited.toFixed(1)} s (${(busy / 0.5).toFixed(2)} cores busy)`,
          );
          return;
        }
      }
    };

    // Profiles and statement counts cover the measured runs only (not start-up, set-up and
    // warm-ups).
    const startProfiles = () => {
      // (The hello baseline runs without the preloads: SIGUSR2 would end it.)
      for (const [name, p] of Object.entries(procs))
        if (PRELOADS.length && name !== "hello") p.child.kill("SIGUSR2");
    };
    // Warm-up: connections, JIT, the services' caches.
    await closedLoop(50, 1, () => post(agent, helloPort, hello));
    if (runs("dashboard"))
      await closedLoop(50, 2, () => post(agent, gatewayPort, dashboard, adminToken));

    // Reporting's dashboard notices empty the gateway's dashboard caches: counted while the
    // dashboard is measured (set-up still being projected would show here).
    let dashboardNotices = 0;
    const dashSub = nc.subscribe(`${messagingNames(prefix).eventRoot("reporting")}.changed.>`);
    void (async () => {
      for await (const m of dashSub)
        if (m.subject.includes(".changed.dashboard-")) dashboardNotices++;
    })();
    const helloRuns: number[] = [];
    const dashRuns: number[] = [];
    const p99Runs: number[] = [];
    const helloP99Runs: number[] = [];
    if (ONLY === "dashboard") startProfiles();
    for (let r = 0; r < RUNS; r++) {
      helloRuns.push(
        (
          await measure("hello_c50", () =>
            closedLoop(50, SECONDS, () => post(agent, helloPort, hello)),
          )
        ).rate,
      );
      // BENCH_ONLY=marks: the baseline only (the marks' goal is relative to it).
      if (!runs("dashboard")) continue;
      dashRuns.push(
        (
          await measure("dashboard_c50", () =>
            closedLoop(50, SECONDS, () => post(agent, gatewayPort, dashboard, adminToken)),
          )
        ).rate,
      );
      // The same fixed rate against the bare hello, in the same run: a p99 at 200/s is set by
      // the longest stall in the window (8 requests of 800 late), so this says how much of it
      // the machine, the load client and yoga itself give without the gateway.
      const helloSteady = await measure("hello_200qps", () =>
        fixedRate(200, SECONDS, () => post(agent, helloPort, hello)),
      );
      helloP99Runs.push(percentileAtIndex(helloSteady.latencies, 99));
      const steady = await measure("dashboard_200qps", () =>
        fixedRate(200, SECONDS, () => post(agent, gatewayPort, dashboard, adminToken)),
      );
      p99Runs.push(percentileAtIndex(steady.latencies, 99));
      log(
        `run ${r + 1}: hello ${helloRuns.at(-1)?.toFixed(0)}/s, dashboard ${dashRuns.at(-1)?.toFixed(0)}/s, hello p99 at 200/s ${helloP99Runs.at(-1)?.toFixed(1)} ms (slowest ms@s ${helloSteady.slowest}), dashboard p99 at 200/s ${p99Runs.at(-1)?.toFixed(1)} ms (p50 ${percentileAtIndex(steady.latencies, 50).toFixed(1)}, client's send lag p99 ${percentileAtIndex(steady.sendLag, 99).toFixed(1)} ms; slowest ms@s ${steady.slowest}; ${dashboardNotices} dashboard notices so far)`,
      );
    }

    dashSub.unsubscribe();

    // recordMark end to end: a mark is visible when reporting's next journal notice after its
    // answer arrives (published after committing the batch that holds the mark) — or, when
    // that notice beat the answer, at the answer. Each journal has one writer sending one mark
    // at a time, so a notice for it that nothing answered was waiting for (`early`), arriving
    // after a mark was sent, can only be that mark's.
    const names = messagingNames(prefix);
    const pending = new Map<string, { sentAt: number }[]>();
    const early = new Map<string, number>();
    const e2e: number[] = [];
    let lastVisible = 0;
    const visible = (sentAt: number, at: number) => {
      e2e.push(at - sentAt);
      lastVisible = Math.max(lastVisible, at);
    };
    const sub = nc.subscribe(`${names.eventRoot("reporting")}.changed.journal.>`);
    void (async () => {
      for await (const m of sub) {
        const { id } = m.json<{ id: string }>();
        const now = performance.now();
        const list = pending.get(id) ?? [];
        if (list.length === 0) early.set(id, now);
        for (const x of list) visible(x.sentAt, now);
        pending.delete(id);
      }
    })();
    const MARK = `mutation M($c: ID!, $i: RecordMarkInput!) { recordMark(commandId: $c, input: $i) { markId } }`;
    const values = ["MARK_VALUE_TWO", "MARK_VALUE_THREE", "MARK_VALUE_FOUR", "MARK_VALUE_FIVE"];
    const markBody = (j: (typeof school.journals)[number], k: number) =>
      JSON.stringify({
        query: MARK,
        variables: {
          c: randomUUID(),
          i: {
            journal: { classGroupId: j.classGroupId, subjectId: j.subjectId, academicYear: YEAR },
            lessonId: j.lessonId,
            mark: { studentId: j.pupils[k % PUPILS], value: values[k % 4], workType: "ORAL" },
          },
        },
      });
    // Warm-up: one mark per journal, retried until grades has replicated the lesson.
    for (const j of runs("marks") ? school.journals : []) {
      const deadline = Date.now() + 120_000;
      for (;;) {
        try {
          await post(agent, gatewayPort, markBody(j, 0), teacherToken(j));
          break;
        } catch (err) {
          if (Date.now() > deadline || !String(err).includes("UNAVAILABLE")) throw err;
          await new Promise((res) => setTimeout(res, 200));
        }
      }
    }
    if (runs("marks")) {
      log("warm-up marks recorded");
      await settle("marks");
    }
    const markRuns: number[] = [];
    const mutP99: number[] = [];
    const e2eP99: number[] = [];
    // Run -1 warms the mark path up and is not counted: in the first 5 s after the one mark a
    // journal above, the gateway and grades spent 2-3x the CPU a mark of later runs.
    for (let r = runs("marks") ? -1 : 0; r < runs("marks"); r++) {
      if (r === 0) startProfiles();
      e2e.length = 0;
      let sent = 0;
      const t0 = performance.now();
      const load = await measure("record_mark_c64", () =>
        closedLoop(64, SECONDS, async (w) => {
          const k = sent++;
          const mine = MARK_TARGETS[w] as number[];
          const j = school.journals[
            mine[k % mine.length] as number
          ] as (typeof school.journals)[number];
          const sentAt = performance.now();
          await post(agent, gatewayPort, markBody(j, k), teacherToken(j));
          const noticed = early.get(j.streamId);
          early.delete(j.streamId);
          if (noticed !== undefined && noticed >= sentAt) visible(sentAt, performance.now());
          else pending.set(j.streamId, [...(pending.get(j.streamId) ?? []), { sentAt }]);
        }),
      );
      // Wait for every mark of the run to be visible (or 30 s).
      const deadline = performance.now() + 30_000;
      while ([...pending.values()].some((l) => l.length > 0) && performance.now() < deadline)
        await new Promise((res) => setTimeout(res, 20));
      const invisible = [...pending.values()].reduce((a, l) => a + l.length, 0);
      pending.clear();
      early.clear();
      if (r < 0) {
        log(`warm-up run: ${load.latencies.length} marks, ${invisible} not seen (not counted)`);
        continue;
      }
      markRuns.push(load.latencies.length / ((lastVisible - t0) / 1000));
      mutP99.push(percentileAtIndex(load.latencies, 99));
      e2eP99.push(percentileAtIndex(e2e, 99));
      log(
        `run ${r + 1}: ${load.latencies.length} marks, ${markRuns.at(-1)?.toFixed(0)} marks/s end to end, p99 mutation ${mutP99.at(-1)?.toFixed(1)} ms, e2e ${e2eP99.at(-1)?.toFixed(1)} ms, ${invisible} not seen; CPU ms a mark ${Object.entries(
          cpuPerOp.record_mark_c64 ?? {},
        )
          .filter(([, ms]) => ms >= 0.05)
          .map(([k, ms]) => `${k} ${ms.toFixed(2)}`)
          .join(", ")}`,
      );
    }
    sub.unsubscribe();
    agent.destroy();

    const baseline = { id: "yoga_hello_c50", runs: helloRuns };
    const figures: Figure[] = [
      baselineFigure("yoga_hello_c50", "requests/s", helloRuns, "bare graphql-yoga { hello }"),
    ];
    if (dashRuns.length)
      figures.push(
        figure({
          id: "dashboard_c50",
          unit: "requests/s",
          runs: dashRuns,
          baseline,
          goal: 0.5,
          note: `school + ${CLASSES} class groups`,
        }),
        baselineFigure(
          "yoga_hello_p99_at_200qps",
          "ms",
          helloP99Runs,
          "bare graphql-yoga { hello } at the same fixed rate",
        ),
        {
          ...figure({
            id: "dashboard_p99_at_200qps",
            unit: "ms",
            runs: p99Runs,
            baseline: { id: "yoga_hello_p99_at_200qps", runs: helloP99Runs },
            higherIsBetter: false,
          }),
          limit: 20,
          limit_kind: "max",
        },
      );
    if (markRuns.length)
      figures.push(
        {
          ...figure({
            id: "record_mark_e2e_c64",
            unit: "marks/s",
            runs: markRuns,
            baseline,
            goal: 0.3,
            note: `${school.journals.length} journals, until the journal notice`,
          }),
          // The issue asks for both: 1,000 marks/s, "about 0.3x" of the baseline it expected.
          limit: 1000,
          limit_kind: "min",
        },
        figure({
          id: "record_mark_mutation_p99_c64",
          unit: "ms",
          runs: mutP99,
          higherIsBetter: false,
        }),
        figure({ id: "record_mark_e2e_p99_c64", unit: "ms", runs: e2eP99, higherIsBetter: false }),
      );
    process.stdout.write(`${formatTable(figures)}\n`);
    process.stdout.write(`CPU (cores busy, per process):\n${JSON.stringify(cpuTable, null, 1)}\n`);
    process.stdout.write(`CPU ms per operation:\n${JSON.stringify(cpuPerOp, null, 1)}\n`);
    process.stdout.write(
      `PostgreSQL transactions and rows written per operation:\n${JSON.stringify(dbOpsPerOp, null, 1)}\n`,
    );
    const file = writeResults(
      "gateway",
      machine({ cpu_by_process: cpuTable, cpu_ms_per_op: cpuPerOp, db_ops_per_op: dbOpsPerOp }),
      figures,
    );
    log(`results: ${file}`);
  } catch (err) {
    for (const [k, p] of Object.entries(procs))
      log(`${k} output (tail):\n${p.stdout.slice(-1500)}\n${p.stderr.slice(-1500)}`);
    throw err;
  } finally {
    // With preloads: a clean stop (SIGTERM) so that each process writes its profile or counts.
    await Promise.all(
      Object.values(procs).map((p) =>
        PRELOADS.length && p.child.exitCode === null
          ? Promise.race([p.stop(), new Promise((r) => setTimeout(r, 10_000))])
          : undefined,
      ),
    );
    for (const p of Object.values(procs)) if (p.child.exitCode === null) p.child.kill("SIGKILL");
    await nc.close();
    for (const p of pools) await p.end().catch(() => undefined);
    await issuer.stop();
    await scratch.cleanup();
  }
}

// ---- the school: CLASSES class groups x 10 subjects = journals, one conducted lesson each ----

async function setUp(
  issuer: Awaited<ReturnType<typeof startTestTokenIssuer>>,
  addr: Record<string, string>,
) {
  const creds = grpc.credentials.createInsecure();
  const api = {
    identity: promiseClient(new IdentityServiceClient(addr.identity as string, creds)),
    curriculum: promiseClient(new CurriculumServiceClient(addr.curriculum as string, creds)),
    metadata: issuer.metadataFor(await issuer.sign({ roles: ["PLATFORM_ADMIN"] })),
  };
  const size = { classes: CLASSES, subjects: SUBJECTS, pupils: PUPILS };
  const { schoolId, journals } = await setUpSchool(api, size, { municipality: "Бенч", log });
  const streamId = (j: SchoolJournal) =>
    `journal-${j.classGroupId}-${j.subjectId}-${YEAR.startYear}`;
  return { schoolId, journals: journals.map((j) => ({ ...j, streamId: streamId(j) })) };
}

await main();
