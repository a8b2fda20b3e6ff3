/**
 * npm run bench:grades — single-mark RecordMark over gRPC (token verification, one replica
 * read, decide on the journal's cached state, append with expected version and command
 * record) with 1, 16 and 64 calls in flight, spread over BENCH_JOURNALS (200) journals
 * pre-filled through the bulk path to BENCH_EVENTS (5,000) events each; against the raw
 * event-store append (`store.append(stream, exactVersion, [1 event])` of a MarkRecorded-sized
 * event) at the same concurrency in the same run. Each writer has its own journals (stream)
 * on both sides. Knobs: BENCH_RUNS (3), BENCH_SECONDS (6 per run), BENCH_JOURNALS,
 * BENCH_EVENTS, DATABASE_URL. BENCH_JOURNALS must be at least 64 (a journal per writer).
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { EventStore } from "@otmetka/eventstore";
import { openGradesDatabase, setUpBenchJournals, startBenchServer } from "@otmetka/grades/bench";
import { startTestTokenIssuer } from "@otmetka/testing";
import { startGradesServerProcess } from "./grades-server-launch.js";
import { BenchScratch, benchLog, knob, postgresVersion } from "./lib/bench-env.js";
import { closedLoop, type LoadResult } from "./lib/closed-loop.js";
import { markClient, writerTargets } from "./lib/mark-client.js";
import { backendCpu, backendCpuSince, processCpuMs } from "./lib/proc-cpu.js";
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
const SECONDS = knob("BENCH_SECONDS", 6);
const JOURNALS = knob("BENCH_JOURNALS", 200);
const EVENTS = knob("BENCH_EVENTS", 5000);
const CONCURRENCY = [1, 16, 64];
const SERVER_MODE = process.env.BENCH_GRADES_SERVER ?? "process";

const log = benchLog("grades");

/** `c` writers for `seconds`; writer w owns the targets t with t % c === w (no sharing). */
function runFor(
  c: number,
  seconds: number,
  op: (target: number) => Promise<void>,
): Promise<LoadResult> {
  const targets = writerTargets(JOURNALS, c, "BENCH_JOURNALS");
  return closedLoop(c, seconds, (w, k) => {
    const mine = targets[w] as number[];
    return op(mine[k % mine.length] as number);
  });
}

async function rawStreams(store: EventStore, data: unknown) {
  const versions: number[] = [];
  const ids = Array.from({ length: JOURNALS }, (_, i) => `raw-${i}-${randomUUID()}`);
  for (const id of ids) {
    await store.append(id, "no_stream", [{ type: "grades.v1.MarkRecorded", data }]);
    versions.push(1);
  }
  return async (target: number) => {
    const streamId = ids[target] as string;
    const expected = versions[target] as number;
    await store.append(streamId, expected, [
      { type: "grades.v1.MarkRecorded", data: { ...(data as object), markId: randomUUID() } },
    ]);
    versions[target] = expected + 1;
  };
}

async function main() {
  // Before the minutes of pre-filling: every writer needs journals of its own.
  writerTargets(JOURNALS, Math.max(...CONCURRENCY), "BENCH_JOURNALS");
  const scratch = new BenchScratch();
  const db = await scratch.database("bench_grades");
  const store = await openGradesDatabase(db.url);
  const issuer = await startTestTokenIssuer();
  const figures: Figure[] = [];
  let server: { port: number; pid: number; shutdown(): Promise<unknown> } | undefined;
  const clients: { close(): void }[] = [];
  try {
    const postgres = await postgresVersion(store.pool);
    const t0 = performance.now();
    const school = await setUpBenchJournals(store, {
      journals: JOURNALS,
      eventsPerJournal: EVENTS,
      onProgress: (n) => n % 50 === 0 && log(`pre-filled ${n}/${JOURNALS} journals`),
    });
    const fillSeconds = (performance.now() - t0) / 1000;
    log(
      `pre-filled ${JOURNALS} x ${EVENTS} events in ${fillSeconds.toFixed(1)} s (${Math.round((JOURNALS * EVENTS) / fillSeconds)}/s)`,
    );

    if (SERVER_MODE === "inline") {
      const inline = await startBenchServer(store, issuer.jwksUrl);
      server = { port: inline.port, pid: process.pid, shutdown: () => inline.shutdown() };
    } else {
      const child = await startGradesServerProcess(db.url, issuer.jwksUrl);
      server = { port: child.port, pid: child.pid, shutdown: () => child.stop() };
    }
    const serverPid = server.pid;
    // The figures' load generator is the lean HTTP/2 caller (lib/h2-unary.ts: grpc-js's client
    // costs the shared two cores as much CPU as the server); grpc-js's is measured at 64 too.
    const lean = await markClient(server.port, issuer, school, "h2");
    const grpcJs = await markClient(server.port, issuer, school, "grpc-js");
    clients.push(lean, grpcJs);
    const recordMark = lean.recordMark;

    // Cold: the first mark of each journal loads 5,000 events (and writes its snapshot).
    const tCold = performance.now();
    await Promise.all(
      Array.from({ length: 16 }, async (_, w) => {
        for (let t = w; t < JOURNALS; t += 16) await recordMark(t);
      }),
    );
    const coldMs = (performance.now() - tCold) / JOURNALS;
    log(
      `first mark per journal (load ${EVENTS} events + snapshot): ${coldMs.toFixed(1)} ms per journal at 16 in flight`,
    );

    // A region's journals are long since vacuumed and checkpointed: settle the pre-fill's
    // million rows (visibility map, hint bits, statistics, dirty pages) before measuring, so
    // no run shares the machine with that clean-up (autovacuum is off on the bench machines).
    const tSettle = performance.now();
    await store.pool.query("VACUUM (ANALYZE)");
    await store.pool.query("CHECKPOINT");
    log(
      `vacuum + checkpoint after the pre-fill: ${((performance.now() - tSettle) / 1000).toFixed(1)} s`,
    );

    const sample = (
      await store.readStream(school.journals[0]!.streamId, { fromVersion: 1, limit: 1 })
    )[0]?.data;
    const rawAppend = await rawStreams(store, sample);
    // Warm the raw path's connections and plans too.
    await runFor(16, 1, rawAppend);

    for (const c of CONCURRENCY) {
      const ours: LoadResult[] = [];
      const viaGrpcJs: LoadResult[] = [];
      const base: LoadResult[] = [];
      for (let run = 0; run < RUNS; run++) {
        const cpu0 = processCpuMs(serverPid);
        const pg0 = await backendCpu(store.pool);
        ours.push(await runFor(c, SECONDS, recordMark));
        const marks = ours.at(-1)!.latencies.length;
        const serverCpuMs = (processCpuMs(serverPid) - cpu0) / marks;
        const pgCpuMs = (await backendCpuSince(store.pool, pg0)) / marks;
        const rawPg0 = await backendCpu(store.pool);
        base.push(await runFor(c, SECONDS, rawAppend));
        const rawPgMs = (await backendCpuSince(store.pool, rawPg0)) / base.at(-1)!.latencies.length;
        if (c === 64) viaGrpcJs.push(await runFor(c, SECONDS, grpcJs.recordMark));
        const viaJs = viaGrpcJs[run];
        const grpcJsPart = viaJs ? `; with grpc-js's client ${Math.round(viaJs.rate)}/s` : "";
        log(
          `c=${c} run ${run + 1}: RecordMark ${Math.round(ours.at(-1)!.rate)}/s (p50 ${percentileAtIndex(ours.at(-1)!.latencies, 50).toFixed(1)} ms, p99 ${percentileAtIndex(ours.at(-1)!.latencies, 99).toFixed(1)} ms, ${SERVER_MODE === "inline" ? "bench process (server and client)" : "server process"} ${serverCpuMs.toFixed(2)} CPU ms a mark, PostgreSQL ${pgCpuMs.toFixed(2)}); append ${Math.round(base.at(-1)!.rate)}/s (PostgreSQL ${rawPgMs.toFixed(2)} CPU ms an append)${grpcJsPart}`,
        );
      }
      const p = (m: LoadResult[], q: number) => m.map((x) => percentileAtIndex(x.latencies, q));
      figures.push(
        figure({
          id: `record_mark_c${c}`,
          unit: "marks/s",
          runs: ours.map((m) => m.rate),
          baseline: { id: `eventstore_append_c${c}`, runs: base.map((m) => m.rate) },
          goal: c === 64 ? 0.5 : null,
          note: `${JOURNALS} journals x ${EVENTS} events, server ${SERVER_MODE}, lean HTTP/2 load generator`,
        }),
        ...(viaGrpcJs.length > 0
          ? [
              figure({
                id: `record_mark_grpcjs_c${c}`,
                unit: "marks/s",
                runs: viaGrpcJs.map((m) => m.rate),
                baseline: { id: `eventstore_append_c${c}`, runs: base.map((m) => m.rate) },
                note: "the same load through grpc-js's generated client (its CPU shares the cores)",
              }),
            ]
          : []),
        baselineFigure(
          `eventstore_append_c${c}`,
          "events/s",
          base.map((m) => m.rate),
          "store.append, exact version",
        ),
        figure({
          id: `record_mark_p50_c${c}`,
          unit: "ms",
          runs: p(ours, 50),
          baseline: { id: `eventstore_append_p50_c${c}`, runs: p(base, 50) },
          higherIsBetter: false,
        }),
        figure({
          id: `record_mark_p99_c${c}`,
          unit: "ms",
          runs: p(ours, 99),
          baseline: { id: `eventstore_append_p99_c${c}`, runs: p(base, 99) },
          higherIsBetter: false,
        }),
      );
    }
    figures.push(
      figure({
        id: "first_mark_cold_journal",
        unit: "ms",
        runs: [coldMs],
        note: `load ${EVENTS} events + snapshot, 16 in flight`,
      }),
    );
    figures.push(
      figure({ id: "prefill_bulk", unit: "events/s", runs: [(JOURNALS * EVENTS) / fillSeconds] }),
    );
    process.stdout.write(`${formatTable(figures)}\n`);
    const path = writeResults("grades", machine({ postgres }), figures);
    log(`results in ${path}`);
  } finally {
    for (const c of clients) c.close();
    await server?.shutdown().catch(() => {});
    await issuer.stop().catch(() => {});
    await store.close();
    await scratch.cleanup();
  }
}

await main();
