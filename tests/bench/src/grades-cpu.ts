/**
 * CPU cost of a single-mark RecordMark over gRPC, for profiling on a busy machine where
 * wall-clock rates swing: the grades server runs in its own process (grades-server-process.ts)
 * and the figures are CPU ms per mark of that process (/proc/<pid>/stat), CPU ms per mark of
 * the client, and CPU ms per raw `store.append` in this process — each around a fixed number
 * of operations at CPU_CONCURRENCY in flight, rounds alternating so the ratios share a load.
 *
 *   nice -n 19 npx tsx src/grades-cpu.ts
 *
 * PostgreSQL's share is the CPU of the database's backends (pg_stat_activity, /proc/<pid>/stat)
 * per mark or append; the shared WAL writer and checkpointer are not counted.
 *
 * Knobs: CPU_MARKS (3000 a round), CPU_ROUNDS (3), CPU_CONCURRENCY (64), CPU_JOURNALS (200),
 * CPU_EVENTS (100 a journal; the cold load is bench:grades' business), CPU_PROFILE_DIR (profiles
 * the server during the measured rounds and writes the profile there; read by
 * grades-server-process.ts), DATABASE_URL.
 */
import { randomUUID } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { openGradesDatabase, setUpBenchJournals } from "@otmetka/grades/bench";
import { startTestTokenIssuer } from "@otmetka/testing";
import { type GradesServerProcess, startGradesServerProcess } from "./grades-server-launch.js";
import { BenchScratch, benchLog, knob } from "./lib/bench-env.js";
import { markClient, writerTargets } from "./lib/mark-client.js";
import { backendCpu, backendCpuSince, processCpuMs, selfCpuMs } from "./lib/proc-cpu.js";

const MARKS = knob("CPU_MARKS", 3000);
const ROUNDS = knob("CPU_ROUNDS", 3);
const C = knob("CPU_CONCURRENCY", 64);
const JOURNALS = knob("CPU_JOURNALS", 200);
const EVENTS = knob("CPU_EVENTS", 100);

const log = benchLog("grades-cpu");

/** Exactly `n` operations, `c` in flight; writer w owns the targets t with t % c === w. */
async function runCount(n: number, c: number, op: (target: number) => Promise<void>) {
  let issued = 0;
  const targets = writerTargets(JOURNALS, c, "CPU_JOURNALS");
  const t0 = performance.now();
  await Promise.all(
    targets.map(async (mine) => {
      for (let k = 0; issued < n; k++) {
        issued++;
        await op(mine[k % mine.length] as number);
      }
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

type Server = GradesServerProcess;

/** A server under test with its own school (journals), client and counters. */
interface Subject {
  name: string;
  server: Server;
  client: grpc.Client;
  recordMark(target: number): Promise<void>;
  serverMs: number[];
  clientMs: number[];
  pgMs: number[];
  ratios: number[];
}

/**
 * CPU_SERVERS: `name=root,name=root` (a root is a copy of the workspace packages' dists, e.g.
 * made before a change), so builds are compared in the same run; default: this checkout.
 */
const SERVERS = (process.env.CPU_SERVERS ?? "live=")
  .split(",")
  .map((s) => s.split("=") as [string, string]);

async function main() {
  writerTargets(JOURNALS, Math.max(C, 16), "CPU_JOURNALS");
  const scratch = new BenchScratch();
  const db = await scratch.database("bench_grades_cpu");
  const store = await openGradesDatabase(db.url);
  const issuer = await startTestTokenIssuer();
  const subjects: Subject[] = [];
  let sampleStream = "";
  try {
    for (const [name, root] of SERVERS) {
      const school = await setUpBenchJournals(store, {
        journals: JOURNALS,
        eventsPerJournal: EVENTS,
      });
      sampleStream = school.journals[0]!.streamId;
      const server = await startGradesServerProcess(db.url, issuer.jwksUrl, root || undefined);
      const { client, recordMark } = await markClient(server.port, issuer, school);
      subjects.push({
        name,
        server,
        client,
        recordMark,
        serverMs: [],
        clientMs: [],
        pgMs: [],
        ratios: [],
      });
    }
    const sample = (await store.readStream(sampleStream, { fromVersion: 1, limit: 1 }))[0]?.data;
    const ids = Array.from({ length: JOURNALS }, (_, i) => `raw-${i}-${randomUUID()}`);
    const versions = ids.map(() => 0);
    const rawAppend = async (target: number) => {
      const expected = versions[target] as number;
      await store.append(ids[target] as string, expected === 0 ? "no_stream" : expected, [
        { type: "grades.v1.MarkRecorded", data: { ...(sample as object), markId: randomUUID() } },
      ]);
      versions[target] = expected + 1;
    };
    // Warm: every journal's state cached, connections and JIT warm on every path.
    for (const s of subjects) {
      // The server's first call fetches the JWKS; on a starved machine that can time out.
      for (let attempt = 1; ; attempt++) {
        try {
          await s.recordMark(0);
          break;
        } catch (err) {
          if ((err as { code?: number }).code !== grpc.status.UNAVAILABLE || attempt === 5)
            throw err;
        }
      }
      await runCount(JOURNALS, 16, (t) => s.recordMark(t));
      await runCount(Math.min(MARKS, 1000), C, (t) => s.recordMark(t));
    }
    await runCount(Math.min(MARKS, 1000), C, rawAppend);

    for (const s of subjects) s.server.startMeasuring();
    for (let r = 1; r <= ROUNDS; r++) {
      const r0 = selfCpuMs();
      const rawPg0 = await backendCpu(store.pool);
      const rawRate = await runCount(MARKS, C, rawAppend);
      const rawMs = (selfCpuMs() - r0) / MARKS;
      const rawPgMs = (await backendCpuSince(store.pool, rawPg0)) / MARKS;
      log(
        `round ${r} c=${C}: raw append ${rawMs.toFixed(3)} CPU ms/event (PostgreSQL ${rawPgMs.toFixed(3)}), ${Math.round(rawRate)}/s`,
      );
      for (const s of subjects) {
        // The pool's connections idle out while other subjects run; reopening them (a backend
        // starting, statements prepared again) is no part of a mark's cost.
        await runCount(C, C, (t) => s.recordMark(t));
        const s0 = processCpuMs(s.server.pid);
        const c0 = selfCpuMs();
        const pg0 = await backendCpu(store.pool);
        const markRate = await runCount(MARKS, C, (t) => s.recordMark(t));
        s.serverMs.push((processCpuMs(s.server.pid) - s0) / MARKS);
        s.clientMs.push((selfCpuMs() - c0) / MARKS);
        s.pgMs.push((await backendCpuSince(store.pool, pg0)) / MARKS);
        s.ratios.push(markRate / rawRate);
        log(
          `  ${s.name}: server ${s.serverMs.at(-1)!.toFixed(3)} CPU ms/mark, client ${s.clientMs.at(-1)!.toFixed(3)}, PostgreSQL ${s.pgMs.at(-1)!.toFixed(3)}; ${Math.round(markRate)} marks/s = ${(markRate / rawRate).toFixed(2)} of raw`,
        );
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    for (const s of subjects) {
      s.client.close();
      const { statements, gc, heapMb } = await s.server.stop();
      const marks = ROUNDS * MARKS;
      const gcPart = gc
        ? `; GC ${(gc.ms / marks).toFixed(3)} ms/mark (${gc.majors} major, ${gc.majorMs.toFixed(0)} ms), heap ${heapMb?.toFixed(0)} MB`
        : "";
      log(
        `${s.name}: median server ${median(s.serverMs).toFixed(3)} CPU ms/mark, client ${median(s.clientMs).toFixed(3)}, PostgreSQL ${median(s.pgMs).toFixed(3)}, ratio ${median(s.ratios).toFixed(2)}; ${(statements / marks).toFixed(2)} statements per mark${gcPart}`,
      );
    }
    subjects.length = 0;
  } finally {
    for (const s of subjects) {
      s.client.close();
      await s.server.stop();
    }
    await issuer.stop().catch(() => {});
    await store.close();
    await scratch.cleanup();
  }
}

await main();
